/**
 * bench:imap's IMAP client: minimal, pipelining, on a raw socket, the same code for both servers so that
 * its own cost is the same on both sides. It frames responses (lines and the literals they announce,
 * whose bytes it skips without keeping), matches tagged completions to commands, counts untagged
 * responses, and keeps only the first lines a command asks for (SEARCH, EXISTS). No IMAP library: a
 * general client parses every response into objects, which would add its own time to every figure.
 */
import { connect, type Socket } from 'node:net';

export interface Reply {
  readonly status: 'OK' | 'NO' | 'BAD' | 'BYE';
  /** The tagged line's text after the status. */
  readonly text: string;
  /** Untagged responses received while the command was the oldest outstanding one. */
  readonly untagged: number;
  /** First lines of the untagged responses that `keep` accepted (latin1, without CRLF). */
  readonly kept: readonly string[];
  readonly ms: number;
}

interface Pending {
  readonly tag: string;
  readonly keep: ((firstLine: string) => boolean) | undefined;
  readonly keepPrefix: Buffer | undefined;
  readonly started: number;
  untagged: number;
  readonly kept: string[];
  resolve(r: Reply): void;
  reject(e: Error): void;
}

export interface CommandOptions {
  /** Keep the untagged responses whose first line starts with this (e.g. '* SEARCH'). */
  keep?: string;
}

const CR = 13;
const LF = 10;
const BRACE_CLOSE = 0x7d;

