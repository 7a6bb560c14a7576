/**
 * Starts the POP3 server on loopback (free ports) over the in-memory mailbox store, with a tiny accounts
 * fake (login → password; case-insensitive, as the real one) and a logger that keeps its lines.
 */
import type { Pop3Config } from '../../src/config/schema.js';
import { DEFAULT_POP3 } from '../../src/config/defaults.js';
import { createPop3Server, type Pop3Server } from '../../src/pop3/server.js';
import { MemoryMailboxStore } from '../../src/store/mailbox/memory.js';
import { captureLogger, testCertificate } from '../smtp/harness.js';

export interface StartedPop3 {
  readonly server: Pop3Server;
  readonly store: MemoryMailboxStore;
  readonly logs: string[];
  readonly port: number;
  /** The implicit-TLS port (only with tls). */
  readonly tlsPort: number;
  close(): Promise<void>;
}

export const USERS: Record<string, string> = { 'alice@example.org': 'secret', 'bob@example.org': 'hunter2' };

export async function startPop3(opts: { config?: Partial<Pop3Config>; tls?: boolean; store?: MemoryMailboxStore; authFailureDelayMs?: number } = {}): Promise<StartedPop3> {
  const logs: string[] = [];
  const store = opts.store ?? new MemoryMailboxStore();
  const tls = opts.tls === false ? undefined : await testCertificate();
  const config: Pop3Config = {
    ...DEFAULT_POP3,
    listen: [{ host: '127.0.0.1', port: 0 }],
    tlsListen: tls ? [{ host: '127.0.0.1', port: 0 }] : [],
    ...opts.config,
  };
  const accounts = {
    authenticate: (login: string, password: string): Promise<string | undefined> => {
      const user = login.toLowerCase();
      return Promise.resolve(USERS[user] !== undefined && USERS[user] === password ? user : undefined);
    },
  };
  const server = createPop3Server(config, { accounts, store, logger: captureLogger(logs), authFailureDelayMs: opts.authFailureDelayMs ?? 0, ...(tls ? { tls } : {}) });
  await server.listen();
  const port = server.addresses().find((a) => a.kind === 'pop3')?.port ?? 0;
  const tlsPort = server.addresses().find((a) => a.kind === 'pop3s')?.port ?? 0;
  return { server, store, logs, port, tlsPort, close: () => server.close(1000) };
}

/** Delivers messages to a user's INBOX through the store's delivery (as local delivery does). */
export async function deliver(store: MemoryMailboxStore, user: string, messages: readonly (string | Buffer)[]): Promise<void> {
  const { Readable } = await import('node:stream');
  for (const m of messages) await store.delivery.deliver(user, () => Readable.from([Buffer.isBuffer(m) ? m : Buffer.from(m)]), { hostname: 'test' });
}
