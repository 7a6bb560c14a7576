/**
 * One SMTP connection through the auth filter: SPF at MAIL FROM, then at end of message either DKIM
 * signing (our own clients, a configured From: domain) or DKIM/DMARC verification with an
 * Authentication-Results field, forged copies of ours removed first.
 */
import type { SenderAuthOptions } from '../../config/builtins/sender-auth.js';
import type { Change, EndOfMessageResult } from '../../mail/changes.js';
import type { ConnectionInfo } from '../../mail/connection.js';
import type { SessionContext } from '../../mail/filter.js';
import { CONTINUE, type Reply } from '../../mail/reply.js';
import type { FilterContext } from '../context.js';
import { CollectedMessage } from '../shared/message.js';
import type { SpfOutcome } from '../shared/spf.js';
import { authenticationResults, type ResultRow } from './auth-results.js';
import { dmarcAction } from './dmarc-action.js';
import { authservIdOf, envelopeAddress, fromDomains } from './header-syntax.js';
import type { NetworkList } from '../../mail/network-list.js';
import { rawMessage } from './raw-message.js';
import { signMessage } from './sign.js';
import type { SigningKey } from './signing-keys.js';
import { spfReply } from './spf-at-mail.js';
import { spfExplanation } from './spf-explanation.js';
import { verifyMessage } from './verify.js';
import { timerDelay } from '../../config/timer-limit.js';

/** Signatures verified per message at most (opendkim's MaximumSignaturesToVerify is 3). */
export const MAX_SIGNATURES = 5;

const AR = 'Authentication-Results';

/** What every session of one filter shares. */
export interface AuthSetup {
  readonly options: SenderAuthOptions;
  readonly authservId: string;
  /** Lower-case domain → key. */
  readonly keys: ReadonlyMap<string, SigningKey>;
  readonly signNetworks: NetworkList;
  readonly spfSkipNetworks: NetworkList;
  readonly ctx: FilterContext;
  /** For DMARC pct= sampling; [0, 1). */
  readonly random: () => number;
}

export class AuthSession {
  /** Set by negotiation: header values arrive (and must be sent) with their leading space. */
  leadingSpace = false;
  private ip: string | undefined;
  private local = false;
  private heloName = '';
  private authenticated = false;
  private nullSender = false;
  private spf: SpfOutcome | undefined;
  private message: CollectedMessage | undefined;

  constructor(private readonly setup: AuthSetup) {}

  connect(info: ConnectionInfo): Reply {
    this.ip = (info.family === 'inet' || info.family === 'inet6') && info.address ? info.address : undefined;
    this.local = info.family === 'unix';
    return CONTINUE;
  }

  helo(name: string): Reply {
    this.heloName = name.trim();
    return CONTINUE;
  }

  async mail(sender: string, _args: readonly string[], sctx: SessionContext): Promise<Reply> {
    const { options, ctx } = this.setup;
    this.spf = undefined;
    this.message = new CollectedMessage(options.maxMessageSize, this.leadingSpace);
    this.authenticated = (sctx.macros.get('{auth_authen}') ?? '') !== '';
    if (!options.spf || this.ip === undefined) return CONTINUE;
    if (this.authenticated && options.skipAuthenticated) return CONTINUE;
    if (this.setup.spfSkipNetworks.has(this.ip)) return CONTINUE;
    const query = { ip: this.ip, helo: this.heloName, sender: envelopeAddress(sender) };
    this.nullSender = query.sender === '';
    // check_timeout bounds the check and the explanation together, so MAIL is answered within it.
    const deadline = Date.now() + options.checkTimeout * 1000;
    const outcome = await this.checkSpf(query);
    this.spf = outcome;
    const reply = await spfReply(
      outcome,
      { rejectFail: options.spfRejectFail, rejectPermerror: options.spfRejectPermerror, deferTemperror: options.spfDeferTemperror },
      () =>
        spfExplanation(outcome.record, query, outcome.mailFrom ?? query.sender, ctx.resolver, this.setup.authservId, Math.max(1, deadline - Date.now())),
    );
    if (reply.status !== 'continue') {
      ctx.logger.info({ spf: outcome.result, sender: query.sender, ip: query.ip, helo: query.helo, queueId: sctx.macros.get('i') }, `SPF ${outcome.result}: MAIL FROM refused`);
    }
    return reply;
  }

  header(name: string, value: string): Reply {
    this.message?.addHeader(name, value);
    return CONTINUE;
  }

  body(chunk: Buffer): Reply {
    this.message?.addBody(chunk);
    return CONTINUE;
  }

  async endOfMessage(sctx: SessionContext): Promise<EndOfMessageResult> {
    const { options } = this.setup;
    const message = this.message ?? new CollectedMessage(options.maxMessageSize, this.leadingSpace);
    const changes: Change[] = [];
    if (options.verify) changes.push(...this.forgedResults(message));

    const key = this.signingKey(message);
    const queueId = sctx.macros.get('i');
    let reply: Reply = CONTINUE;
    if (key !== undefined) {
      changes.push(...(await this.sign(message, key, queueId)));
    } else if (options.verify && !(this.authenticated && options.skipAuthenticated)) {
      const verdict = await this.verify(message, queueId);
      changes.push(this.inserted(AR, verdict.value));
      if (verdict.action.kind === 'reject') reply = verdict.action.reply;
      if (verdict.action.kind === 'quarantine') changes.push({ kind: 'quarantine', reason: verdict.action.reason });
    }
    if (options.receivedSpfHeader && this.spf !== undefined) changes.push(this.inserted('Received-SPF', this.spf.receivedSpf));
    this.message = undefined;
    // A refused message carries no changes (the MTA would ignore them).
    return reply.status === 'continue' ? { reply, changes } : { reply, changes: [] };
  }

