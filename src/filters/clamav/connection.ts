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

export function clamdRequest(spec: ConnectionSpec, request: readonly Buffer[], timeouts: ClamdTimeouts): Promise<string> {
  const address = describeAddress(spec);
  return new Promise<string>((resolve, reject) => {
    const socket: Socket = spec.type === 'unix' ? connect({ path: spec.path }) : connect({ host: spec.host, port: spec.port, noDelay: true });
    let connected = false;
    let settled = false;
    let received: Buffer = Buffer.alloc(0);
    const finish = (err: ClamdError | undefined, reply?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      socket.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    // After the reply, destroy() still emits 'close': no error object (and its stack) for that.
    const fail = (message: string): void => {
      if (!settled) finish(new ClamdError(connected ? 'exchange' : 'connect', address, message));
    };
    const connectTimer = setTimeout(() => fail(`no connection within ${timeouts.connectMs / 1000} s`), timeouts.connectMs);
    socket.once('connect', () => {
      connected = true;
      clearTimeout(connectTimer);
      socket.setTimeout(timeouts.readMs, () => fail(`no answer within ${timeouts.readMs / 1000} s`));
      // A small request goes out as one buffer (one write); a large one as is, without copying it.
      const size = request.reduce((n, b) => n + b.length, 0);
      if (request.length === 1 || size <= ONE_WRITE_LIMIT) {
        socket.write(request.length === 1 ? request[0]! : Buffer.concat(request as Buffer[], size));
      } else {
        socket.cork();
        for (const b of request) socket.write(b);
        socket.uncork();
      }
    });
    socket.on('data', (data: Buffer) => {
      received = received.length === 0 ? data : Buffer.concat([received, data]);
      let reply: string | undefined;
      try {
        reply = takeReply(received);
      } catch (err) {
        fail(`garbage reply: ${(err as Error).message}`);
        return;
      }
      if (reply !== undefined) finish(undefined, reply);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const text = err.code && !err.message.includes(err.code) ? `${err.code} (${err.message})` : err.message;
      // clamd answers "INSTREAM size limit exceeded" and closes; a write still under way can fail before that reply is read.
      const hint = connected && (err.code === 'EPIPE' || err.code === 'ECONNRESET') ? ' while sending; clamd does this when a stream exceeds its StreamMaxLength' : '';
      fail(`${text}${hint}`);
    });
    socket.on('close', () => {
      if (received.length === 0) fail('closed the connection without a reply');
      else fail(`closed the connection in the middle of its reply (${JSON.stringify(received.toString('latin1', 0, 80))})`);
    });
  });
}
