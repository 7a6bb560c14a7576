/**
 * Misbehaving clamd servers on loopback TCP or a unix socket, for the bad-input tests. Each
 * connection is handed to `behave`, which gets the bytes received so far on every read. A client
 * that opens a clamd session (zIDSESSION) is served as clamd serves one: each request is handed to
 * `behave` on its own, and the reply it writes is numbered ("1: ...") as clamd numbers them.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { ConnectionSpec } from '../../../src/config/connection-spec.js';
import { decodeInstream } from '../../../src/filters/clamav/protocol.js';
import { tempDir } from '../../milter/helpers.js';

export type Behaviour = (socket: Socket, received: Buffer) => void;

export interface FakeClamd {
  readonly spec: ConnectionSpec;
  /** Number of connections accepted. */
  readonly connections: number;
  /** Number of connections that opened a clamd session. */
  readonly sessions: number;
  /** The data of each complete INSTREAM request received. */
  readonly scanned: Buffer[];
  /** The connections open now. */
  sockets(): Socket[];
  stop(): Promise<void>;
}

const ZIDSESSION = 'zIDSESSION\0';
const isInstream = (b: Buffer): boolean => b.subarray(0, 10).toString('latin1') === 'zINSTREAM\0';

/** Bytes of the first whole request in `b` (an INSTREAM, or a z command up to its NUL); undefined while incomplete. */
function requestLength(b: Buffer): number | undefined {
  if (isInstream(b)) {
    try {
      return decodeInstream(b)?.length;
    } catch {
      return undefined;
    }
  }
  const nul = b.indexOf(0);
  return nul >= 0 ? nul + 1 : undefined;
}

export async function startFakeClamd(behave: Behaviour, where: 'tcp' | 'unix' = 'tcp'): Promise<FakeClamd> {
  const sockets = new Set<Socket>();
  const scanned: Buffer[] = [];
  let connections = 0;
  let sessions = 0;
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let received = Buffer.alloc(0);
    let session = false;
    let answered = 0;
    let replying = false;
    // In a session, the first write of each reply gets the request's number, as clamd writes it.
    const numbered = new Proxy(socket, {
      get(target, prop) {
        if (prop === 'write' || prop === 'end') {
          return (data?: unknown, ...rest: unknown[]) => {
            let out = data;
            if ((typeof data === 'string' || Buffer.isBuffer(data)) && !replying) {
              replying = true;
              out = Buffer.concat([Buffer.from(`${answered + 1}: `), typeof data === 'string' ? Buffer.from(data, 'latin1') : data]);
            }
            return (target[prop] as (...a: unknown[]) => unknown).call(target, out, ...rest);
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      if (!session && received.length >= ZIDSESSION.length && received.toString('latin1', 0, ZIDSESSION.length) === ZIDSESSION) {
        session = true;
        sessions++;
        received = received.subarray(ZIDSESSION.length);
      }
      for (;;) {
        if (session && received.toString('latin1', 0, 5) === 'zEND\0') {
          socket.end();
          return;
        }
        const length = requestLength(received);
        if (length !== undefined && isInstream(received)) scanned.push(decodeInstream(received)!.data);
        behave(session ? numbered : socket, received);
        if (!(session && replying && length !== undefined)) return;
        // This request is answered: the session goes on with the next one.
        answered++;
        replying = false;
        received = received.subarray(length);
        if (received.length === 0) return;
      }
    });
  });
  const dir = where === 'unix' ? tempDir('fake-clamd-') : undefined;
  const spec: ConnectionSpec = await new Promise((resolve) => {
    if (dir) {
      const path = join(dir.path, 'clamd.sock');
      server.listen(path, () => resolve({ type: 'unix', path }));
    } else {
      server.listen(0, '127.0.0.1', () => {
        const addr = server.address();
        resolve({ type: 'inet', host: '127.0.0.1', port: typeof addr === 'object' && addr ? addr.port : 0, family: 4 });
      });
    }
  });
  return {
    spec,
    get connections() {
      return connections;
    },
    get sessions() {
      return sessions;
    },
    scanned,
    sockets: () => [...sockets],
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      dir?.cleanup();
    },
  };
}

/** Answers `reply` (NUL added) once the whole INSTREAM request (or a z command) is in. */
export function replyWith(reply: string | Buffer, opts: { close?: boolean } = {}): Behaviour {
  return (socket, received) => {
    const complete = isInstream(received) ? decodeInstream(received) !== undefined : received.includes(0);
    if (!complete) return;
    socket.write(typeof reply === 'string' ? Buffer.from(`${reply}\0`, 'latin1') : reply);
    if (opts.close ?? true) socket.end();
  };
}

/** A loopback TCP address nothing listens on (a port just freed). */
export async function deadTcpAddress(): Promise<ConnectionSpec> {
  const server = createServer();
  const port = await new Promise<number>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { type: 'inet', host: '127.0.0.1', port, family: 4 };
}
