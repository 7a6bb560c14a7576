/**
 * One SMTP connection through the greylist filter (milter-greylist's real_connect … real_eom):
 * global bypasses, racl at each RCPT with the tuple life cycle, dacl and the X-Greylist header at
 * end of message.
 */
import type { Change } from '../../mail/changes.js';
import type { ConnectionInfo } from '../../mail/connection.js';
import type { StageHandlers } from '../../mail/define-filter.js';
import type { SessionContext } from '../../mail/filter.js';
import type { Logger } from '../../mail/logger.js';
import { CONTINUE, type Reply } from '../../mail/reply.js';
import type { GreylistStore } from '../../store/greylist/store.js';
import type { SpfChecker, SpfResult } from '../shared/spf.js';
import type { AclDecision, AclEngine, AclSettings } from './acl.js';
import type { GreylistConf } from './conf/ast.js';
import type { AclFacts, MessageFacts } from './facts.js';
import { checkTuple, type LifecycleSettings } from './lifecycle.js';
import {
  blacklistReply,
  delayedText,
  expand,
  greylistReply,
  HEADER_NAME,
  notDelayedText,
  type FormatValues,
  type NotDelayedReason,
} from './report.js';
import { bareAddress, makeTuple } from './tuple.js';

export interface GreylistRuntime {
  readonly conf: GreylistConf;
  readonly engine: AclEngine;
  readonly store: GreylistStore;
  readonly spf: SpfChecker;
  readonly now: () => number;
  readonly logger: Logger;
  /** Whether the filter asked for headers and body (a dacl tests header, body or msgsize). */
  readonly collectsMessage: boolean;
  /** Called on every RCPT so expired entries are purged now and then. */
  readonly maybePurge: () => void;
}

interface MessageState {
  sender: string;
  /** Recipients let through (bare addresses). */
  recipients: string[];
  /** Set at MAIL when a global bypass applies to the whole message. */
  bypass: NotDelayedReason | undefined;
  /** Why recipients were not delayed (for X-Greylist). */
  reasons: Set<NotDelayedReason>;
  /** The ACL that whitelisted (for "ACL n matched" and its report text). */
  whitelistAcl: AclDecision | undefined;
  /** Some recipient whitelisted by an ACL (without multiracl the rest follow). */
  aclWhitelisted: boolean;
  /** Some recipient went through the tuple check at RCPT (a dacl then cannot greylist again). */
  tupleChecked: boolean;
  /** Longest delay any recipient went through, ms. */
  maxElapsedMs: number;
  /** delayedreject: the tempfail owed for the null sender, given at end of message. */
  owed: Reply | undefined;
  /** The settings of the last deciding ACL (report text). */
  settings: AclSettings;
  headers: { name: string; value: string }[];
  body: Buffer[];
  bodySize: number;
  spf: Promise<SpfResult> | undefined;
}

