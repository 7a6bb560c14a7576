/**
 * One POP3 connection (RFC 1939): AUTHORIZATION (CAPA, USER/PASS, AUTH PLAIN (RFC 5034), STLS (RFC 2595),
 * QUIT), then TRANSACTION on the user's INBOX, locked for the session, then UPDATE at QUIT. Commands are read
 * one line at a time and answered in order (RFC 2449 PIPELINING: a client may send many at once; input is
 * paused while many wait). Where the RFCs are silent this does what Dovecot's pop3 does: \Seen for RETR'd
 * messages at UPDATE and also when the connection drops (never the deletions), RSET forgets both, a locked
 * maildrop is [IN-USE] and the connection closes, too many bad commands close it.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Pop3Config } from '../config/schema.js';
import { timerDelay } from '../config/timer-limit.js';
import type { AuthFailures } from '../mail/client-limits.js';
import type { Logger } from '../mail/logger.js';
import type { Accounts } from '../store/accounts/accounts.js';
import type { Mailbox, MailboxStore, UserMailboxes } from '../store/mailbox/mailbox-store.js';
import { parseCommandLine, parseNumber, splitArgs } from './command-line.js';
import { logAuthFailure, logLogin, logLogout } from './log-lines.js';
import { Maildrop, type DropMessage } from './maildrop.js';
import { capabilityLines } from './capabilities.js';
import { writeMessageBody } from './message-stream.js';
import { decodePlainResponse } from './sasl-plain.js';
import { LineReader, MAX_COMMAND_LINE, err, multiLine, ok, printable, type LineEvent, type ResponseCode } from './wire.js';

export interface Pop3SessionSettings {
  readonly config: Pop3Config;
  /** Whether a client address may log in before TLS. */
  readonly plaintextAllowed: (address: string) => boolean;
  readonly authFailures: AuthFailures;
  /** Turns the plain socket into TLS after STLS; absent: no STLS (no certificate). */
  readonly startTls?: (socket: Socket) => Promise<TLSSocket>;
  /** The IMPLEMENTATION capability's text. */
  readonly implementation: string;
}

export interface Pop3SessionDeps {
  readonly accounts: Pick<Accounts, 'authenticate'>;
  readonly store: MailboxStore;
  readonly logger: Logger;
}

type State = 'authorization' | 'transaction' | 'update';

/** A SASL response line may be longer than a command (RFC 5034 §4): the reader's hard bound. */
const MAX_INPUT_LINE = 4096;
/** Lines waiting before the socket is paused (a pipelining client is served as fast as it reads). */
const QUEUE_HIGH = 32;
/**
 * Bad commands tolerated, as Dovecot: before login 3 (the 4th closes the connection: pop3-login's limit, a
 * guard against scanners), after login 20 (the 20th closes it).
 */
const BAD_BEFORE_LOGIN = 3;
const BAD_AFTER_LOGIN = 19;

interface Transaction {
  readonly user: string;
  readonly handle: UserMailboxes;
  readonly lock: { release(): Promise<void> };
  readonly mailbox: Mailbox;
  readonly drop: Maildrop;
}