  abort(): void {
    this.message = undefined;
  }

  private async checkSpf(query: { ip: string; helo: string; sender: string }): Promise<SpfOutcome> {
    const { ctx, options } = this.setup;
    const timeoutMs = options.checkTimeout * 1000;
    let timer: NodeJS.Timeout | undefined;
    const temperror = (why: string): SpfOutcome => ({
      result: 'temperror',
      receivedSpf: `temperror (${why}) client-ip=${query.ip};`,
      domain: query.sender.slice(query.sender.lastIndexOf('@') + 1).toLowerCase(),
      mailFrom: query.sender,
      comment: why,
    });
    try {
      return await Promise.race([
        ctx.spf(query),
        new Promise<SpfOutcome>((resolve) => {
          timer = setTimeout(() => resolve(temperror(`no SPF answer within ${timeoutMs} ms`)), timerDelay(timeoutMs));
        }),
      ]);
    } catch (err) {
      ctx.logger.warn({ err: (err as Error).message, sender: query.sender }, 'SPF check failed; reported as temperror');
      return temperror('SPF check failed');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Our own authserv-id on an incoming field is forged (RFC 8601 §5): delete, last first so indexes hold. */
  private forgedResults(message: CollectedMessage): Change[] {
    const ours = this.setup.authservId.toLowerCase();
    const indexes = message
      .values(AR)
      .map((value, i) => (authservIdOf(value) === ours ? i + 1 : 0))
      .filter((i) => i > 0);
    if (indexes.length > 0) this.setup.ctx.logger.info({ count: indexes.length }, `removed ${indexes.length} forged ${AR} field(s) carrying our authserv-id`);
    return indexes.reverse().map((index) => ({ kind: 'deleteHeader', index, name: AR }));
  }

  /** The key to sign with: our client (network or AUTH) and a From: domain we hold a key for. */
  private signingKey(message: CollectedMessage): SigningKey | undefined {
    const { keys, options, signNetworks } = this.setup;
    if (keys.size === 0) return undefined;
    const ours = (this.authenticated && options.signAuthenticated) || this.local || signNetworks.has(this.ip);
    if (!ours) return undefined;
    const domains = new Set(message.values('From').flatMap(fromDomains));
    if (domains.size !== 1) return undefined;
    return keys.get([...domains][0]!);
  }

  private async sign(message: CollectedMessage, key: SigningKey, queueId: string | undefined): Promise<Change[]> {
    const { ctx, options } = this.setup;
    if (!message.complete) {
      ctx.logger.warn({ size: message.size, limit: options.maxMessageSize, queueId }, 'message larger than max_message_size: not DKIM-signed');
      return [];
    }
    try {
      const raw = rawMessage(message.headers.all, message.body(), this.leadingSpace);
      const signature = await signMessage(raw, key, ctx.now());
      ctx.logger.debug({ domain: key.domain, selector: key.selector, queueId }, 'DKIM-signed');
      return [this.inserted('DKIM-Signature', signature.value)];
    } catch (err) {
      ctx.logger.error({ domain: key.domain, err: (err as Error).message, queueId }, 'DKIM signing failed; message passed unsigned');
      return [];
    }
  }

  private async verify(message: CollectedMessage, queueId: string | undefined): Promise<{ value: string; action: ReturnType<typeof dmarcAction> }> {
    const { ctx, options, authservId } = this.setup;
    const rows: ResultRow[] = [];
    if (this.spf !== undefined) rows.push(spfRow(this.spf, this.heloName, this.nullSender));
    if (!message.complete) {
      ctx.logger.info({ size: message.size, limit: options.maxMessageSize, queueId }, 'message larger than max_message_size: DKIM and DMARC not checked');
      rows.push({ method: 'dkim', result: 'neutral', comment: 'message too large to verify' });
      return { value: authenticationResults(authservId, rows), action: { kind: 'none' } };
    }
    const outcome = await verifyMessage({
      raw: rawMessage(message.headers.all, message.body(), this.leadingSpace, MAX_SIGNATURES),
      resolver: ctx.resolver,
      minKeyBits: options.minKeyBits,
      now: ctx.now(),
      timeoutMs: options.checkTimeout * 1000,
      signatureFields: Math.min(MAX_SIGNATURES, message.values('DKIM-Signature').length),
      ...(this.spf === undefined ? {} : { spf: { result: this.spf.result, domain: this.spf.domain } }),
    });
    rows.push(...outcome.rows);
    const action = options.dmarcReject ? dmarcAction(outcome.dmarc, this.setup.random) : ({ kind: 'none' } as const);
    const summary = Object.fromEntries(rows.map((r) => [r.method, r.result]));
    const line = { ...summary, from: outcome.dmarc?.fromDomain, action: action.kind, queueId, ...(outcome.error ? { error: outcome.error } : {}) };
    if (outcome.error) ctx.logger.warn(line, `DKIM/DMARC not checked: ${outcome.error}`);
    // Every message: debug, so the manager's statistics line stays the one info line per session.
    else ctx.logger.debug(line, 'authentication results');
    return { value: authenticationResults(authservId, rows), action };
  }

  private inserted(name: string, value: string): Change {
    return { kind: 'insertHeader', index: 0, name, value: this.leadingSpace ? ` ${value}` : value };
  }
}

function spfRow(spf: SpfOutcome, helo: string, nullSender: boolean): ResultRow {
  const mailFrom = spf.mailFrom ?? '';
  return {
    method: 'spf',
    result: spf.result,
    ...(spf.comment === undefined ? {} : { comment: spf.comment }),
    props: nullSender ? [['smtp.helo', helo]] : [['smtp.mailfrom', mailFrom]],
  };
}
