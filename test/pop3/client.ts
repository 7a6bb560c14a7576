/**
 * A bare POP3 client for the session tests (and the Dovecot differential test): raw lines over a loopback
 * socket, STLS, multi-line responses un-stuffed with the codec's own decoder. Every wait has a hang guard.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { unstuff } from '../../src/pop3/wire.js';

const HANG_MS = 15_000;

export class Pop3TestClient {
  private buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  ended = false;

  private constructor(private socket: Socket) {
    this.listen(socket);
  }

  static async connect(port: number, opts: { tls?: boolean; host?: string } = {}): Promise<Pop3TestClient> {
    const host = opts.host ?? '127.0.0.1';
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = opts.tls ? connectTls({ host, port, rejectUnauthorized: false }, () => resolve(s)) : connectTcp({ host, port }, () => resolve(s));
      s.once('error', reject);
    });
    return new Pop3TestClient(socket);
  }

  private listen(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake?.();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits until `take` finds what it wants in the buffer (it returns the bytes consumed and a value). */
  private async wait<T>(what: string, take: (b: Buffer) => { used: number; value: T } | undefined): Promise<T> {
    const deadline = Date.now() + HANG_MS;
    for (;;) {
      const got = take(this.buffer);
      if (got !== undefined) {
        this.buffer = this.buffer.subarray(got.used);
        return got.value;
      }
      if (this.ended) throw new Error(`connection closed while waiting for ${what}; buffered: ${JSON.stringify(this.buffer.toString('latin1'))}`);
      if (Date.now() > deadline) throw new Error(`hang guard: no ${what}; buffered: ${JSON.stringify(this.buffer.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** The next line without its CRLF. */
  line(): Promise<string> {
    return this.wait('a line', (b) => {
      const i = b.indexOf('\r\n');
      return i === -1 ? undefined : { used: i + 2, value: b.subarray(0, i).toString('utf8') };
    });
  }

  /** A multi-line body up to its terminating dot, un-stuffed (CRLF line ends kept). */
  body(): Promise<Buffer> {
    return this.wait('a multi-line body', (b) => {
      const r = unstuff(b);
      return r.complete ? { used: b.length - r.rest.length, value: r.body } : undefined;
    });
  }

  async command(line: string): Promise<string> {
    this.send(line + '\r\n');
    return this.line();
  }

  /** A command whose +OK answer has a body; the body is empty after -ERR. */
  async multi(line: string): Promise<{ status: string; body: Buffer }> {
    const status = await this.command(line);
    return { status, body: status.startsWith('+OK') ? await this.body() : Buffer.alloc(0) };
  }

  async lines(line: string): Promise<{ status: string; lines: string[] }> {
    const r = await this.multi(line);
    const text = r.body.toString('utf8');
    return { status: r.status, lines: text === '' ? [] : text.replace(/\r\n$/, '').split('\r\n') };
  }

  /** STLS, then the TLS handshake on the same socket. */
  async stls(): Promise<string> {
    const status = await this.command('STLS');
    if (!status.startsWith('+OK')) return status;
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    this.socket = await new Promise<Socket>((resolve, reject) => {
      const s = connectTls({ socket: plain, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    this.listen(this.socket);
    return status;
  }

  /** Resolves when the server has closed the connection. */
  async closed(): Promise<void> {
    await this.wait('the end of the connection', () => (this.ended ? { used: 0, value: undefined } : undefined)).catch((e: Error) => {
      if (!this.ended) throw e;
    });
  }

  get secure(): boolean {
    return 'encrypted' in this.socket;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
