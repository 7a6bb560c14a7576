/**
 * One SPAMC request to spamd over a unix or TCP socket, like spamc: connect, write the request,
 * half-close, read the answer. Every way this can go wrong ends as a SpamdError within the
 * timeouts; nothing else is thrown.
 */
import { createConnection, type Socket } from 'node:net';
import { describeSpamdAddress, type SpamdAddress } from './address.js';
import { describeCode, encodeSpamdRequest, EX_OK, parseSpamdResponse, responseLength, SpamdProtocolError, type SpamdCommand, type SpamdResponse } from './protocol.js';
import { timerDelay } from '../../config/timer-limit.js';

export type SpamdFailure =
  /** Could not connect (refused, no such socket, connect timeout). */
  | 'unreachable'
  /** No complete answer within the total timeout. */
  | 'timeout'
  /** The answer is not SPAMD protocol, or was cut short. */
  | 'protocol'
  /** spamd answered with an error code (EX_TEMPFAIL, EX_PROTOCOL, ...). */
  | 'error';

export class SpamdError extends Error {
  override readonly name = 'SpamdError';
  constructor(
    readonly failure: SpamdFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface SpamdClientOptions {
  readonly address: SpamdAddress;
  /** Milliseconds to get connected. */
  readonly connectTimeoutMs: number;
  /** Milliseconds for the whole request, connect included. */
  readonly timeoutMs: number;
}

export interface SpamdCallOptions {
  readonly user?: string;
  /** Largest answer accepted; a server sending more is misbehaving. Default: 2 × message + 1 MiB. */
  readonly maxResponseBytes?: number;
}

export function spamdCall(
  client: SpamdClientOptions,
  command: SpamdCommand,
  message: Buffer,
  options: SpamdCallOptions = {},
): Promise<SpamdResponse> {
  const where = describeSpamdAddress(client.address);
  const maxBytes = options.maxResponseBytes ?? 2 * message.length + 1024 * 1024;
  const request = encodeSpamdRequest(command, message, options.user === undefined ? {} : { user: options.user });
  return new Promise<SpamdResponse>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let expected: number | undefined;
    let connected = false;
    let settled = false;
    const socket: Socket = createConnection('path' in client.address ? { path: client.address.path } : { host: client.address.host, port: client.address.port });

    const finish = (err: SpamdError | undefined, response?: SpamdResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(totalTimer);
      socket.destroy();
      if (err !== undefined) reject(err);
      else resolve(response!);
    };
    /** Parses what arrived; a spamd error code becomes a SpamdError. */
    const conclude = (): void => {
      let response: SpamdResponse;
      try {
        response = parseSpamdResponse(Buffer.concat(chunks, received));
      } catch (err) {
        finish(new SpamdError('protocol', `spamd ${where}: ${(err as Error).message}`));
        return;
      }
      if (response.code !== EX_OK) {
        const text = response.message === '' ? '' : `: ${response.message}`;
        finish(new SpamdError('error', `spamd ${where} answered ${describeCode(response.code)}${text}`));
        return;
      }
      finish(undefined, response);
    };

    const connectTimer = setTimeout(() => {
      finish(new SpamdError('unreachable', `spamd ${where}: not connected within ${client.connectTimeoutMs} ms`));
    }, timerDelay(client.connectTimeoutMs));
    const totalTimer = setTimeout(() => {
      finish(new SpamdError('timeout', `spamd ${where}: no complete answer within ${client.timeoutMs} ms (got ${received} bytes)`));
    }, timerDelay(client.timeoutMs));

    socket.once('connect', () => {
      connected = true;
      clearTimeout(connectTimer);
      socket.end(request);
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received > maxBytes) {
        finish(new SpamdError('protocol', `spamd ${where}: answer larger than ${maxBytes} bytes`));
        return;
      }
      try {
        if (expected === undefined) expected = responseLength(chunks.length === 1 ? chunk : Buffer.concat(chunks, received));
      } catch (err) {
        if (!(err instanceof SpamdProtocolError)) throw err;
        finish(new SpamdError('protocol', `spamd ${where}: ${err.message}`));
        return;
      }
      // A whole answer with its Content-length: no need to wait for spamd to close.
      if (expected !== undefined && received >= expected) conclude();
    });
    socket.once('end', conclude);
    socket.once('error', (err: NodeJS.ErrnoException) => {
      // spamd may answer an error and close before reading everything: keep its answer.
      if (received > 0) return conclude();
      const failure: SpamdFailure = connected ? 'protocol' : 'unreachable';
      finish(new SpamdError(failure, `spamd ${where}: ${connected ? 'connection failed: ' : 'cannot connect: '}${err.code ?? err.message}`));
    });
    socket.once('close', () => {
      if (!settled) conclude();
    });
  });
}
