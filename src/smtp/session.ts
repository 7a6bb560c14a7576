/**
 * One SMTP connection of our MTA driven through the chain, stage by stage, as Postfix's smtpd drives its
 * milters: our own checks first at each command (AUTH required, rate, sender ownership, recipient syntax,
 * relay decision, unknown users), then the chain with Postfix's macros; at end of message the message as
 * received, with our Received field hidden on top, goes through the chain's message stages, its net
 * changes are applied by the message editor (Postfix's cleanup), and the result goes to the Spool. The
 * 250 is sent only once the Spool has it on disk.
 *
 * smtp-server has no hook for HELO and answers DATA with 354 before asking anyone: command-hooks.ts adds
 * both, so the chain hears HELO and DATA when Postfix's milters do and its refusal is the reply to them.
 *
 * Bad input, as Postfix takes it: 8-bit data without BODY=8BITMIME and NUL bytes are kept as they are
 * (Postfix's defaults reject no characters), a bare LF is a line end (line-ends.ts), a body line of any
 * length is kept; smtp-server limits command lines (16 KiB: longer ones get 421 and the connection ends).
 * The message size is checked on the bytes received as well as on SIZE=: past the limit the rest is read
 * and dropped, and the answer is 552 5.3.4 (a limit of 0 is none). Header text past header_size_limit is
 * dropped, and a message with more than hopcount_limit Received:/Delivered-To: fields is refused
 * (message-limits.ts), as Postfix's cleanup does.
 */
import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { applyChanges } from '../mail/apply-changes.js';
import { FULL_OFFER } from '../mail/capabilities.js';
import type { EndOfMessageResult } from '../mail/changes.js';
import { bareAddress } from '../mail/envelope.js';
import type { Capabilities, Filter, FilterSession, SessionContext } from '../mail/filter.js';
import { HeaderList } from '../mail/header-list.js';
import type { Logger } from '../mail/logger.js';
import { MessageReader } from '../mail/message-reader.js';
import { Message } from '../mail/message.js';
import { CONTINUE, type Reply } from '../mail/reply.js';
import type { Accounts, Resolution } from '../store/accounts/accounts.js';
import type { DsnNotify, QueuedRecipient, Spool, SpoolInput } from '../store/spool.js';
import { isPathError, parsePath, type ParsedPath } from './address.js';
import type { AuthFailures } from '../mail/client-limits.js';
import type { MessageRate } from './client-limits.js';
import { LineEndNormalizer } from './line-ends.js';
import { CommandCounts, clientText, rejectLine } from './log-lines.js';
import { SessionMacros } from './macros.js';
import { HEADER_SIZE_LIMIT, HOPCOUNT_LIMIT, hopCount } from './message-limits.js';
import type { Networks } from './network-memo.js';
import { receivedHeader } from './received.js';
import { relayDecision } from './relay-policy.js';
import { chainRefusal, isRefusal, replyLine, smtpError, type SmtpReply } from './replies.js';

/**
 * Fields dropped from what a client sends, before the chain sees the message: Postfix's default
 * message_drop_headers. A client's Return-Path would pass for the envelope sender below the one local
 * delivery writes; a Bcc would show the recipients meant to stay hidden.
 */
const DROPPED_HEADERS = new Set(['bcc', 'content-length', 'resent-bcc', 'return-path']);

export type ListenerKind = 'mx' | 'submission' | 'submissions';

/** What every session of one listener shares. */
export interface SessionSettings {
  readonly hostname: string;
  readonly kind: ListenerKind;
  readonly mynetworks: Networks;
  /** AUTH is required before MAIL (submission). */
  readonly requireAuth: boolean;
  readonly authFailureLimit: number;
  readonly bodyMemoryLimit?: number;
}

export interface SessionDeps {
  /** The chain (or the reloadable chain the manager serves): one session of it per SMTP connection. */
  readonly chain: Filter;
  readonly accounts: Accounts;
  readonly spool: Spool;
  readonly logger: Logger;
  readonly messageRate: MessageRate;
  readonly authFailures: AuthFailures;
}

interface Rcpt {
  /** As the client gave it, bare (smtp-server's address.address). */
  readonly given: string;
  readonly args: readonly string[];
  readonly expanded: readonly QueuedRecipient[];
}

