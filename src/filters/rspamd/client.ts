/**
 * POST /checkv2 to rspamd's normal worker over node:http (TCP or a unix socket). One connection per
 * message (no keep-alive: a stale pooled socket would fail a POST that cannot be retried), one
 * deadline over connect + send + answer, and a cap on the answer's size.
 */
import { request } from 'node:http';
import type { RequestHeaders } from './request.js';
import { timerDelay } from '../../config/timer-limit.js';

export interface RspamdTarget {
  /** Base URL, e.g. http://127.0.0.1:11333; its path is kept as a prefix. */
  readonly url: string;
  /** Unix socket; when set, the URL's host and port are not used. */
  readonly socket?: string;
}

export type TransportErrorReason = 'timeout' | 'connect' | 'io' | 'http-status' | 'too-large';

export class RspamdTransportError extends Error {
  override readonly name = 'RspamdTransportError';
  constructor(
    readonly reason: TransportErrorReason,
    message: string,
    /** The answer's body, for http-status (rspamd puts {"error": ...} there). */
    readonly body?: string,
  ) {
    super(message);
  }
}

export interface CheckOptions {
  readonly timeoutMs: number;
  /** Largest answer accepted; default 4 MiB (a normal answer is a few KiB). */
  readonly maxReplyBytes?: number;
}

const DEFAULT_MAX_REPLY = 4 * 1024 * 1024;

/** Where `url` sends /checkv2: host, port, path. */
export function checkEndpoint(target: RspamdTarget): { host: string; port: number; path: string } {
  const u = new URL(target.url);
  const prefix = u.pathname.replace(/\/+$/, '');
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port === '' ? 80 : Number(u.port), path: `${prefix}/checkv2` };
}

/** The answer body of a 200 reply; any other outcome is an RspamdTransportError. */
export function postCheckV2(target: RspamdTarget, headers: RequestHeaders, message: Buffer, opts: CheckOptions): Promise<Buffer> {
  const { host, port, path } = checkEndpoint(target);
  const where = target.socket !== undefined ? `unix:${target.socket}` : `${host}:${port}`;
  const maxReply = opts.maxReplyBytes ?? DEFAULT_MAX_REPLY;
  return new Promise<Buffer>((resolve, reject) => {
    let settled = false;
    const finish = (err: RspamdTransportError | undefined, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(body!);
    };
    const req = request({
      ...(target.socket !== undefined ? { socketPath: target.socket } : { host, port }),
      method: 'POST',
      path,
      agent: false,
      headers: { ...headers, 'Content-Length': String(message.length), Connection: 'close' },
    });
    const timer = setTimeout(() => finish(new RspamdTransportError('timeout', `no answer from rspamd at ${where} within ${opts.timeoutMs} ms`)), timerDelay(opts.timeoutMs));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const connectCodes = ['ECONNREFUSED', 'ENOENT', 'EACCES', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTSOCK'];
      const reason = err.code !== undefined && connectCodes.includes(err.code) ? 'connect' : 'io';
      finish(new RspamdTransportError(reason, `rspamd at ${where}: ${err.code ?? err.message}${reason === 'io' ? ` (${err.message})` : ''}`));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxReply) {
          finish(new RspamdTransportError('too-large', `rspamd at ${where}: answer larger than ${maxReply} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (err) => finish(new RspamdTransportError('io', `rspamd at ${where}: ${err.message}`)));
      res.on('aborted', () => finish(new RspamdTransportError('io', `rspamd at ${where}: connection closed mid-answer`)));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        if (res.statusCode !== 200) {
          const text = body.toString('utf8').slice(0, 200);
          finish(new RspamdTransportError('http-status', `rspamd at ${where}: HTTP ${res.statusCode ?? '?'} ${res.statusMessage ?? ''}`.trim(), text));
          return;
        }
        finish(undefined, body);
      });
    });
    req.end(message);
  });
}
