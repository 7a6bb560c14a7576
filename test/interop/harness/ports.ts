// Free loopback TCP ports: bind 127.0.0.1:0 and let the kernel choose.
//
// There is an unavoidable window between closing our probe socket and the peer
// binding the port; the kernel hands out ephemeral ports round-robin, so a
// collision within that window is very unlikely.
import { createServer } from 'node:net';

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