export class Pop3Session {
  readonly id = randomBytes(6).toString('base64url');
  readonly client: string;
  private socket: Socket;
  private secure: boolean;
  private state: State = 'authorization';
  private readonly reader = new LineReader(MAX_INPUT_LINE);
  private readonly queue: LineEvent[] = [];
  private busy = false;
  /** The connection is closed (by either side): nothing more is read or sent; cleanup follows. */
  private gone = false;
  private paused = false;
  private ending = false;
  private cleanedUp = false;
  private pendingUser: string | undefined;
  private saslPending = false;
  private authFailureCount = 0;
  private badCommands = 0;
  private tx: Transaction | undefined;
  private logoutReason = 'Connection closed';
  private readonly counts = { retrieved: 0, retrievedBytes: 0, topCount: 0, topBytes: 0, deleted: 0, deletedBytes: 0, bytesIn: 0, bytesOut: 0 };
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);
  private finished: Promise<void>;
  private resolveFinished!: () => void;

  constructor(
    socket: Socket,
    secure: boolean,
    private readonly settings: Pop3SessionSettings,
    private readonly deps: Pop3SessionDeps,
  ) {
    this.socket = socket;
    this.secure = secure;
    this.client = socket.remoteAddress ?? 'unknown';
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  /** Greets and serves; `done` resolves once the connection is gone and the maildrop released. */
  start(): void {
    this.attach(this.socket);
    this.send(ok('Mailgate ready.'));
  }

  get done(): Promise<void> {
    return this.finished;
  }

  /** Server shutdown: a session between commands is told and closed; one in a command ends after it. */
  shutdown(): void {
    this.logoutReason = 'Server shutting down';
    if (!this.busy) this.end(err('Server shutting down.', 'SYS/TEMP'));
    else this.ending = true;
  }

  /** Cuts the connection now (the grace period is over). */
  destroy(): void {
    this.socket.destroy();
  }

  private attach(socket: Socket): void {
    socket.on('data', this.onData);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.gone = true;
      void this.pump();
    });
    socket.setTimeout(timerDelay(this.settings.config.idleTimeout * 1000), () => {
      this.logoutReason = 'Disconnected for inactivity';
      this.end(err('Disconnected for inactivity.'));
    });
  }

  private receive(chunk: Buffer): void {
    this.counts.bytesIn += chunk.length;
    if (this.ending) return;
    for (const event of this.reader.push(chunk)) this.queue.push(event);
    if (this.queue.length >= QUEUE_HIGH && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.gone && !this.ending) {
        const event = this.queue.shift()!;
        try {
          await this.handle(event);
          // A client that sends without reading: its replies are not piled up in memory.
          if (this.socket.writableNeedDrain) await this.drained();
        } catch (e) {
          this.deps.logger.error({ event: 'pop3-error', err: (e as Error).message, client: this.client, session: this.id }, `pop3: internal error: ${(e as Error).message}`);
          this.send(err('Internal error occurred. Refer to server log for more information.', 'SYS/TEMP'));
        }
      }
      if (this.paused && this.queue.length === 0 && !this.gone) {
        this.paused = false;
        this.socket.resume();
      }
    } finally {
      this.busy = false;
    }
    if (this.ending && !this.gone && this.socket.writable) this.end(err('Server shutting down.', 'SYS/TEMP'));
    if (this.gone) await this.cleanup();
  }

  private async handle(event: LineEvent): Promise<void> {
    if ('tooLong' in event) return this.bad(`Line too long (RFC 2449: at most ${MAX_COMMAND_LINE} octets with CRLF).`);
    if (this.saslPending) {
      this.saslPending = false;
      return this.saslResponse(event.line.toString('latin1').trim());
    }
    if (event.line.length + 2 > MAX_COMMAND_LINE) return this.bad(`Line too long (RFC 2449: at most ${MAX_COMMAND_LINE} octets with CRLF).`);
    const parsed = parseCommandLine(event.line);
    if ('problem' in parsed) return this.bad(parsed.problem + '.');
    const { keyword, args } = parsed;
    if (keyword === 'CAPA') return this.send(this.capabilities());
    if (keyword === 'QUIT') return this.quit();
    if (keyword === 'NOOP' && this.state === 'transaction') return this.send(ok());
    if (this.state === 'authorization') {
      switch (keyword) {
        case 'USER':
          return this.user(args);
        case 'PASS':
          return this.pass(args);
        case 'AUTH':
          return this.auth(args);
        case 'STLS':
          return this.stls(args);
        case 'APOP':
          return this.bad('APOP is not supported.');
      }
      if (TRANSACTION_COMMANDS.has(keyword)) return this.bad(`${keyword} is only valid after login.`);
      return this.bad(`Unknown command: ${printable(keyword, 10)}`);
    }
    const tx = this.tx!;
    switch (keyword) {
      case 'STAT': {
        // Arguments ignored, as Dovecot does.
        const s = tx.drop.stat();
        return this.send(ok(`${s.count} ${s.size}`));
      }
      case 'LIST':
        return this.list(tx, args, (m) => String(m.size));
      case 'UIDL':
        return this.list(tx, args, (m) => tx.drop.uidl(m));
      case 'RETR':
        return this.retr(tx, args);
      case 'TOP':
        return this.top(tx, args);
      case 'DELE': {
        const m = this.message(tx, args);
        if (m === undefined) return;
        tx.drop.delete(m);
        return this.send(ok('Marked to be deleted.'));
      }
      case 'RSET':
        tx.drop.reset();
        return this.send(ok());
      case 'USER':
      case 'PASS':
      case 'AUTH':
      case 'STLS':
      case 'APOP':
        return this.bad(`${keyword} is not valid after login.`);
    }
    return this.bad(`Unknown command: ${printable(keyword, 10)}`);
  }

  /** RFC 2449 §5; USER, SASL and STLS only where they can be used (before login; plaintext rules). */
  private capabilities(): string {
    const lines = capabilityLines({
      authorization: this.state === 'authorization',
      secure: this.secure,
      startTlsAvailable: this.settings.startTls !== undefined,
      loginAllowed: this.loginAllowed(),
      implementation: this.settings.implementation,
    });
    return multiLine(ok('Capability list follows'), lines);
  }

  private loginAllowed(): boolean {
    return this.secure || this.settings.plaintextAllowed(this.client);
  }

  private refusePlaintext(): void {
    this.send(err('Plaintext authentication disallowed on non-secure (SSL/TLS) connections.', 'AUTH'));
  }

  private user(args: string): void {
    if (!this.loginAllowed()) return this.refusePlaintext();
    if (args === '') return this.bad('USER needs a user name.');
    this.pendingUser = args;
    this.send(ok());
  }

  private async pass(args: string): Promise<void> {
    if (!this.loginAllowed()) return this.refusePlaintext();
    const login = this.pendingUser;
    this.pendingUser = undefined;
    if (login === undefined) return this.bad('No user name given (USER first).');
    await this.login(login, args, 'PLAIN');
  }

  private async auth(args: string): Promise<void> {
    const [mechanism, initial, ...extra] = splitArgs(args);
    // AUTH without a mechanism lists them (as Dovecot answers; RFC 5034 leaves it to CAPA).
    if (mechanism === undefined) return this.send(multiLine(ok(), this.loginAllowed() ? ['PLAIN'] : []));
    if (!this.loginAllowed()) return this.refusePlaintext();
    if (mechanism.toUpperCase() !== 'PLAIN') return this.bad(`Unsupported authentication mechanism: ${printable(mechanism, 20)}`);
    if (extra.length > 0) return this.bad('AUTH PLAIN takes at most one initial response.');
    if (initial === undefined) {
      this.saslPending = true;
      return this.send('+ \r\n');
    }
    await this.saslResponse(initial);
  }

  private async saslResponse(text: string): Promise<void> {
    const r = decodePlainResponse(text);
    if (r.kind === 'cancel') return this.send(err('Authentication aborted by client.', 'AUTH'));
    if (r.kind === 'bad') return this.failLogin(r.login, 'PLAIN', r.problem);
    await this.login(r.login, r.password, 'PLAIN');
  }

  private async login(login: string, password: string, method: string): Promise<void> {
    const delay = this.settings.authFailures.delayMs(this.client);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay).unref());
    let user: string | undefined;
    try {
      user = login === '' ? undefined : await this.deps.accounts.authenticate(login, password);
    } catch (e) {
      this.deps.logger.error({ event: 'pop3-auth-error', err: (e as Error).message, client: this.client }, `pop3: accounts lookup failed: ${(e as Error).message}`);
      return this.send(err('Temporary authentication failure.', 'SYS/TEMP'));
    }
    if (user === undefined) return this.failLogin(login, method, 'Authentication failed.');
    if (this.state !== 'authorization') return;
    let handle: UserMailboxes | undefined;
    let lock: { release(): Promise<void> } | undefined;
    try {
      handle = await this.deps.store.openUser(user);
      lock = await handle.lockMaildrop(`pop3 ${this.id} ${this.client}`);
      if (lock === undefined) {
        await handle.release();
        this.deps.logger.warn({ event: 'pop3-in-use', user, client: this.client, session: this.id }, `pop3(${user})<${this.client}>: maildrop in use by another POP3 session`);
        this.logoutReason = 'Maildrop locked';
        return this.end(err('Mailbox is locked by another POP3 session.', 'IN-USE'));
      }
      const mailbox = await handle.open('INBOX', 'read-write');
      const snapshot = await mailbox.snapshot();
      this.tx = { user, handle, lock, mailbox, drop: new Maildrop(snapshot.records, mailbox.uidValidity) };
    } catch (e) {
      await lock?.release().catch(() => undefined);
      await handle?.release().catch(() => undefined);
      this.deps.logger.error({ event: 'pop3-open-error', err: (e as Error).message, user, client: this.client }, `pop3(${user}): cannot open INBOX: ${(e as Error).message}`);
      return this.send(err('Cannot open the mailbox now.', 'SYS/TEMP'));
    }
    this.state = 'transaction';
    this.badCommands = 0;
    logLogin(this.deps.logger, { user, client: this.client, method, tls: this.secure, session: this.id });
    // The connection may have gone during the login: pump() then releases what was just taken.
    this.send(ok('Logged in.'));
  }

  private failLogin(login: string, method: string, text: string): void {
    this.settings.authFailures.fail(this.client);
    this.authFailureCount++;
    logAuthFailure(this.deps.logger, { login: printable(login, 64), client: this.client, method, failures: this.authFailureCount, session: this.id });
    if (this.authFailureCount >= this.settings.config.authFailureLimit) {
      this.logoutReason = 'Too many authentication failures';
      return this.end(err(`${text} Too many failures: disconnecting.`, 'AUTH'));
    }
    this.send(err(text, 'AUTH'));
  }

  private async stls(args: string): Promise<void> {
    if (args !== '') return this.bad('STLS takes no arguments.');
    if (this.secure) return this.bad('TLS is already active.');
    const startTls = this.settings.startTls;
    if (!startTls) return this.bad('TLS is not available.');
    this.send(ok('Begin TLS negotiation now.'));
    // RFC 2595 §4 / RFC 3207's lesson: whatever the client sent behind STLS in plaintext is dropped, not run.
    this.queue.length = 0;
    this.reader.reset();
    const plain = this.socket;
    plain.off('data', this.onData);
    plain.removeAllListeners('timeout');
    plain.setTimeout(0);
    this.pendingUser = undefined;
    try {
      const tls = await startTls(plain);
      this.socket = tls;
      this.secure = true;
      this.attach(tls);
      if (this.paused) {
        this.paused = false;
        plain.resume();
      }
    } catch (e) {
      this.logoutReason = `TLS handshake failed: ${(e as Error).message}`;
      plain.destroy();
    }
  }

  private list(tx: Transaction, args: string, value: (m: DropMessage) => string): void {
    if (args === '') {
      const live = tx.drop.live();
      return this.send(multiLine(ok(), live.map((m) => `${m.number} ${value(m)}`)));
    }
    const m = this.message(tx, args);
    if (m !== undefined) this.send(ok(`${m.number} ${value(m)}`));
  }

  /** The message an argument names, or undefined after answering -ERR. */
  private message(tx: Transaction, args: string): DropMessage | undefined {
    const n = parseNumber(args, 'message');
    if ('problem' in n) {
      this.bad(n.problem);
      return undefined;
    }
    const found = tx.drop.get(n.value);
    if ('problem' in found) {
      this.send(err(found.problem));
      return undefined;
    }
    return found.message;
  }

  private async retr(tx: Transaction, args: string): Promise<void> {
    const m = this.message(tx, args);
    if (m === undefined) return;
    const sent = await this.sendMessage(tx, m, undefined);
    if (sent === undefined) return;
    tx.drop.retrieved(m);
    this.counts.retrieved++;
    this.counts.retrievedBytes += sent;
  }

  private async top(tx: Transaction, args: string): Promise<void> {
    const [number, lines, ...extra] = splitArgs(args);
    if (number === undefined || lines === undefined || extra.length > 0) return this.bad('TOP needs a message number and a line count.');
    const n = parseNumber(lines, 'lines');
    if ('problem' in n) return this.bad(n.problem);
    const m = this.message(tx, number);
    if (m === undefined) return;
    const sent = await this.sendMessage(tx, m, n.value);
    if (sent === undefined) return;
    this.counts.topCount++;
    this.counts.topBytes += sent;
  }

  /** Streams one message as a multi-line response (all of it, or TOP's cut); the octets sent, undefined on -ERR. */
  private async sendMessage(tx: Transaction, m: DropMessage, topLines: number | undefined): Promise<number | undefined> {
    const content = await tx.mailbox.openContent(m.uid);
    // Expunged by IMAP while the maildrop is locked: the files are gone (plan §1.5).
    if (content === undefined) {
      this.send(err('Message was removed by another client.'));
      return undefined;
    }
    const stream = content.read();
    try {
      this.send(ok(topLines === undefined ? `${m.size} octets` : 'Message follows'));
      return await writeMessageBody(stream as AsyncIterable<Buffer>, topLines, {
        write: (bytes) => this.write(bytes),
        drained: () => this.drained(),
        gone: () => this.gone,
      });
    } catch (e) {
      // Half a message is on the wire: no -ERR can follow it, the connection is cut instead.
      this.deps.logger.error({ event: 'pop3-read-error', err: (e as Error).message, uid: m.uid, client: this.client }, `pop3(${tx.user}): reading message UID ${m.uid} failed: ${(e as Error).message}`);
      this.logoutReason = 'Message read failed';
      this.socket.destroy();
      return undefined;
    } finally {
      stream.destroy();
      await content.close().catch(() => undefined);
    }
  }

  private drained(): Promise<void> {
    const socket = this.socket;
    if (socket.destroyed || !socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  private async quit(): Promise<void> {
    if (this.state !== 'transaction') {
      this.logoutReason = 'Logged out';
      return this.end(ok('Logging out.'));
    }
    const tx = this.tx!;
    this.state = 'update';
    const deleted = tx.drop.deletedUids();
    const seen = tx.drop.seenUids();
    this.counts.deleted = tx.drop.deletedCount;
    this.counts.deletedBytes = tx.drop.deletedSize;
    // Applied here once: cleanup must not apply \Seen again.
    tx.drop.reset();
    this.logoutReason = 'Disconnected: Logged out';
    try {
      if (seen.length > 0) await tx.mailbox.setFlags(seen, { mode: 'add', flags: ['\\Seen'] });
      if (deleted.length > 0) {
        await tx.mailbox.setFlags(deleted, { mode: 'add', flags: ['\\Deleted'] });
        await tx.mailbox.expunge(deleted);
      }
    } catch (e) {
      this.deps.logger.error({ event: 'pop3-update-error', err: (e as Error).message, user: tx.user, client: this.client }, `pop3(${tx.user}): UPDATE failed: ${(e as Error).message}`);
      return this.end(err('Some deleted messages were not removed.', 'SYS/TEMP'));
    }
    this.end(ok(deleted.length > 0 ? 'Logging out, messages deleted.' : 'Logging out.'));
  }

  private bad(text: string): void {
    this.badCommands++;
    if (this.badCommands > (this.state === 'authorization' ? BAD_BEFORE_LOGIN : BAD_AFTER_LOGIN)) {
      this.logoutReason = 'Too many bad commands';
      return this.end(err('Too many invalid bad commands.'));
    }
    this.send(err(text));
  }

  private send(data: string | Buffer): void {
    this.write(data);
  }

  /** Writes; false when the socket's buffer is full (the caller may wait for drain). */
  private write(data: string | Buffer): boolean {
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return true;
    this.counts.bytesOut += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    return socket.write(data);
  }

  private end(last?: string): void {
    const socket = this.socket;
    const first = !this.ending || socket.writable;
    this.ending = true;
    this.queue.length = 0;
    if (!first) return;
    if (last !== undefined) this.send(last);
    socket.end();
    // A client that never reads its last reply: the connection is not kept past the idle timeout either.
    socket.removeAllListeners('timeout');
    socket.setTimeout(timerDelay(this.settings.config.idleTimeout * 1000), () => socket.destroy());
  }

  /** After the connection is gone: \Seen for RETR'd messages (as Dovecot; never deletions), the lock released. */
  private async cleanup(): Promise<void> {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    const tx = this.tx;
    this.tx = undefined;
    try {
      if (tx) {
        const seen = tx.drop.seenUids();
        if (seen.length > 0) await tx.mailbox.setFlags(seen, { mode: 'add', flags: ['\\Seen'] }).catch(() => undefined);
        logLogout(this.deps.logger, {
          user: tx.user,
          client: this.client,
          reason: this.logoutReason,
          session: this.id,
          counts: this.counts,
          messages: tx.drop.count,
          size: tx.drop.totalSize,
        });
        await tx.mailbox.close().catch(() => undefined);
        await tx.lock.release().catch(() => undefined);
        await tx.handle.release().catch(() => undefined);
      }
    } finally {
      this.resolveFinished();
    }
  }
}

const TRANSACTION_COMMANDS = new Set(['STAT', 'LIST', 'RETR', 'DELE', 'NOOP', 'RSET', 'TOP', 'UIDL']);

export type { ResponseCode };