export class ImapClient {
  private rest: Buffer | undefined;
  private literalLeft = 0;
  /** The current response's first line is done and a literal followed it: the next line continues it. */
  private continued = false;
  private readonly pending = new Map<string, Pending>();
  /** Commands in the order sent: untagged responses are counted for the oldest. */
  private readonly order: Pending[] = [];
  private seq = 0;
  private closed: Error | undefined;
  private greetingWaiter: ((line: string) => void) | undefined;
  private greeting: string | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  /** Connects and waits for the greeting. */
  static async connect(port: number, host = '127.0.0.1', timeoutMs = 60_000): Promise<ImapClient> {
    const socket = connect({ port, host });
    const client = new ImapClient(socket);
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no greeting from ${host}:${port} in ${timeoutMs} ms`)), timeoutMs);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      client.greetingWaiter = (l) => {
        clearTimeout(timer);
        resolve(l);
      };
      if (client.greeting !== undefined) client.greetingWaiter(client.greeting);
    });
    if (!line.startsWith('* OK')) throw new Error(`greeting: ${line}`);
    return client;
  }

  /** Sends `text` (one line, no CRLF; or raw parts for literals) and resolves on its tagged completion. */
  command(text: string | readonly (string | Buffer)[], opts: CommandOptions = {}): Promise<Reply> {
    if (this.closed) return Promise.reject(this.closed);
    const tag = `b${(++this.seq).toString(36)}`;
    return new Promise<Reply>((resolve, reject) => {
      const p: Pending = {
        tag,
        keep: undefined,
        keepPrefix: opts.keep === undefined ? undefined : Buffer.from(opts.keep, 'latin1'),
        started: performance.now(),
        untagged: 0,
        kept: [],
        resolve,
        reject,
      };
      this.pending.set(tag, p);
      this.order.push(p);
      if (typeof text === 'string') {
        this.socket.write(`${tag} ${text}\r\n`);
      } else {
        this.socket.cork();
        this.socket.write(`${tag} `);
        for (const part of text) this.socket.write(part);
        this.socket.write('\r\n');
        this.socket.uncork();
      }
    });
  }

  /** Resolves once the socket has room again (for a long pipelined run of commands). */
  drained(): Promise<void> {
    return this.socket.writableNeedDrain ? new Promise((r) => this.socket.once('drain', () => r())) : Promise.resolve();
  }

  /** The command, failing unless the server answered OK. */
  async ok(text: string | readonly (string | Buffer)[], opts?: CommandOptions): Promise<Reply> {
    const r = await this.command(text, opts);
    if (r.status !== 'OK') throw new Error(`${typeof text === 'string' ? text.slice(0, 60) : 'command'}: ${r.status} ${r.text}`);
    return r;
  }

  async login(user: string, password: string): Promise<void> {
    await this.ok(`LOGIN ${quote(user)} ${quote(password)}`);
  }

  /** SELECT (or EXAMINE); the EXISTS count. */
  async select(mailbox = 'INBOX', examine = false): Promise<{ exists: number; ms: number }> {
    const r = await this.ok(`${examine ? 'EXAMINE' : 'SELECT'} ${quote(mailbox)}`, { keep: '* ' });
    let exists = NaN;
    for (const l of r.kept) {
      const m = /^\* (\d+) EXISTS/.exec(l);
      if (m) exists = Number(m[1]);
    }
    return { exists, ms: r.ms };
  }

  /** LOGOUT, then the socket closes. */
  async logout(): Promise<void> {
    const closed = new Promise<void>((r) => (this.socket.destroyed ? r() : this.socket.once('close', () => r())));
    await this.command('LOGOUT').catch(() => undefined);
    this.socket.end();
    await closed;
  }

  /** Cuts the connection without LOGOUT. */
  destroy(): void {
    this.socket.destroy();
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.closed = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.order.length = 0;
  }

  private onData(chunk: Buffer): void {
    const data = this.rest === undefined ? chunk : Buffer.concat([this.rest, chunk]);
    this.rest = undefined;
    let pos = 0;
    while (pos < data.length) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, data.length - pos);
        pos += take;
        this.literalLeft -= take;
        if (this.literalLeft > 0) return;
        continue;
      }
      const nl = data.indexOf(LF, pos);
      if (nl < 0) {
        if (pos < data.length) this.rest = Buffer.from(data.subarray(pos));
        return;
      }
      const lineEnd = nl > pos && data[nl - 1] === CR ? nl - 1 : nl;
      const literal = lineEnd > pos && data[lineEnd - 1] === BRACE_CLOSE ? literalSize(data, pos, lineEnd) : -1;
      if (!this.continued) this.onFirstLine(data, pos, lineEnd);
      if (literal >= 0) {
        this.literalLeft = literal;
        this.continued = true;
      } else {
        this.continued = false;
      }
      pos = nl + 1;
    }
  }

  private onFirstLine(data: Buffer, start: number, end: number): void {
    if (this.greeting === undefined) {
      this.greeting = data.toString('latin1', start, end);
      this.greetingWaiter?.(this.greeting);
      return;
    }
    if (data[start] === 0x2a /* * */) {
      const p = this.order[0];
      if (p === undefined) return; // an unsolicited update between commands (or BYE at LOGOUT)
      p.untagged++;
      if (p.keepPrefix !== undefined && end - start >= p.keepPrefix.length && data.compare(p.keepPrefix, 0, p.keepPrefix.length, start, start + p.keepPrefix.length) === 0) {
        p.kept.push(data.toString('latin1', start, end));
      }
      return;
    }
    if (data[start] === 0x2b /* + */) return; // continuation: every literal we send is LITERAL+
    const line = data.toString('latin1', start, end);
    const sp = line.indexOf(' ');
    const tag = line.slice(0, sp);
    const p = this.pending.get(tag);
    if (p === undefined) return;
    this.pending.delete(tag);
    const i = this.order.indexOf(p);
    if (i >= 0) this.order.splice(i, 1);
    const rest = line.slice(sp + 1);
    const sp2 = rest.indexOf(' ');
    const status = (sp2 < 0 ? rest : rest.slice(0, sp2)).toUpperCase() as Reply['status'];
    p.resolve({ status, text: sp2 < 0 ? '' : rest.slice(sp2 + 1), untagged: p.untagged, kept: p.kept, ms: performance.now() - p.started });
  }
}

/** `{123}` at the end of the line [start, end): 123, else -1. */
function literalSize(data: Buffer, start: number, end: number): number {
  let i = end - 2;
  let n = 0;
  let mul = 1;
  while (i >= start && data[i]! >= 0x30 && data[i]! <= 0x39) {
    n += (data[i]! - 0x30) * mul;
    mul *= 10;
    i--;
  }
  return i >= start && data[i] === 0x7b && i < end - 2 ? n : -1;
}

/** An IMAP quoted string. */
export function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** LF line ends to CRLF (the corpus is stored with LF; IMAP literals carry CRLF). */
export function toCrlf(lf: Buffer): Buffer {
  return Buffer.from(lf.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}
