/**
 * One IMAP session: the state machine of RFC 3501 §3 over a Connection. It takes one command at a time
 * from the reader, checks its state, has its handler parse and run it, brings the selected mailbox up to
 * date before the tagged reply (EXPUNGE only where §7.4.1 allows it: never during FETCH, STORE, SEARCH,
 * always during their UID forms and every other command), and writes the reply. It also owns what is
 * around the commands: the greeting, the login and idle timers (BYE on expiry), logins (delegated to here
 * by LOGIN and AUTHENTICATE so the rules live in one place), IDLE's wait, STARTTLS's and COMPRESS's switches, the BYE at
 * shutdown, and the login/logout log lines. A command that throws something unexpected gets
 * NO [SERVERBUG] and one log line; the session goes on.
 */
import type { Duplex } from 'node:stream';
import { timerDelay } from '../config/timer-limit.js';
import type { Logger } from '../mail/logger.js';
import type { Accounts } from '../store/accounts/accounts.js';
import { MailboxError, type MailboxStore, type UserMailboxes } from '../store/mailbox/mailbox-store.js';
import { capabilities } from './capabilities.js';
import { bad, no, ok, type AnyCommandHandler, type CommandInfo, type Completion, type ImapState, type ResponseWriter, type SessionContext } from './command.js';
import type { Connection } from './connection.js';
import { ArgCursor } from './wire/cursor.js';
import { logLogin, logLoginFailed, logLogout } from './log-lines.js';
import type { LoginGuard } from './login-guard.js';
import type { SelectedMailbox } from './selected.js';
import { ParseError, type CommandFrame, type LiteralAnnouncement, type ReaderError } from './wire/frame.js';

export interface SessionSettings {
  /** Text of the greeting (`* OK [CAPABILITY ...] <greeting>`). */
  readonly greeting: string;
  /** Time to log in, from the connection's start. */
  readonly loginTimeoutMs: number;
  /** Time without a command once logged in (IDLE included; RFC 3501 §5.4: at least 30 minutes). */
  readonly idleTimeoutMs: number;
  /** `* OK Still here` during IDLE. */
  readonly idleKeepaliveMs: number;
  readonly appendLimit: number;
  /** How to put TLS over this connection's socket; absent: no STARTTLS. */
  readonly startTls?: (socket: Duplex) => Duplex;
}

export interface SessionDeps {
  readonly accounts: Pick<Accounts, 'authenticate'>;
  readonly store: MailboxStore;
  readonly logger: Logger;
  readonly guard: LoginGuard;
  /** Command name (upper case) → handler. */
  readonly commands: ReadonlyMap<string, AnyCommandHandler>;
  /** Per user and address connection limit: false refuses the login (NO [LIMIT]); `leave` at the end. */
  readonly userSlots?: { enter(user: string, client: string): boolean; leave(user: string, client: string): void };
}

export interface ClientInfo {
  readonly address: string;
  /** Implicit TLS. */
  readonly tls: boolean;
}

/** Literals before login are for LOGIN's password: anything larger is refused unread. */
const PRE_AUTH_LITERAL_LIMIT = 8192;
/** Dovecot disconnects after this many bad commands in a row ("Too many invalid IMAP commands"). */
const MAX_BAD_COMMANDS = 20;

export class ImapSession implements SessionContext {
  state: ImapState = 'not-authenticated';
  user: string | undefined;
  mailboxes: UserMailboxes | undefined;
  selected: SelectedMailbox | undefined;
  tls: boolean;
  readonly enabled = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  /** Tasks to run after the current command's tagged reply (SessionContext.afterReply). */
  private afterReplyTasks: (() => Promise<void>)[] = [];
  private shuttingDown = false;
  private byeSent = false;
  private pendingTls = false;
  private pendingCompress = false;
  private failures = 0;
  private badInRow = 0;
  private method = '';
  private endReason = 'Connection closed';
  private idleSignal: (() => void) | undefined;
  /** BYE text to send right after the current command's tagged reply. */
  private byeAfterReply: string | undefined;
  private finished: Promise<void> | undefined;

