/**
 * One clamd request on one connection (clamd answers one command per connection outside IDSESSION):
 * connect within the connect timeout, write the request, read one NUL-terminated reply; the socket
 * may not stay silent longer than the read timeout at any point. Always ends the socket.
 */
import { connect, type Socket } from 'node:net';
import type { ConnectionSpec } from '../../config/connection-spec.js';
import { takeReply } from './protocol.js';

const ONE_WRITE_LIMIT = 64 * 1024;

export interface ClamdTimeouts {
  readonly connectMs: number;
  /** Longest silence while sending and while waiting for the reply (clamav-milter's ReadTimeout). */
  readonly readMs: number;
}

/** Where a request failed: `connect` failures make the pool try the next address. */
export type ClamdPhase = 'connect' | 'exchange';

export class ClamdError extends Error {
  override readonly name = 'ClamdError';
  constructor(
    readonly phase: ClamdPhase,
    readonly address: string,
    /** What went wrong, without the address. */
    readonly reason: string,
  ) {
    super(`clamd ${address}: ${reason}`);
  }
}

export function describeAddress(spec: ConnectionSpec): string {
  if (spec.type === 'unix') return `unix:${spec.path}`;
  return spec.family === 6 ? `inet6:${spec.port}@[${spec.host}]` : `inet:${spec.port}@${spec.host}`;
}

/**
 * One connection to clamd, opened before it is needed: clamav-milter connects when the message starts,
 * so connecting overlaps the MTA's round trips instead of delaying end of message. It takes one request.
 */
export class ClamdConnection {
  readonly address: string;
  /** Settles once connected; rejects with a `connect` ClamdError (never unhandled). */
  readonly connected: Promise<void>;
  private readonly socket: Socket;
  private isConnected = false;
  private closed = false;
  private pending: { request: readonly Buffer[]; resolve(reply: string): void; reject(err: ClamdError): void } | undefined;
  private used = false;
  private received: Buffer = Buffer.alloc(0);
  private readonly connectTimer: NodeJS.Timeout;
  private onConnected!: () => void;
  private onConnectFailed!: (err: ClamdError) => void;

  constructor(
    spec: ConnectionSpec,
    private readonly timeouts: ClamdTimeouts,
  ) {
    this.address = describeAddress(spec);
    this.connected = new Promise<void>((resolve, reject) => {
      this.onConnected = resolve;
      this.onConnectFailed = reject;
    });
    this.connected.catch(() => undefined);
    this.socket = spec.type === 'unix' ? connect({ path: spec.path }) : connect({ host: spec.host, port: spec.port, noDelay: true });
    this.connectTimer = setTimeout(() => this.fail(`no connection within ${timeouts.connectMs / 1000} s`), timeouts.connectMs);
    this.socket.once('connect', () => {
      this.isConnected = true;
      clearTimeout(this.connectTimer);
      this.onConnected();
      if (this.pending) this.write(this.pending.request);
    });
    this.socket.on('data', (data: Buffer) => this.onData(data));
    this.socket.on('error', (err: NodeJS.ErrnoException) => {
      const text = err.code && !err.message.includes(err.code) ? `${err.code} (${err.message})` : err.message;
      // clamd answers "INSTREAM size limit exceeded" and closes; a write still under way can fail before that reply is read.
      const hint = this.isConnected && (err.code === 'EPIPE' || err.code === 'ECONNRESET') ? ' while sending; clamd does this when a stream exceeds its StreamMaxLength' : '';
      this.fail(`${text}${hint}`);
    });
    this.socket.on('close', () => {
      if (this.received.length === 0) this.fail('closed the connection without a reply');
      else this.fail(`closed the connection in the middle of its reply (${JSON.stringify(this.received.toString('latin1', 0, 80))})`);
    });
  }

  /** Not used yet and not failed (clamd may have closed an idle connection: then it is not usable). */
  usable(): boolean {
    return !this.used && !this.closed;
  }

  /** Sends `request` (now, or once connected) and resolves with clamd's one reply. */
  send(request: readonly Buffer[]): Promise<string> {
    if (!this.usable()) return Promise.reject(new ClamdError(this.isConnected ? 'exchange' : 'connect', this.address, 'connection already used or closed'));
    this.used = true;
    return new Promise<string>((resolve, reject) => {
      this.pending = { request, resolve, reject };
      if (this.isConnected) this.write(request);
    });
  }

  close(): void {
    this.finish();
  }

  private write(request: readonly Buffer[]): void {
    this.socket.setTimeout(this.timeouts.readMs, () => this.fail(`no answer within ${this.timeouts.readMs / 1000} s`));
    // A small request goes out as one buffer (one write); a large one as is, without copying it.
    const size = request.reduce((n, b) => n + b.length, 0);
    if (request.length === 1 || size <= ONE_WRITE_LIMIT) {
      this.socket.write(request.length === 1 ? request[0]! : Buffer.concat(request as Buffer[], size));
    } else {
      this.socket.cork();
      for (const b of request) this.socket.write(b);
      this.socket.uncork();
    }
  }

  private onData(data: Buffer): void {
    this.received = this.received.length === 0 ? data : Buffer.concat([this.received, data]);
    if (!this.pending) {
      this.fail('spoke before it was asked anything');
      return;
    }
    let reply: string | undefined;
    try {
      reply = takeReply(this.received);
    } catch (err) {
      this.fail(`garbage reply: ${(err as Error).message}`);
      return;
    }
    if (reply !== undefined) {
      const { resolve } = this.pending;
      this.finish();
      resolve(reply);
    }
  }

  /** Ends the connection; a request in flight fails with `message`. */
  private fail(message: string): void {
    if (this.closed) return;
    const err = new ClamdError(this.isConnected ? 'exchange' : 'connect', this.address, message);
    const pending = this.pending;
    if (!this.isConnected) this.onConnectFailed(err);
    this.finish();
    pending?.reject(err);
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = undefined;
    clearTimeout(this.connectTimer);
    this.socket.destroy();
  }
}

/** One request on a new connection. */
export function clamdRequest(spec: ConnectionSpec, request: readonly Buffer[], timeouts: ClamdTimeouts): Promise<string> {
  return new ClamdConnection(spec, timeouts).send(request);
}
