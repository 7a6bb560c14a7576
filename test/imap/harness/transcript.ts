/**
 * IMAP sessions without sockets: an ImapSession over an in-memory duplex, with the in-memory mailbox store
 * and fake accounts, driven by scripts of `C:` lines (sent) and `S:` lines (expected, in order) where `*`
 * stands for any text (a leading "* " is the untagged marker itself). Milliseconds per test.
 *
 *   await run(env, `
 *     C: a1 LOGIN alice secret
 *     S: a1 OK [CAPABILITY *] Logged in
 *   `);
 */
import { Duplex } from 'node:stream';
import { expect } from 'vitest';
import type { Logger } from '../../../src/mail/logger.js';
import { MemoryMailboxStore } from '../../../src/store/mailbox/memory.js';
import type { AnyCommandHandler } from '../../../src/imap/command.js';
import { COMMANDS } from '../../../src/imap/commands/index.js';
import { Connection } from '../../../src/imap/connection.js';
import { LoginGuard } from '../../../src/imap/login-guard.js';
import { ImapSession, type SessionSettings } from '../../../src/imap/session.js';

/** Two connected duplex ends (stream.duplexPair is Node 22+). */
export function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (other: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        other().push(chunk);
        cb();
      },
      final(cb) {
        other().push(null);
        cb();
      },
      destroy(err, cb) {
        const o = other();
        if (!o.destroyed) o.push(null);
        cb(err);
      },
    });
  ends.push(make(() => ends[1]!), make(() => ends[0]!));
  return [ends[0]!, ends[1]!];
}

export class FakeAccounts {
  constructor(readonly users: Record<string, string> = { alice: 'secret', bob: 'hunter2' }) {}
  authenticate(login: string, password: string): Promise<string | undefined> {
    const user = login.toLowerCase();
    return Promise.resolve(this.users[user] !== undefined && this.users[user] === password ? user : undefined);
  }
}

export function captureLogger(lines: string[]): Logger {
  const log = (o: unknown, msg?: string): void => {
    lines.push(typeof o === 'string' ? o : (msg ?? JSON.stringify(o)));
  };
  const logger = { debug: () => undefined, info: log, warn: log, error: log, child: () => logger };
  return logger as unknown as Logger;
}

export interface EnvOptions {
  readonly plaintextAuthNetworks?: readonly string[];
  readonly authFailureLimit?: number;
  readonly settings?: Partial<SessionSettings>;
  readonly maxLineLength?: number;
  readonly appendLimit?: number;
  /** Extra or replacement handlers (a test's fake FETCH), added to the real table. */
  readonly commands?: readonly AnyCommandHandler[];
}

export interface ClientOptions {
  /** The client's address (default 127.0.0.1, inside the default plaintext networks). */
  readonly address?: string;
  readonly tls?: boolean;
}

/** One test's world: a store, accounts, a log, and sessions opened on demand. */
export class Env {
  readonly store = new MemoryMailboxStore();
  readonly accounts = new FakeAccounts();
  readonly logs: string[] = [];
  readonly guard: LoginGuard;
  private readonly clients: Client[] = [];

  constructor(readonly options: EnvOptions = {}) {
    this.guard = new LoginGuard({
      plaintextAuthNetworks: options.plaintextAuthNetworks ?? ['127.0.0.0/8', '::1/128'],
      authFailureLimit: options.authFailureLimit ?? 3,
      failureDelayMs: 1,
    });
  }

  /** A new session; its greeting is read already. */
  async client(options: ClientOptions = {}): Promise<Client> {
    const [serverSide, clientSide] = duplexPair();
    const conn = new Connection(serverSide, { maxLineLength: this.options.maxLineLength ?? 65536, maxLiteralSize: this.options.appendLimit ?? 10_000_000 });
    const settings: SessionSettings = {
      greeting: 'Mailgate ready.',
      loginTimeoutMs: 60_000,
      idleTimeoutMs: 1_800_000,
      idleKeepaliveMs: 120_000,
      appendLimit: this.options.appendLimit ?? 10_000_000,
      ...this.options.settings,
    };
    const session = new ImapSession(conn, { address: options.address ?? '127.0.0.1', tls: options.tls ?? false }, settings, {
      accounts: this.accounts,
      store: this.store,
      logger: captureLogger(this.logs),
      guard: this.guard,
      commands: this.options.commands === undefined ? COMMANDS : new Map([...COMMANDS, ...this.options.commands.map((h) => [h.name, h] as const)]),
    });
    const client = new Client(clientSide, session, session.run());
    this.clients.push(client);
    await client.line();
    return client;
  }

  /** Ends every session (the test's afterEach). */
  async close(): Promise<void> {
    for (const c of this.clients) c.socket.destroy();
    await Promise.all(this.clients.map((c) => c.done));
  }
}

/** A client end over any duplex (an in-memory one, a TCP or TLS socket): send lines, read response lines. */
export class LineClient {
  private buf = '';
  private lines: string[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;

  constructor(readonly socket: Duplex) {
    socket.on('data', (chunk: Buffer) => {
      this.buf += chunk.toString('latin1');
      let i: number;
      while ((i = this.buf.indexOf('\r\n')) !== -1) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 2);
      }
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** The next response line (without CRLF); throws when the server closed first, or after 5 s. */
  async line(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.ended) throw new Error('server closed the connection');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no response line within the time limit');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.lines.shift()!;
  }

  /** Whether the server closed the connection (after reading what it sent). */
  async closed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return this.ended;
  }

  /** Lines not read yet (a test's check that nothing more came). */
  unread(): string[] {
    return this.lines.splice(0);
  }

  /** Runs a script: `C: text` sends text + CRLF, `S: pattern` reads a line and matches it. */
  async run(script: string): Promise<void> {
    for (const raw of script.split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      if (line === 'C:') this.send('\r\n');
      else if (line.startsWith('C: ')) this.send(line.slice(3) + '\r\n');
      else if (line.startsWith('S: ')) {
        const want = line.slice(3);
        const got = await this.line().catch((err: Error) => `<${err.message}>`);
        expect(got, `expected ${want}`).toMatch(pattern(want));
      } else throw new Error(`bad script line: ${line}`);
    }
  }
}

/** The client end of an in-memory session, with the session itself. */
export class Client extends LineClient {
  constructor(
    socket: Duplex,
    readonly session: ImapSession,
    readonly done: Promise<void>,
  ) {
    super(socket);
  }
}

/** `*` is any text; a leading "* " is the untagged marker. */
export function pattern(want: string): RegExp {
  const untagged = want.startsWith('* ');
  const body = untagged ? want.slice(2) : want;
  const re = body
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${untagged ? '\\* ' : ''}${re}$`);
}

/** A session logged in as alice. */
export async function loggedIn(env: Env, user = 'alice', password = 'secret'): Promise<Client> {
  const c = await env.client();
  await c.run(`
    C: L1 LOGIN ${user} ${password}
    S: L1 OK *
  `);
  return c;
}