  constructor(
    private readonly conn: Connection,
    private readonly client: ClientInfo,
    private readonly settings: SessionSettings,
    private readonly deps: SessionDeps,
  ) {
    this.tls = client.tls;
    // Before login no literal is read past the pre-login limit, `{n+}` included (raised at login).
    conn.setLiteralLimit(PRE_AUTH_LITERAL_LIMIT);
    conn.literalOpener = (start) => {
      const handler = this.deps.commands.get(start.name);
      return handler?.openLiteral !== undefined && handler.states.includes(this.state) ? handler.openLiteral(this, start) : undefined;
    };
  }

  get clientAddress(): string {
    return this.client.address;
  }

  get appendLimit(): number {
    return this.settings.appendLimit;
  }

  get out(): ResponseWriter {
    return this.conn.out;
  }

  /** Runs the session to its end (never rejects); the same promise on every call. */
  run(): Promise<void> {
    this.finished ??= this.loop();
    return this.finished;
  }

  /** Server shutdown: `* BYE` now if the session is between commands, else right after the current one. */
  shutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.endReason = 'Server shutting down';
    if (!this.busy) this.bye('Server shutting down.');
    else this.idleSignal?.();
  }

  /** Shutdown grace over: the connection is cut at once. */
  destroy(): void {
    this.conn.destroy();
  }

  private async loop(): Promise<void> {
    try {
      this.conn.out.status('*', 'OK', this.settings.greeting, { name: 'CAPABILITY', args: this.capabilities().join(' ') });
      this.conn.flush();
      this.arm();
      while (this.state !== 'logout' && !this.byeSent) {
        const event = await this.conn.nextEvent();
        if (event.type === 'end') break;
        if (event.type === 'literal') this.onLiteral(event.announcement);
        else if (event.type === 'error') this.onReaderError(event.error);
        else await this.dispatch(event.frame);
        if (this.shuttingDown) this.bye('Server shutting down.');
        else if (this.badInRow >= MAX_BAD_COMMANDS) {
          this.endReason = 'Too many invalid commands';
          this.bye('Too many invalid IMAP commands.');
        }
      }
    } catch (err) {
      this.deps.logger.error({ err: (err as Error).message, client: this.client.address }, `imap session error: ${(err as Error).message}`);
    } finally {
      await this.cleanup();
    }
  }

  private async cleanup(): Promise<void> {
    this.disarm();
    if (this.conn.isClosed && this.endReason === 'Connection closed') this.endReason = 'Disconnected';
    try {
      await this.unselect();
      await this.mailboxes?.release();
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message, client: this.client.address }, `imap: closing the mailbox failed: ${(err as Error).message}`);
    }
    if (this.user !== undefined) this.deps.userSlots?.leave(this.user, this.client.address);
    this.conn.close();
    logLogout(this.deps.logger, {
      user: this.user,
      client: this.client.address,
      tls: this.tls,
      bytesIn: this.conn.bytesIn,
      bytesOut: this.conn.bytesOut,
      seconds: Math.round((Date.now() - this.conn.startedAt) / 1000),
      reason: this.endReason,
    });
  }

  private bye(text: string): void {
    if (this.byeSent) return;
    this.byeSent = true;
    this.state = 'logout';
    this.conn.untaggedStatus('BYE', text);
    this.conn.close();
  }

  /** The one timer: login time before authentication, idle time after. */
  private arm(): void {
    this.disarm();
    const authenticated = this.state === 'authenticated' || this.state === 'selected';
    const ms = authenticated ? this.settings.idleTimeoutMs : this.settings.loginTimeoutMs - (Date.now() - this.conn.startedAt);
    this.timer = setTimeout(() => {
      this.endReason = authenticated ? 'Inactivity' : 'Login timeout';
      this.bye(authenticated ? 'Disconnected for inactivity.' : 'Disconnected: login timed out.');
    }, timerDelay(ms));
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private onLiteral(announcement: LiteralAnnouncement): void {
    let refusal: Completion | undefined;
    if (this.state === 'not-authenticated' && announcement.size > PRE_AUTH_LITERAL_LIMIT) {
      refusal = no(`Literal larger than ${PRE_AUTH_LITERAL_LIMIT} octets before login`, 'TOOBIG');
    } else {
      const handler = this.deps.commands.get(announcement.name);
      if (handler?.literal !== undefined && handler.states.includes(this.state)) refusal = handler.literal(this, announcement);
    }
    if (refusal === undefined) return this.conn.acceptLiteral(announcement.size);
    this.conn.tagged(announcement.tag, refusal);
    this.conn.refuseLiteral();
  }

  private onReaderError(error: ReaderError): void {
    if (error.fatal) {
      this.endReason = error.error.message.startsWith('command') ? 'Command too large' : 'Literal too large';
      // A tagged BAD [TOOBIG] for the command (RFC 7888 §4), then BYE and close as Dovecot's BYE does.
      this.deps.logger.warn({ event: 'imap-bad-input', client: this.client.address, kind: error.kind, err: error.error.message }, `imap: bad input from ${this.client.address}: ${error.error.message}`);
      if (error.tag !== undefined) this.conn.tagged(error.tag, bad(`Error in IMAP command: ${error.error.message}`, 'TOOBIG'));
      this.bye(`${error.error.message}`);
      return;
    }
    this.badInRow++;
    this.deps.logger.warn({ event: 'imap-bad-input', client: this.client.address, kind: error.kind, err: error.error.message }, `imap: bad input from ${this.client.address}: ${error.error.message}`);
    if (error.tag === undefined) {
      this.conn.untaggedStatus('BAD', `Error in IMAP command received by server: ${error.error.message}`);
      this.conn.flush();
    } else if (error.error.code === 'TOOBIG' || error.error.status === 'NO') this.conn.tagged(error.tag, no(error.error.message, error.error.code));
    else this.conn.tagged(error.tag, bad(`Error in IMAP command: ${error.error.message}`));
  }

  private async dispatch(frame: CommandFrame): Promise<void> {
    const { tag } = frame;
    const args = new ArgCursor(frame);
    let name = frame.name;
    let uid = false;
    if (name === 'UID') {
      uid = true;
      try {
        args.sp();
        name = args.atom('a command after UID').toUpperCase();
      } catch {
        return this.refuse(tag, bad('Error in IMAP command UID: missing command name'));
      }
    }
    const handler = this.deps.commands.get(name);
    if (handler === undefined || (uid && handler.uidForm !== true)) return this.refuse(tag, bad(`Error in IMAP command ${uid ? 'UID ' : ''}${name}: Unknown command.`));
    if (!handler.states.includes(this.state)) return this.refuse(tag, this.wrongState(handler));
    const info: CommandInfo = { tag, name, uid };
    let parsed: unknown;
    try {
      parsed = handler.parse(args, info);
      args.end();
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      const text = err.status === 'NO' ? err.message : `Error in IMAP command ${uid ? 'UID ' : ''}${name}: ${err.message}`;
      return this.refuse(tag, (err.status === 'NO' ? no : bad)(text, err.code));
    }
    this.badInRow = 0;
    this.disarm();
    this.busy = true;
    let completion: Completion;
    const selectedBefore = this.selected;
    try {
      completion = await handler.run(this, parsed, info);
    } catch (err) {
      completion = this.failure(err, name);
    }
    try {
      // A mailbox this command selected (SELECT, EXAMINE) has just been read whole: nothing to tell yet (as
      // Dovecot, whose SELECT syncs once). Its handle may still be writing a first fill's rows meanwhile.
      if (this.state === 'selected' && this.selected !== undefined && this.selected === selectedBefore && !this.conn.isClosed && !this.byeSent) {
        const told = await this.selected.update(this.conn.out, { expunges: uid || handler.expungeSafe, condstore: this.enabled.has('CONDSTORE'), qresync: this.enabled.has('QRESYNC') });
        // As Dovecot: after VANISHED or EXISTS (which carry no MODSEQ), or while expunges are held back, the
        // reply says which MODSEQ the client may resume from (RFC 7162 §3.2 and its errata).
        if (told && this.enabled.has('QRESYNC')) {
          const code = { name: 'HIGHESTMODSEQ' as const, args: String(this.selected.toldModseq) };
          // a reply that has a code of its own ([MODIFIED], [EXPUNGEISSUED]) or is NO: an untagged OK first, as Dovecot
          if (completion.status === 'OK' && completion.code === undefined) completion = { ...completion, code };
          else this.conn.out.status('*', 'OK', 'Highest', code);
        }
      }
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message, client: this.client.address }, `imap: mailbox update failed: ${(err as Error).message}`);
    }
    this.busy = false;
    const after = this.afterReplyTasks.splice(0);
    if (this.byeSent) return;
    this.conn.tagged(tag, completion);
    for (const task of after) {
      try {
        await task();
      } catch (err) {
        this.deps.logger.warn({ err: (err as Error)?.message ?? String(err), command: name, client: this.client.address, user: this.user }, `imap ${name}: a write after the reply failed: ${(err as Error)?.message ?? String(err)}`);
      }
    }
    if (this.byeAfterReply !== undefined) return this.bye(this.byeAfterReply);
    if (this.state === 'logout') {
      this.conn.close();
      return;
    }
    if (this.pendingTls && this.settings.startTls !== undefined) {
      this.pendingTls = false;
      this.conn.startTls(this.settings.startTls);
      this.tls = true;
    }
    if (this.pendingCompress) {
      this.pendingCompress = false;
      this.conn.startCompress({
        corrupt: (err) => {
          this.endReason = 'Corrupt compressed input';
          this.deps.logger.warn({ event: 'imap-bad-input', client: this.client.address, kind: 'deflate', err: err.message }, `imap: corrupt DEFLATE data from ${this.client.address}, connection closed: ${err.message}`);
        },
        outputFailed: (err) => {
          this.endReason = 'Compression failed';
          this.deps.logger.warn({ event: 'imap-deflate-failed', client: this.client.address, err: err.message }, `imap: DEFLATE compression for ${this.client.address} failed, connection closed: ${err.message}`);
        },
      });
    }
    this.arm();
    // A client that sends commands without reading the answers is not read from until it does.
    await this.conn.out.drained();
  }

  private refuse(tag: string, completion: Completion): void {
    this.badInRow++;
    this.deps.logger.warn({ event: 'imap-bad-command', client: this.client.address, reply: completion.text }, `imap: bad command from ${this.client.address}: ${completion.text}`);
    this.conn.tagged(tag, completion);
  }

  private wrongState(handler: AnyCommandHandler): Completion {
    if (this.state === 'not-authenticated') return bad(`${handler.name} is not allowed before login: log in first.`);
    if (handler.states.includes('selected')) return bad('No mailbox selected.');
    if (handler.states.includes('not-authenticated')) return bad('Already logged in.');
    if (this.state === 'selected' && handler.states.includes('authenticated')) return bad(`${handler.name} is only allowed before a mailbox is selected.`);
    return bad(`${handler.name} is not allowed now.`);
  }

  /** A handler's exception as its tagged reply. */
  private failure(err: unknown, name: string): Completion {
    if (err instanceof ParseError) return err.status === 'NO' ? no(err.message, err.code) : bad(`Error in IMAP command ${name}: ${err.message}`, err.code);
    if (err instanceof MailboxError) return err.code === 'SERVERBUG' ? no(err.message, 'SERVERBUG') : no(err.message, err.code);
    this.deps.logger.error({ err: (err as Error)?.message ?? String(err), command: name, client: this.client.address, user: this.user }, `imap ${name} failed: ${(err as Error)?.message ?? String(err)}`);
    return no('Internal error occurred. Refer to server log for more information.', 'SERVERBUG');
  }

  // ----- SessionContext

  afterReply(task: () => Promise<void>): void {
    this.afterReplyTasks.push(task);
  }

  capabilities(): readonly string[] {
    return capabilities({
      authenticated: this.state === 'authenticated' || this.state === 'selected',
      tls: this.tls,
      startTlsAvailable: this.settings.startTls !== undefined,
      plaintextAllowed: this.passwordsAllowed(),
      appendLimit: this.settings.appendLimit,
    });
  }

  enable(extension: string): void {
    const name = extension.toUpperCase();
    this.enabled.add(name);
    // QRESYNC implies CONDSTORE (RFC 7162 §3.2.3).
    if (name === 'QRESYNC') this.enabled.add('CONDSTORE');
  }

  async select(mailbox: SelectedMailbox): Promise<void> {
    await this.unselect();
    this.selected = mailbox;
    this.state = 'selected';
  }

  async unselect(): Promise<void> {
    const previous = this.selected;
    this.selected = undefined;
    if (this.state === 'selected') this.state = 'authenticated';
    await previous?.close();
  }

  passwordsAllowed(): boolean {
    return this.deps.guard.plaintextAllowed(this.client.address, this.tls);
  }

  async login(login: string, password: string, method: string): Promise<Completion> {
    const log = { login, client: this.client.address, method, tls: this.tls };
    if (!this.passwordsAllowed()) {
      logLoginFailed(this.deps.logger, { ...log, reason: 'plaintext authentication refused before TLS' });
      return no('Plaintext authentication disallowed on non-secure (SSL/TLS) connections.', 'PRIVACYREQUIRED');
    }
    const wait = this.deps.guard.delayMs(this.client.address);
    if (wait > 0) await sleep(wait);
    const user = await this.deps.accounts.authenticate(login, password);
    if (user === undefined) {
      this.failures++;
      const delay = this.deps.guard.fail(this.client.address);
      logLoginFailed(this.deps.logger, { ...log, reason: `authentication failed (${this.failures} in this connection)` });
      await sleep(delay);
      if (this.deps.guard.failureLimit > 0 && this.failures >= this.deps.guard.failureLimit) {
        this.endReason = 'Too many failed logins';
        this.byeAfterReply = 'Too many invalid authentication attempts.';
      }
      return no('Authentication failed.', 'AUTHENTICATIONFAILED');
    }
    if (this.deps.userSlots !== undefined && !this.deps.userSlots.enter(user, this.client.address)) {
      logLoginFailed(this.deps.logger, { ...log, reason: 'too many connections for this user from this address' });
      return no('Too many connections for this user from this address.', 'LIMIT');
    }
    try {
      this.mailboxes = await this.deps.store.openUser(user);
    } catch (err) {
      this.deps.userSlots?.leave(user, this.client.address);
      throw err;
    }
    this.user = user;
    this.method = method;
    this.state = 'authenticated';
    this.conn.setLiteralLimit(undefined);
    logLogin(this.deps.logger, { user, client: this.client.address, method: this.method, tls: this.tls });
    return ok('Logged in', { name: 'CAPABILITY', args: this.capabilities().join(' ') });
  }

  startTls(): void {
    this.pendingTls = true;
  }

  get compressed(): boolean {
    return this.pendingCompress || this.conn.compressed;
  }

  compress(): void {
    this.pendingCompress = true;
  }

  logout(): void {
    this.endReason = 'Logged out';
    this.state = 'logout';
  }

  readLine(): Promise<Buffer | undefined> {
    return this.conn.nextLine();
  }

  async idleUntilLine(): Promise<Buffer | undefined> {
    let dirty = true;
    let done = false;
    let line: Buffer | undefined;
    const selected = this.selected;
    const unwatch = selected?.handle.watch(() => {
      dirty = true;
      this.idleSignal?.();
    });
    const keepalive = setInterval(() => {
      this.conn.untaggedStatus('OK', 'Still here');
      this.conn.flush();
    }, timerDelay(this.settings.idleKeepaliveMs));
    keepalive.unref();
    this.arm();
    void this.conn.nextLine().then((l) => {
      line = l;
      done = true;
      this.idleSignal?.();
    });
    // A failed update ends the updates, not the wait: the client's DONE is still IDLE's (were the error
    // thrown now, the pending nextLine() would be left behind and DONE read as a command); the error is
    // the IDLE's answer once DONE comes.
    let failure: { err: unknown } | undefined;
    try {
      while (!done && !this.shuttingDown && !this.byeSent) {
        if (dirty && selected !== undefined && failure === undefined) {
          dirty = false;
          try {
            await selected.update(this.conn.out, { expunges: true, condstore: this.enabled.has('CONDSTORE'), qresync: this.enabled.has('QRESYNC') });
          } catch (err) {
            failure = { err };
          }
          this.conn.flush();
          continue;
        }
        await new Promise<void>((resolve) => {
          this.idleSignal = resolve;
        });
        this.idleSignal = undefined;
      }
    } finally {
      clearInterval(keepalive);
      unwatch?.();
      this.disarm();
    }
    // Shutdown during IDLE: BYE is the answer, the IDLE gets no tagged reply.
    if (!done && this.shuttingDown) this.bye('Server shutting down.');
    if (failure !== undefined && done) throw failure.err;
    return line;
  }

  log(level: 'info' | 'warn', fields: Record<string, unknown>, message: string): void {
    this.deps.logger[level]({ client: this.client.address, ...(this.user === undefined ? {} : { user: this.user }), ...fields }, message);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, timerDelay(ms)));
}
