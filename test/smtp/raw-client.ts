/**
 * A bare SMTP client over a socket, for what swaks cannot say: DSN parameters, commands pipelined after
 * STARTTLS, bytes in DATA exactly as given. Reads replies (multi-line included) one at a time.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

export class RawClient {
  private buffer = '';
  private waiters: (() => void)[] = [];
  private ended = false;

  private constructor(private socket: Socket | TLSSocket) {
    this.listen(socket);
  }

  static async open(port: number, tls = false): Promise<RawClient> {
    const socket: Socket | TLSSocket = tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once(tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  private listen(socket: Socket | TLSSocket): void {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buffer += d;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  write(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** The next whole reply ("250-a\r\n250 b\r\n" → its lines), or undefined when the connection ended. */
  async reply(timeoutMs = 10_000): Promise<string[] | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.buffer.split('\r\n');
      for (let i = 0; i < lines.length - 1; i++) {
        if (/^\d{3} /.test(lines[i]!) || /^\d{3}$/.test(lines[i]!)) {
          const out = lines.slice(0, i + 1);
          this.buffer = lines.slice(i + 1).join('\r\n');
          return out;
        }
      }
      if (this.ended) return undefined;
      if (Date.now() > deadline) throw new Error(`no reply within ${timeoutMs} ms; have ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200).unref();
      });
    }
  }

  /** Sends one command and returns the last line of its reply. */
  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    const r = await this.reply();
    return r ? r[r.length - 1]! : '(closed)';
  }

  /** STARTTLS already answered with 220: the TLS handshake on the same socket. */
  async startTls(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secure = tlsConnect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.buffer = '';
    this.socket = secure;
    this.listen(secure);
  }

  close(): void {
    this.socket.destroy();
  }
}
