/**
 * One SMTP connection through the rspamd filter: collects the envelope and the message, asks rspamd
 * at end of message and turns its answer into the reply and changes. Any failure to get a usable
 * answer gives `on_fail` with one log line.
 */
import type { RspamdOptions } from '../../config/builtins/rspamd.js';
import type { EndOfMessageResult } from '../../mail/changes.js';
import type { ConnectionInfo } from '../../mail/connection.js';
import type { StageHandlers } from '../../mail/define-filter.js';
import type { SessionContext } from '../../mail/filter.js';
import type { Logger } from '../../mail/logger.js';
import { ACCEPT, CONTINUE, tempfail, type Reply } from '../../mail/reply.js';
import { CollectedMessage } from '../shared/message.js';
import { RspamdTransportError, type RspamdTarget } from './client.js';
import type { NetworkList } from '../../mail/network-list.js';
import { parseCheckReply } from './reply.js';
import { requestHeaders, type RequestHeaders } from './request.js';
import { TEMPFAIL_CODE, verdictFor, type MessageHeaders } from './verdict.js';

/** Sends one message to /checkv2 and resolves to the answer's body (client.ts's postCheckV2). */
export type CheckFunction = (target: RspamdTarget, headers: RequestHeaders, message: Buffer, opts: { timeoutMs: number }) => Promise<Buffer>;

export interface SessionDeps {
  readonly options: RspamdOptions;
  readonly networks: NetworkList;
  readonly logger: Logger;
  readonly check: CheckFunction;
}

interface MessageState {
  readonly sender: string;
  readonly recipients: string[];
  readonly user: string | undefined;
  readonly message: CollectedMessage;
}

export function rspamdSession(deps: SessionDeps): StageHandlers {
  const { options, logger } = deps;
  const target: RspamdTarget = { url: options.url, ...(options.socket === undefined ? {} : { socket: options.socket }) };
  let connection: ConnectionInfo | undefined;
  let helo: string | undefined;
  let current: MessageState | undefined;

  const newMessage = (sender: string, user: string | undefined): MessageState => ({
    sender,
    recipients: [],
    user,
    message: new CollectedMessage(options.maxSize),
  });

  /** Past max_size: the message passes unscanned (accept ends this filter's part of it). */
  const tooLarge = (m: MessageState): Reply => {
    logger.info({ size: m.message.size, maxSize: options.maxSize }, `rspamd: message larger than max_size (${options.maxSize} bytes), passed unscanned`);
    current = undefined;
    return ACCEPT;
  };

  const failed = (why: string, fields: Record<string, unknown>): EndOfMessageResult => {
    const reply = options.onFail === 'tempfail' ? tempfail(TEMPFAIL_CODE, '4.7.1', options.tempfailMessage) : ACCEPT;
    logger.warn({ ...fields, onFail: options.onFail }, `rspamd: ${why}; on_fail = ${options.onFail}`);
    return { reply, changes: [] };
  };

  return {
    connect(info: ConnectionInfo): Reply {
      connection = info;
      if ((info.family === 'inet' || info.family === 'inet6') && deps.networks.has(info.address)) {
        logger.debug({ address: info.address }, 'rspamd: client in skip_networks, not scanned');
        return ACCEPT;
      }
      return CONTINUE;
    },
    helo(name: string): Reply {
      helo = name;
      return CONTINUE;
    },
    mail(sender: string, _args: readonly string[], ctx: SessionContext): Reply {
      const user = ctx.macros.get('{auth_authen}');
      current = newMessage(sender, user === '' ? undefined : user);
      if (options.skipAuthenticated && current.user !== undefined) {
        logger.debug({ user: current.user }, 'rspamd: authenticated sender, not scanned (skip_authenticated)');
        current = undefined;
        return ACCEPT;
      }
      return CONTINUE;
    },
    rcpt(recipient: string): Reply {
      current?.recipients.push(recipient);
      return CONTINUE;
    },
    header(name: string, value: string): Reply {
      if (!current) return CONTINUE;
      current.message.addHeader(name, value);
      return current.message.complete ? CONTINUE : tooLarge(current);
    },
    body(chunk: Buffer): Reply {
      if (!current) return CONTINUE;
      current.message.addBody(chunk);
      return current.message.complete ? CONTINUE : tooLarge(current);
    },
    async endOfMessage(ctx: SessionContext): Promise<EndOfMessageResult> {
      const m = current;
      current = undefined;
      if (!m) return { reply: ACCEPT, changes: [] };
      if (!m.message.complete) return { reply: tooLarge(m), changes: [] };
      const queueId = ctx.macros.get('i');
      const headers = requestHeaders(
        {
          ...(connection ? { connection } : {}),
          ...(helo === undefined ? {} : { helo }),
          sender: m.sender,
          recipients: m.recipients,
          ...(queueId === undefined ? {} : { queueId }),
          ...(m.user === undefined ? {} : { user: m.user }),
          ...mtaName(ctx),
        },
        { passAll: options.passAll, ...(options.password === undefined ? {} : { password: options.password }) },
      );
      const started = Date.now();
      let body: Buffer;
      try {
        body = await deps.check(target, headers, m.message.toBuffer(), { timeoutMs: options.timeoutSeconds * 1000 });
      } catch (err) {
        const reason = err instanceof RspamdTransportError ? err.reason : 'error';
        const detail = err instanceof RspamdTransportError && err.body ? `${err.message}: ${err.body}` : (err as Error).message;
        return failed(`cannot check the message (${detail})`, { reason, queueId });
      }
      const parsed = parseCheckReply(body);
      if (!parsed.ok) return failed(`unusable answer (${parsed.error.detail})`, { reason: parsed.error.reason, queueId });
      const r = parsed.reply;
      const verdict = verdictFor(r, messageHeaders(m.message), options);
      // A clean message at debug: the manager's statistics line is the one info line per session.
      logger[r.action === 'no action' ? 'debug' : 'info'](
        { action: r.action, score: r.score, required: r.requiredScore, outcome: verdict.outcome, queueId, ms: Date.now() - started },
        `rspamd: ${r.action}${r.score === undefined ? '' : ` (${r.score.toFixed(2)} / ${(r.requiredScore ?? 0).toFixed(2)})`} → ${verdict.outcome}`,
      );
      return { reply: verdict.reply, changes: verdict.changes };
    },
    abort(): void {
      current = undefined;
    },
  };
}

/** `{daemon_name}` (Postfix) or `{j}` (Sendmail), as rspamd's milter sends MTA-Name. */
function mtaName(ctx: SessionContext): { mtaName?: string } {
  const name = ctx.macros.get('{daemon_name}') ?? ctx.macros.get('j');
  return name === undefined || name === '' ? {} : { mtaName: name };
}

function messageHeaders(message: CollectedMessage): MessageHeaders {
  const subject = message.values('Subject')[0];
  return {
    count: (name) => message.values(name).length,
    total: message.headers.length,
    ...(subject === undefined ? {} : { subject }),
  };
}
