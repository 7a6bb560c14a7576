/**
 * PLACEHOLDERS, deleted when the services are integrated: stand-ins for the constructors of
 * src/delivery/, src/queue/ and src/smtp/, written in parallel with `mailgate start`.
 * They keep start runnable and testable alone: the listeners accept connections and answer
 * 421 4.3.2 (service not available: Postfix's answer when it cannot serve), nothing is queued or delivered.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { RecipientResult, Transport } from '../store/transport.js';
import type { Queue, ServiceFactories, SmtpServerHandle, SmtpServerOptions } from './start-services.js';

const NOT_YET = 'not built into this version yet';

function placeholderTransport(): Transport {
  return {
    deliver: (request) =>
      Promise.resolve(
        request.recipients.map((r): RecipientResult => ({ address: r.address, status: 'deferred', enhanced: '4.3.2', diagnostic: `delivery ${NOT_YET}` })),
      ),
    close: () => Promise.resolve(),
  };
}

function placeholderQueue(): Queue {
  let n = 0;
  return {
    newId: () => `${Date.now().toString(36).toUpperCase()}${(n++).toString(36).toUpperCase()}`.padStart(10, '0'),
    enqueue: () => Promise.reject(new Error(`the queue is ${NOT_YET}`)),
    start: () => undefined,
    stop: () => Promise.resolve(),
  };
}

function placeholderSmtp(options: SmtpServerOptions): SmtpServerHandle {
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const addresses = [...options.smtp.listen, ...options.submission.listen, ...options.submission.tlsListen];
  const close = async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  };
  return {
    async listen() {
      try {
        for (const { host, port } of addresses) {
          const server = createServer((socket) => {
            sockets.add(socket);
            socket.on('close', () => sockets.delete(socket));
            socket.on('error', () => undefined);
            socket.end(`421 4.3.2 ${options.hostname} Service not available: the SMTP server is ${NOT_YET}\r\n`);
          });
          servers.push(server);
          await new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            server.listen({ host, port, exclusive: true }, () => resolve());
          });
        }
      } catch (err) {
        await close();
        throw err;
      }
    },
    close,
  };
}

export const placeholderFactories: Omit<ServiceFactories, 'openAccounts'> = {
  createTransport: () => placeholderTransport(),
  openQueue: () => placeholderQueue(),
  createSmtpServer: (options) => placeholderSmtp(options),
};