const NO_PROGRESS = (): Promise<void> => Promise.resolve();

function argList(args: SMTPServerAddress['args']): string[] {
  if (!args) return [];
  return Object.entries(args).map(([k, v]) => (v === true || v === undefined ? k : `${k}=${String(v)}`));
}

function notifyOf(address: SMTPServerAddress): DsnNotify | undefined {
  const n = address.dsn?.notify;
  if (!n || n.length === 0) return undefined;
  const upper = n.map((x) => x.toUpperCase());
  if (upper.includes('NEVER')) return 'NEVER';
  return upper.filter((x): x is 'SUCCESS' | 'FAILURE' | 'DELAY' => x === 'SUCCESS' || x === 'FAILURE' || x === 'DELAY');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

export class SmtpSession {
  private readonly macros = new SessionMacros();
  private readonly ctx: SessionContext = { macros: this.macros.macros, progress: NO_PROGRESS };
  private readonly counts = new CommandCounts();
  private chainSession: FilterSession | undefined;
  private caps: Capabilities | undefined;
  /** The client address the chain's connect saw (XCLIENT may change it: the chain then starts over). */
  private chainAddress: string | undefined;
  /** The chain had nothing to ask at connect (Filter.passThrough): no session was opened for chainAddress. */
  private chainSkipped = false;
  /** The HELO name the chain heard, with whether TLS was on then. */
  private chainHelo: string | undefined;
  /** The chain accepted the connection (connect or HELO): it is not asked again. */
  private connectionDone = false;
  /** The chain refused the connection: every MAIL gets this. */
  private connectionRefusal: SmtpReply | undefined;
  private authType: string | undefined;
  private authFailed = 0;
  // The message in flight.
  private id: string | undefined;
  private sender = '';
  private recipients: Rcpt[] = [];
  /** The chain accepted the message: it is not asked again for it. */
  private messageDone = false;
  /** A filter discarded the message: answered with success, not queued. */
  private discard = false;
  /** The chain's answer at DATA, when it was asked before the 354. */
  private dataVerdict: Reply | undefined;
  /** The chain heard MAIL for a message that has not ended yet (RSET, a new EHLO or a failed DATA end it). */
  private chainInMessage = false;
  private closed = false;
  private trustedAddress: string | undefined;
  private trustedValue = false;

  constructor(
    private readonly smtp: SMTPServerSession,
    private readonly settings: SessionSettings,
    private readonly deps: SessionDeps,
  ) {}

  /**
   * Whether the client is in mynetworks, asked once per client address (XCLIENT may change it): a
   * lookup costs more than a map's (node's BlockList makes a SocketAddress each time), and MAIL and
   * every RCPT ask.
   */
  get trusted(): boolean {
    const address = this.smtp.remoteAddress;
    if (this.trustedAddress !== address) {
      this.trustedAddress = address;
      this.trustedValue = this.settings.mynetworks.has(address);
    }
    return this.trustedValue;
  }

  private get client(): string {
    return clientText(this.smtp.clientHostname, this.smtp.remoteAddress);
  }

  private get clientName(): string | undefined {
    const n = this.smtp.clientHostname;
    return n && !n.startsWith('[') ? n : undefined;
  }

  private get helo(): string | undefined {
    return this.smtp.hostNameAppearsAs || undefined;
  }

  private get proto(): string {
    return this.smtp.openingCommand === 'EHLO' ? 'ESMTP' : 'SMTP';
  }

  private get user(): string | undefined {
    const u: unknown = this.smtp.user;
    return typeof u === 'string' && u !== '' ? u : undefined;
  }

  /** Logs a refused command the Postfix way and returns the error smtp-server sends. */
  private refuse(command: string, reply: SmtpReply, to?: string, byChain = false): Error {
    this.deps.logger.info(
      { event: byChain ? 'milter-reject' : 'reject', queueId: this.id, command, client: this.client, code: reply.code, enhancedCode: reply.enhancedCode },
      rejectLine({
        action: byChain ? 'milter-reject' : 'reject',
        // Postfix names the queue id once a recipient was accepted (its queue file exists), else NOQUEUE.
        ...(this.id !== undefined && this.recipients.length > 0 ? { id: this.id } : {}),
        command,
        client: this.client,
        reply: replyLine(reply),
        ...(command !== 'CONNECT' && this.smtp.envelope?.mailFrom ? { from: this.sender } : {}),
        ...(command === 'MAIL' ? { from: this.sender } : {}),
        ...(to !== undefined ? { to } : {}),
        proto: this.proto,
        ...(this.helo !== undefined ? { helo: this.helo } : {}),
      }),
    );
    return smtpError(reply);
  }

  /** At connect (or, for an XCLIENT host, at the first MAIL): opens the chain's session and runs connect. */
  async ensureChain(): Promise<SmtpReply | undefined> {
    const address = this.smtp.remoteAddress;
    if ((this.chainSession || this.chainSkipped) && this.chainAddress === address) return this.connectionRefusal;
    if (this.chainSession) await this.closeChain();
    this.chainAddress = address;
    this.connectionDone = false;
    this.connectionRefusal = undefined;
    this.chainHelo = undefined;
    this.chainSkipped = this.deps.chain.passThrough === true;
    if (this.chainSkipped) {
      // No [[milter]]: the chain would accept the connection without asking anyone; it is not opened
      // (no session, no macros, no "session finished" line), which is what its accept would have led to.
      this.connectionDone = true;
      return undefined;
    }
    const session = await this.deps.chain.open();
    this.chainSession = session;
    this.caps = await session.negotiate(FULL_OFFER);
    this.macros.connect({
      hostname: this.settings.hostname,
      // Postfix's milter_macro_daemon_name; a submission service usually sets ORIGINATING, which
      // OpenDKIM and others read to sign instead of verify.
      daemonName: this.settings.kind === 'mx' ? this.settings.hostname : 'ORIGINATING',
      daemonAddress: this.smtp.localAddress,
      clientAddress: address,
      clientName: this.clientName ?? 'unknown',
      clientPort: this.smtp.remotePort,
    });
    const family = address.includes(':') ? 'inet6' : 'inet';
    const reply = (await session.connect?.({ hostname: this.clientName ?? `[${address}]`, family, address, port: this.smtp.remotePort }, this.ctx)) ?? CONTINUE;
    this.connectionVerdict(reply);
    if (this.connectionRefusal) this.refuse('CONNECT', this.connectionRefusal, undefined, true);
    return this.connectionRefusal;
  }

  private connectionVerdict(reply: Reply): void {
    if (reply.status === 'accept') this.connectionDone = true;
    else if (isRefusal(reply)) this.connectionRefusal = chainRefusal(reply);
  }

  /**
   * HELO/EHLO, before smtp-server answers it (command-hooks.ts): it ends the message in flight (the chain
   * hears abort), an XCLIENT host's session meets the chain here, and the chain's refusal is the reply.
   */
  async heloCommand(name: string): Promise<void> {
    await this.abortChain();
    const refusal = await this.ensureChain();
    if (refusal) throw this.refuse('HELO', refusal, undefined, true);
    await this.chainHears(name);
    if (this.connectionRefusal) throw this.refuse('HELO', this.connectionRefusal, undefined, true);
  }

  /** RSET: the message in flight ends; the chain hears abort. */
  async resetCommand(): Promise<void> {
    this.resetMessage();
    await this.abortChain();
  }

  /** Before each MAIL: the chain hears the HELO name it has not heard yet (when no hook told it). */
  private async ensureHelo(): Promise<void> {
    const helo = this.helo;
    if (helo !== undefined) await this.chainHears(helo);
  }

  private async chainHears(helo: string): Promise<void> {
    // Told again after STARTTLS (the TLS macros are HELO's), not again for the same name on the same footing.
    const key = `${helo.toLowerCase()} ${this.smtp.secure ? 'tls' : 'plain'}`;
    if (!this.chainSession || this.connectionDone || this.connectionRefusal || key === this.chainHelo) return;
    this.chainHelo = key;
    const tls = this.smtp.tlsOptions;
    this.macros.helo(tls ? { version: tls.version ?? tls.standardName ?? '', cipher: tls.name, ...this.cipherBits() } : undefined);
    this.connectionVerdict((await this.chainSession.helo?.(helo, this.ctx)) ?? CONTINUE);
  }

  /** Node's getCipher() gives no key length: it is read from the cipher's name (AES_256, AES128, CHACHA20). */
  private cipherBits(): { bits?: number } {
    const tls = this.smtp.tlsOptions;
    if (!tls) return {};
    const name = tls.standardName ?? tls.name;
    const aes = /AES_?(\d+)/i.exec(name);
    if (aes) return { bits: Number(aes[1]) };
    return /CHACHA20/i.test(name) ? { bits: 256 } : {};
  }

  /** AUTH PLAIN/LOGIN against Accounts; an address that keeps failing waits longer and is dropped at the limit. */
  async auth(auth: SMTPServerAuthentication): Promise<{ user: string }> {
    // XCLIENT LOGIN= (smtp-server offers XCLIENT only to xclient_hosts): the proxy vouches for the login,
    // as Postfix takes it.
    if (auth.method === 'XCLIENT') {
      const login = (auth.username ?? '').toLowerCase();
      if (login === '') throw smtpError({ code: 501, enhancedCode: '5.5.4', text: 'Bad XCLIENT LOGIN syntax' });
      this.authType = 'XCLIENT';
      return { user: login };
    }
    const address = this.smtp.remoteAddress;
    const delay = this.deps.authFailures.delayMs(address);
    if (delay > 0) await sleep(delay);
    const user = await this.deps.accounts.authenticate(auth.username ?? '', auth.password ?? '');
    if (user !== undefined) {
      this.authType = auth.method;
      this.counts.count('auth', true);
      this.deps.logger.info({ event: 'auth', client: this.client, user, method: auth.method }, `client=${this.client}, sasl_method=${auth.method}, sasl_username=${user}`);
      return { user };
    }
    this.counts.count('auth', false);
    this.deps.authFailures.fail(address);
    this.authFailed++;
    this.deps.logger.warn(
      { event: 'auth-failed', client: this.client, method: auth.method },
      `warning: ${this.client}: SASL ${auth.method} authentication failed`,
    );
    if (this.authFailed >= this.settings.authFailureLimit) {
      // 421 makes smtp-server close the connection (Postfix: smtpd_hard_error_limit).
      throw this.refuse('AUTH', { code: 421, enhancedCode: '4.7.0', text: `${this.settings.hostname} Error: too many authentication failures` });
    }
    throw smtpError({ code: 535, enhancedCode: '5.7.8', text: 'Error: authentication failed: authentication failure' });
  }

  async mail(address: SMTPServerAddress): Promise<void> {
    this.resetMessage();
    this.sender = address.address;
    try {
      await this.mailChecks(address);
      this.counts.count('mail', true);
    } catch (err) {
      this.counts.count('mail', false);
      this.id = undefined;
      throw err;
    }
  }

  private async mailChecks(address: SMTPServerAddress): Promise<void> {
    const user = this.user;
    if (this.settings.requireAuth && user === undefined) {
      throw this.refuse('MAIL', { code: 530, enhancedCode: '5.7.0', text: 'Authentication required' });
    }
    if (!this.trusted && !this.deps.messageRate.take(this.smtp.remoteAddress)) {
      throw this.refuse('MAIL', { code: 450, enhancedCode: '4.7.1', text: `Error: too much mail from ${this.smtp.remoteAddress}` });
    }
    let parsed: ParsedPath | undefined;
    if (address.address !== '') {
      const p = parsePath(address.address, { smtputf8: this.smtp.envelope.smtpUtf8 === true, role: 'sender' });
      if (isPathError(p)) throw this.refuse('MAIL', chainRefusal(p.reply));
      parsed = p;
    }
    if (user !== undefined && parsed !== undefined && !this.deps.accounts.mayUseSender(user, parsed.address)) {
      // Postfix's reject_sender_login_mismatch.
      throw this.refuse('MAIL', { code: 553, enhancedCode: '5.7.1', text: `<${address.address}>: Sender address rejected: not owned by user ${user}` });
    }
    if (user === undefined && parsed !== undefined && !this.trusted && this.ownedByUser(parsed.address)) {
      // Postfix's reject_unauthenticated_sender_login_mismatch: a user's address is theirs to use only logged in.
      throw this.refuse('MAIL', { code: 553, enhancedCode: '5.7.1', text: `<${address.address}>: Sender address rejected: not logged in` });
    }
    this.id = this.deps.spool.newId();
    const refusal = await this.ensureChain();
    await this.ensureHelo();
    if (this.connectionRefusal ?? refusal) throw this.refuse('MAIL', (this.connectionRefusal ?? refusal)!, undefined, true);
    if (this.connectionDone || !this.chainSession) return;
    // The last message ended without end of message (RSET, EHLO, a refused DATA): the chain hears the
    // abort Postfix sends its milters then.
    if (this.chainInMessage) await this.abortChain();
    this.chainInMessage = true;
    this.macros.mail({ id: this.id, sender: address.address, ...(user !== undefined ? { authUser: user, authType: this.authType ?? 'PLAIN' } : {}) });
    const reply = (await this.chainSession.mail?.(`<${address.address}>`, argList(address.args), this.ctx)) ?? CONTINUE;
    if (isRefusal(reply)) throw this.refuse('MAIL', chainRefusal(reply), undefined, true);
    if (reply.status === 'discard') this.discard = true;
    if (reply.status === 'accept') this.messageDone = true;
  }

  async rcpt(address: SMTPServerAddress): Promise<void> {
    try {
      await this.rcptChecks(address);
      this.counts.count('rcpt', true);
    } catch (err) {
      this.counts.count('rcpt', false);
      throw err;
    }
  }

  private async rcptChecks(address: SMTPServerAddress): Promise<void> {
    const given = address.address;
    const parsed = parsePath(given, { smtputf8: this.smtp.envelope.smtpUtf8 === true, role: 'recipient' });
    if (isPathError(parsed)) throw this.refuse('RCPT', chainRefusal(parsed.reply), given);
    const client = { authenticated: this.user !== undefined, trusted: this.trusted };
    const decision = relayDecision(parsed, client, (d) => this.deps.accounts.isLocalDomain(d), { shownAddress: given });
    if (!decision.allowed) throw this.refuse('RCPT', chainRefusal(decision.reply), given);
    const resolution: Resolution =
      parsed.kind === 'postmaster'
        ? this.postmaster()
        : parsed.kind === 'mailbox' && parsed.ipLiteral !== undefined
          ? { kind: 'remote' }
          : this.deps.accounts.resolve(parsed.address);
    const orcpt = address.dsn?.orcpt;
    const notify = notifyOf(address);
    // Without spreads (V8's object clone costs more than the rest): only the DSN fields that were given.
    const recipient = (a: string): QueuedRecipient => {
      const r: { -readonly [K in keyof QueuedRecipient]: QueuedRecipient[K] } = { address: a, original: given };
      if (orcpt) r.orcpt = orcpt;
      if (notify) r.notify = notify;
      return r;
    };
    let expanded: QueuedRecipient[];
    switch (resolution.kind) {
      case 'unknown':
        throw this.refuse('RCPT', { code: 550, enhancedCode: '5.1.1', text: `<${given}>: Recipient address rejected: User unknown in virtual mailbox table` }, given);
      case 'loop':
        throw this.refuse('RCPT', { code: 550, enhancedCode: '5.4.6', text: `<${given}>: Recipient address rejected: mail forwarding loop (${resolution.detail})` }, given);
      case 'remote':
        // A local-looking domain the accounts call remote is relayed only for a client that may relay.
        if (!client.authenticated && !client.trusted && decision.kind === 'local' && parsed.kind === 'mailbox') {
          throw this.refuse('RCPT', { code: 554, enhancedCode: '5.7.1', text: `<${given}>: Relay access denied` }, given);
        }
        expanded = [recipient(parsed.address)];
        break;
      case 'local':
        expanded = resolution.targets.map((t) => recipient(t.type === 'mailbox' ? t.user : t.address));
        break;
    }
    const args = argList(address.args);
    if (this.chainSession && !this.connectionDone && !this.messageDone) {
      this.macros.rcpt({ address: parsed.address, local: resolution.kind === 'local' });
      const reply = (await this.chainSession.rcpt?.(`<${given}>`, args, this.ctx)) ?? CONTINUE;
      if (isRefusal(reply)) throw this.refuse('RCPT', chainRefusal(reply), given, true);
      if (reply.status === 'discard') this.discard = true;
    }
    // A repeated recipient replaces the earlier one, as smtp-server keeps it.
    const same = this.recipients.findIndex((r) => r.given.toLowerCase() === given.toLowerCase());
    const entry: Rcpt = { given, args, expanded };
    if (same >= 0) this.recipients[same] = entry;
    else this.recipients.push(entry);
  }

  /**
   * A bare postmaster (RFC 5321 §4.5.1): postmaster@ our hostname when that is a local domain (Postfix
   * appends $myorigin), else postmaster@ each local domain in turn; the first that resolves to a mailbox
   * wins, and with none it is an unknown user. A bare local part is never queued.
   */
  private postmaster(): Resolution {
    const accounts = this.deps.accounts;
    const domains = [this.settings.hostname.toLowerCase(), ...accounts.localDomains()];
    for (const d of new Set(domains)) {
      if (!accounts.isLocalDomain(d)) continue;
      const r = accounts.resolve(`postmaster@${d}`);
      if (r.kind === 'local') return r;
    }
    return { kind: 'unknown' };
  }

  /** Whether a sender address is some user's: it resolves to at least one local mailbox. */
  private ownedByUser(address: string): boolean {
    const r = this.deps.accounts.resolve(address);
    return r.kind === 'local' && r.targets.some((t) => t.type === 'mailbox');
  }

  /** DATA, before the 354 (command-hooks.ts): the chain's DATA stage; its refusal is the reply to DATA. */
  async dataCommand(): Promise<void> {
    const chain = this.chainSession;
    if (!chain || this.id === undefined || this.connectionDone || this.messageDone || this.discard) return;
    this.macros.data(this.id);
    const reply = (await chain.data?.(this.ctx)) ?? CONTINUE;
    this.dataVerdict = reply;
    if (isRefusal(reply)) {
      this.counts.count('data', false);
      throw this.refuse('DATA', chainRefusal(reply), undefined, true);
    }
  }

  /** The message: returns the text of the 250 reply, or throws the refusal. */
  async data(stream: SMTPServerDataStream, sizeLimit: number): Promise<string> {
    try {
      const text = await this.receive(stream, sizeLimit);
      this.counts.count('data', true);
      return text;
    } catch (err) {
      this.counts.count('data', false);
      await this.abortChain();
      throw err;
    } finally {
      this.resetMessage();
    }
  }

  private async receive(stream: SMTPServerDataStream, sizeLimit: number): Promise<string> {
    const id = this.id!;
    const askChain = this.chainSession !== undefined && !this.connectionDone && !this.messageDone && !this.discard;
    const chain = askChain ? this.chainSession : undefined;
    this.macros.data(id);
    // Normally heard before the 354 (dataCommand); without the hook, asked now and answered at the end.
    const dataReply =
      this.dataVerdict !== undefined
        ? Promise.resolve(this.dataVerdict)
        : chain
          ? Promise.resolve(chain.data?.(this.ctx) ?? CONTINUE).catch((): Reply => ({ status: 'tempfail' }))
          : Promise.resolve(CONTINUE);
    const reader = new MessageReader(undefined, this.settings.bodyMemoryLimit !== undefined ? { memoryLimit: this.settings.bodyMemoryLimit } : {}, {
      headerSizeLimit: HEADER_SIZE_LIMIT,
    });
    const lineEnds = new LineEndNormalizer();
    let oversized = false;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        // Past the limit the rest is read and dropped, never held.
        // 0: no limit, as Postfix's message_size_limit.
        if (oversized || stream.sizeExceeded || (sizeLimit > 0 && stream.byteLength > sizeLimit)) {
          oversized = true;
          continue;
        }
        await reader.write(lineEnds.push(chunk));
      }
    } catch (err) {
      await reader.message.dispose();
      await dataReply;
      throw err;
    }
    const verdict = await dataReply;
    if (oversized || stream.sizeExceeded) {
      await reader.message.dispose();
      throw this.refuse('END-OF-MESSAGE', { code: 552, enhancedCode: '5.3.4', text: 'Message size exceeds fixed limit' });
    }
    const received = await reader.end();
    if (reader.discardedHeaderBytes > 0) {
      this.deps.logger.warn(
        { event: 'header-size-limit', queueId: id, client: this.client, discarded: reader.discardedHeaderBytes },
        `${id}: warning: header from ${this.client} exceeds header_size_limit ${HEADER_SIZE_LIMIT}: ${reader.discardedHeaderBytes} bytes of header text discarded`,
      );
    }
    const kept = received.headers.all.filter((h) => !DROPPED_HEADERS.has(h.name.toLowerCase()));
    const message = new Message(received.envelope, new HeaderList(kept, { hiddenTop: receivedHeader(this.receivedInput(id)) }), received.body);
    try {
      return await this.finish(message, id, chain, verdict, stream.byteLength);
    } finally {
      await message.dispose();
    }
  }

  private receivedInput(id: string): Parameters<typeof receivedHeader>[0] {
    const tls = this.smtp.tlsOptions;
    // Absent parts as undefined, not spread in (receivedValue reads both alike; a spread costs per message).
    return {
      helo: this.helo,
      clientName: this.clientName,
      clientAddress: this.smtp.remoteAddress,
      hostname: this.settings.hostname,
      protocol: `${this.proto}${this.smtp.secure ? 'S' : ''}${this.user !== undefined ? 'A' : ''}`,
      id,
      recipient: this.recipients.length === 1 ? this.recipients[0]!.given : undefined,
      tls: tls ? { version: tls.version ?? '', cipher: tls.name, ...this.cipherBits() } : undefined,
      date: new Date(),
    };
  }

  private async finish(message: Message, id: string, chain: FilterSession | undefined, verdict: Reply, size: number): Promise<string> {
    if (isRefusal(verdict)) throw this.refuse('DATA', chainRefusal(verdict), undefined, true);
    // Before the chain sees it, so a looping message costs the filters nothing (Postfix's cleanup counts the
    // fields as they arrive).
    if (hopCount(message.headers.visible) > HOPCOUNT_LIMIT) {
      throw this.refuse('END-OF-MESSAGE', { code: 554, enhancedCode: '5.4.0', text: 'Error: too many hops' });
    }
    let discard = this.discard || verdict.status === 'discard';
    const envelope = message.envelope;
    envelope.sender = `<${this.sender}>`;
    envelope.recipients = this.recipients.map((r) => ({ address: `<${r.given}>`, args: r.args }));
    if (chain && !discard && verdict.status !== 'accept') {
      const result = await this.runMessage(chain, message);
      if (isRefusal(result.reply)) throw this.refuse('END-OF-MESSAGE', chainRefusal(result.reply), undefined, true);
      if (result.reply.status === 'discard') discard = true;
      else if (result.changes.length > 0) await applyChanges(message, result.changes, { leadingSpace: this.caps?.leadingSpace ?? false });
    }
    const ok = `2.0.0 Ok: queued as ${id}`;
    if (discard) {
      this.deps.logger.info({ event: 'discard', queueId: id, client: this.client }, `${id}: milter-discard: END-OF-MESSAGE from ${this.client}: milter triggers DISCARD action`);
      return ok;
    }
    const recipients = this.finalRecipients(envelope.recipients.map((r) => bareAddress(r.address)));
    if (recipients.length === 0) throw this.refuse('END-OF-MESSAGE', { code: 554, enhancedCode: '5.5.1', text: 'Error: no valid recipients' });
    const dsn = this.smtp.envelope.dsn;
    const ret = dsn?.ret?.toUpperCase();
    try {
      // Only the optional fields that are set, without spreads.
      const input: { -readonly [K in keyof SpoolInput]: SpoolInput[K] } = {
        id,
        sender: bareAddress(envelope.sender),
        recipients,
        client: this.clientName ? `${this.clientName} [${this.smtp.remoteAddress}]` : `[${this.smtp.remoteAddress}]`,
        message: message.stream(),
      };
      if (ret === 'FULL' || ret === 'HDRS') input.ret = ret;
      if (dsn?.envid) input.envid = dsn.envid;
      if (message.quarantine !== undefined) input.hold = message.quarantine;
      await this.deps.spool.enqueue(input);
    } catch (err) {
      this.deps.logger.error({ event: 'enqueue-failed', queueId: id, err: (err as Error).message }, `${id}: queue file write error: ${(err as Error).message}`);
      throw smtpError({ code: 451, enhancedCode: '4.3.0', text: 'Error: queue file write error' });
    }
    this.deps.logger.info(
      { event: 'queued', queueId: id, from: bareAddress(envelope.sender), to: recipients.map((r) => r.address), size, hold: message.quarantine },
      `${id}: from=<${bareAddress(envelope.sender)}>, size=${size}, nrcpt=${recipients.length} (queue ${message.quarantine !== undefined ? 'hold' : 'active'})`,
    );
    return ok;
  }

  /** Header fields, end of headers, body and end of message through the chain, as far as it asked for them. */
  private async runMessage(chain: FilterSession, message: Message): Promise<EndOfMessageResult> {
    const stages = this.caps?.stages;
    let done = false;
    const step = (r: Reply): void => {
      if (r.status === 'accept') done = true;
    };
    if (stages?.has('header')) {
      for (const h of message.headers.visible) {
        step((await chain.header?.(h.name, this.caps?.leadingSpace ? h.value : h.value.replace(/^ /, ''), this.ctx)) ?? CONTINUE);
        if (done) break;
      }
    }
    if (!done && stages?.has('endOfHeaders')) step((await chain.endOfHeaders?.(this.ctx)) ?? CONTINUE);
    if (!done && stages?.has('body')) {
      for await (const chunk of message.body.read(65535)) {
        const r = (await chain.body?.(chunk, this.ctx)) ?? CONTINUE;
        if (r.status === 'skip') break;
        step(r);
        if (done) break;
      }
    }
    const result = (await chain.endOfMessage?.(this.ctx)) ?? { reply: CONTINUE, changes: [] };
    this.chainInMessage = false;
    return result;
  }

  /**
   * The recipients the queue gets: each RCPT's expansion; a recipient a filter added is resolved here
   * (aliases expanded; unknown and remote ones kept as they are, delivery decides); duplicates once.
   */
  private finalRecipients(addresses: readonly string[]): QueuedRecipient[] {
    const out: QueuedRecipient[] = [];
    const seen = new Set<string>();
    // One map, not a search per address: up to recipient_limit (1000) of each.
    const byGiven = new Map(this.recipients.map((r) => [r.given.toLowerCase(), r] as const));
    for (const a of addresses) {
      const given = byGiven.get(a.toLowerCase());
      let expanded: readonly QueuedRecipient[] = given?.expanded ?? [];
      if (!given) {
        // A bare local part a filter added: only postmaster means something; it is never queued bare.
        const res = a.includes('@') ? this.deps.accounts.resolve(a) : a.toLowerCase() === 'postmaster' ? this.postmaster() : ({ kind: 'unknown' } as const);
        if (!a.includes('@') && res.kind !== 'local') {
          this.deps.logger.warn({ event: 'bad-recipient', recipient: a }, `warning: recipient <${a}> added by a filter has no domain: dropped`);
          continue;
        }
        expanded =
          res.kind === 'local'
            ? res.targets.map((t) => ({ address: t.type === 'mailbox' ? t.user : t.address, original: a }))
            : [{ address: a, original: a }];
      }
      for (const r of expanded) {
        const key = r.address.toLowerCase();
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(r);
      }
    }
    return out;
  }

  private async abortChain(): Promise<void> {
    if (!this.chainInMessage) return;
    this.chainInMessage = false;
    try {
      await this.chainSession?.abort?.(this.ctx);
    } catch {
      // the chain logs its children's failures
    }
  }

  private resetMessage(): void {
    this.id = undefined;
    this.dataVerdict = undefined;
    this.recipients = [];
    this.messageDone = false;
    this.discard = false;
  }

  private async closeChain(): Promise<void> {
    const s = this.chainSession;
    this.chainSession = undefined;
    try {
      await s?.close?.();
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'chain session did not close cleanly');
    }
  }

  logConnect(): void {
    this.deps.logger.info({ event: 'connect', client: this.client, listener: this.settings.kind }, `connect from ${this.client}`);
  }

  /** The connection ended: the chain's session closes and one line sums the session up. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.closeChain();
    this.deps.logger.info(
      { event: 'disconnect', client: this.client, listener: this.settings.kind, counts: this.counts.text() },
      `disconnect from ${this.client} ${this.counts.text()}`,
    );
  }
}