export function greylistSession(rt: GreylistRuntime): StageHandlers {
  const { conf, engine, store, now } = rt;
  let info: ConnectionInfo = { hostname: 'unknown', family: 'unknown' };
  let helo = '';
  let msg: MessageState = freshMessage('');

  const address = (): string | undefined => (info.family === 'inet' || info.family === 'inet6') && info.address ? info.address : undefined;

  const lifecycle = (s: AclSettings): LifecycleSettings => ({
    delayMs: (s.delay ?? conf.greylist) * 1000,
    autowhiteMs: (s.autowhite ?? conf.autowhite) * 1000,
    timeoutMs: conf.timeout * 1000,
    lazyaw: conf.flags.lazyaw,
  });

  const facts = (ctx: SessionContext, recipient: string | undefined, message: MessageFacts | undefined): AclFacts => ({
    address: address(),
    hostname: info.hostname,
    helo,
    sender: msg.sender,
    recipient,
    recipients: msg.recipients,
    macros: ctx.macros,
    message,
    spf: () => {
      const ip = address();
      if (ip === undefined) return Promise.resolve('none');
      msg.spf ??= rt.spf({ ip, helo, sender: msg.sender }).then((o) => o.result);
      return msg.spf;
    },
  });

  const values = (ctx: SessionContext, extra: Partial<FormatValues> = {}): FormatValues => ({
    sender: msg.sender === '' ? '<>' : `<${msg.sender}>`,
    address: address() ?? '',
    hostname: info.hostname,
    macros: ctx.macros,
    now: now(),
    ...extra,
  });

  const whitelisted = (decision: AclDecision): void => {
    msg.aclWhitelisted = true;
    msg.whitelistAcl = decision;
    msg.settings = decision.settings;
    for (const kind of decision.matched) msg.reasons.add(kind === 'other' ? 'acl' : kind);
  };

  return {
    connect(connection) {
      info = connection;
      return CONTINUE;
    },

    helo(name) {
      helo = name;
      return CONTINUE;
    },

    async mail(sender, _args, ctx) {
      msg = freshMessage(bareAddress(sender));
      if (address() === undefined) {
        msg.bypass = 'nonip';
        return CONTINUE;
      }
      const authBypass = !conf.flags.noauth && !engine.usesAuthOrTls;
      if (authBypass && ctx.macros.get('{auth_authen}') !== undefined) msg.bypass = 'authbypass';
      else if (authBypass && ctx.macros.get('{verify}') === 'OK' && ctx.macros.get('{cert_subject}') !== undefined) msg.bypass = 'starttls';
      else if (!conf.flags.nospf && !engine.usesSpf && (await facts(ctx, undefined, undefined).spf()) === 'pass') msg.bypass = 'spf';
      return CONTINUE;
    },

    async rcpt(recipient, _args, ctx) {
      rt.maybePurge();
      const rcpt = bareAddress(recipient);
      const ip = address();
      const accept = (reason?: NotDelayedReason): Reply => {
        if (reason !== undefined) msg.reasons.add(reason);
        msg.recipients.push(rcpt);
        return CONTINUE;
      };
      if (msg.bypass !== undefined || ip === undefined) return accept(msg.bypass ?? 'nonip');
      const accessDb = ctx.macros.get('{greylist}');
      if (!conf.flags.noaccessdb && (accessDb === 'WHITE' || accessDb === 'RELAY' || accessDb === 'OK')) return accept('accessdb');
      if (msg.aclWhitelisted && !conf.flags.multiracl) return accept();

      const decision = await engine.evaluate('rcpt', facts(ctx, rcpt, undefined));
      const logFields = { client: ip, from: msg.sender, rcpt, acl: decision.acl?.id ?? decision.acl?.line ?? 'default' };
      if (decision.action === 'whitelist') {
        whitelisted(decision);
        return accept();
      }
      if (decision.action === 'blacklist') {
        rt.logger.info(logFields, 'greylist: blacklisted');
        return blacklistReply(decision.settings, values(ctx, { recipient: `<${rcpt}>`, acl: decision.acl }));
      }
      const tuple = makeTuple(ip, msg.sender, rcpt, conf.subnetmatch, conf.subnetmatch6);
      const verdict = await checkTuple(store, tuple, lifecycle(decision.settings), now());
      msg.tupleChecked = true;
      msg.settings = decision.settings;
      if (verdict.kind === 'autowhite') return accept('auto');
      if (verdict.kind === 'matured') {
        msg.maxElapsedMs = Math.max(msg.maxElapsedMs, verdict.elapsedMs);
        rt.logger.info({ ...logFields, delayedS: Math.floor(verdict.elapsedMs / 1000) }, 'greylist: retry after the delay, auto-whitelisted');
        return accept();
      }
      const reply = greylistReply(decision.settings, conf.flags.quiet, values(ctx, {
        recipient: `<${rcpt}>`,
        acl: decision.acl,
        remainingS: Math.ceil(verdict.remainingMs / 1000),
      }));
      if (conf.flags.delayedreject && msg.sender === '') {
        // The null sender's tempfail waits until DATA (so one bounce is not refused per recipient).
        msg.owed = reply;
        msg.recipients.push(rcpt);
        return CONTINUE;
      }
      rt.logger.info({ ...logFields, remainingS: Math.ceil(verdict.remainingMs / 1000), first: verdict.first }, 'greylist: delayed');
      return reply;
    },

    header(name, value) {
      if (rt.collectsMessage) msg.headers.push({ name, value });
      return CONTINUE;
    },

    body(chunk) {
      if (rt.collectsMessage) {
        msg.body.push(Buffer.from(chunk));
        msg.bodySize += chunk.length;
      }
      return CONTINUE;
    },

    // delayedreject: milter-greylist refuses the null sender at DATA, before the client sends the body.
    data() {
      return msg.owed ?? CONTINUE;
    },

    async endOfMessage(ctx) {
      if (msg.owed !== undefined) return { reply: msg.owed, changes: [] };
      const ip = address();
      if (engine.hasDataAcls && ip !== undefined && msg.bypass === undefined) {
        const decision = await engine.evaluate('data', facts(ctx, undefined, messageFacts(msg)));
        if (decision.action === 'blacklist') {
          rt.logger.info({ client: ip, from: msg.sender, acl: decision.acl?.id ?? decision.acl?.line }, 'greylist: blacklisted at DATA');
          return { reply: blacklistReply(decision.settings, values(ctx, { acl: decision.acl })), changes: [] };
        }
        if (decision.action === 'whitelist' && decision.acl !== undefined) whitelisted(decision);
        if (decision.action === 'greylist' && !msg.tupleChecked) {
          const owed = await greylistAtData(decision, ip, ctx);
          if (owed !== undefined) return { reply: owed, changes: [] };
        }
      }
      const header = xGreylist(ctx);
      const changes: Change[] = header === undefined ? [] : [{ kind: 'addHeader', name: HEADER_NAME, value: header }];
      return { reply: CONTINUE, changes };
    },

    abort() {
      msg = freshMessage('');
    },
  };

  /** A dacl greylist: every recipient's tuple is checked; one still pending tempfails the message. */
  async function greylistAtData(decision: AclDecision, ip: string, ctx: SessionContext): Promise<Reply | undefined> {
    let remainingMs = 0;
    let elapsedMs = 0;
    for (const rcpt of msg.recipients) {
      const tuple = makeTuple(ip, msg.sender, rcpt, conf.subnetmatch, conf.subnetmatch6);
      const v = await checkTuple(store, tuple, lifecycle(decision.settings), now());
      if (v.kind === 'pending') remainingMs = Math.max(remainingMs, v.remainingMs);
      else if (v.kind === 'matured') elapsedMs = Math.max(elapsedMs, v.elapsedMs);
      else msg.reasons.add('auto');
    }
    msg.settings = decision.settings;
    if (remainingMs > 0) {
      rt.logger.info({ client: ip, from: msg.sender, remainingS: Math.ceil(remainingMs / 1000) }, 'greylist: delayed at DATA');
      return greylistReply(decision.settings, conf.flags.quiet, values(ctx, { acl: decision.acl, remainingS: Math.ceil(remainingMs / 1000) }));
    }
    msg.maxElapsedMs = Math.max(msg.maxElapsedMs, elapsedMs);
    return undefined;
  }

  /** The X-Greylist value milter-greylist would add, or undefined when `report` says none. */
  function xGreylist(ctx: SessionContext): string | undefined {
    const v = values(ctx, { elapsedS: Math.floor(msg.maxElapsedMs / 1000), acl: msg.whitelistAcl?.acl });
    if (msg.maxElapsedMs > 0) {
      if (conf.report !== 'all' && conf.report !== 'delays') return undefined;
      return msg.settings.report !== undefined ? expand(msg.settings.report, v) : delayedText(v);
    }
    if (conf.report !== 'all' && conf.report !== 'nodelays') return undefined;
    if (msg.whitelistAcl?.settings.report !== undefined) return expand(msg.whitelistAcl.settings.report, v);
    return notDelayedText(msg.reasons, msg.whitelistAcl?.acl, v);
  }
}

function freshMessage(sender: string): MessageState {
  return {
    sender,
    recipients: [],
    bypass: undefined,
    reasons: new Set(),
    whitelistAcl: undefined,
    aclWhitelisted: false,
    tupleChecked: false,
    maxElapsedMs: 0,
    owed: undefined,
    settings: {},
    headers: [],
    body: [],
    bodySize: 0,
    spf: undefined,
  };
}

function messageFacts(msg: MessageState): MessageFacts {
  const body = Buffer.concat(msg.body).toString('utf8');
  const headerBytes = msg.headers.reduce((n, h) => n + Buffer.byteLength(`${h.name}: ${h.value}\r\n`), 0) + 2;
  return { headers: msg.headers, body, size: headerBytes + msg.bodySize };
}
