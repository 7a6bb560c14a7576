/**
 * Misbehaving clamd servers on loopback TCP or a unix socket, for the bad-input tests. Each
 * connection is handed to `behave`, which gets the bytes received so far on every read.
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
  /** The data of each complete INSTREAM request received. */
  readonly scanned: Buffer[];
  /** The connections open now. */
  sockets(): Socket[];
  stop(): Promise<void>;
}

export async function startFakeClamd(behave: Behaviour, where: 'tcp' | 'unix' = 'tcp'): Promise<FakeClamd> {
  const sockets = new Set<Socket>();
  const scanned: Buffer[] = [];
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let received = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      try {
        const req = received.subarray(0, 10).toString('latin1') === 'zINSTREAM\0' ? decodeInstream(received) : undefined;
        if (req) scanned.push(req.data);
      } catch {
        /* not an INSTREAM request */
      }
      behave(socket, received);
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
    const complete = received.subarray(0, 10).toString('latin1') === 'zINSTREAM\0' ? decodeInstream(received) !== undefined : received.includes(0);
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
