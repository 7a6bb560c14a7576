// Free loopback TCP ports: bind 127.0.0.1:0 and let the kernel choose.
//
// There is an unavoidable window between closing our probe socket and the peer
// binding the port; the kernel hands out ephemeral ports round-robin, so a
// collision within that window is very unlikely.
import { createServer, type Server } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: unexpected server address'));
        return;
      }
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}

/**
 * `count` distinct free ports: every probe stays bound until all are chosen, so the kernel cannot hand
 * the same port out twice (calling freePort() in a row can: a `mailgate start` once got one port for its
 * MX and its POP3 listener).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.unref();
          server.once('error', reject);
          server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('freePorts: unexpected server address');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

/**
 * A free port that nothing is to listen on (a peer that is down), held bound until release(): ports chosen
 * meanwhile (e.g. makeMta's freePorts) cannot be this one, as they could after a freePort().
 */
export async function reservePort(): Promise<{ port: number; release(): Promise<void> }> {
  const server = createServer();
  server.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('reservePort: unexpected server address');
  return { port: address.port, release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
