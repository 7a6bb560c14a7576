/**
 * A real IMAP server on loopback (free ports, memory store, fake accounts, a self-signed certificate made
 * by the test as the SMTP tests make theirs) and raw line clients over TCP or TLS.
 */
import { DEFAULT_IMAP } from '../../../src/config/defaults.js';
import net from 'node:net';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import { createImapServer, type ImapServer, type ImapServerConfig } from '../../../src/imap/server.js';
import { MemoryMailboxStore } from '../../../src/store/mailbox/memory.js';
import { FakeAccounts, LineClient, captureLogger } from './transcript.js';

let pems: Promise<{ cert: string; key: string }> | undefined;
export function testCertificate(): Promise<{ cert: string; key: string }> {
  pems ??= generate([{ name: 'commonName', value: 'imap.test' }], { keySize: 2048 }).then((p) => ({ cert: p.cert, key: p.private }));
  return pems;
}

export const TEST_CONFIG: ImapServerConfig = {
  ...DEFAULT_IMAP,
  listen: [{ host: '127.0.0.1', port: 0 }],
  tlsListen: [{ host: '127.0.0.1', port: 0 }],
  connectionLimit: 100,
  clientConnectionLimit: 20,
  authFailureDelayMs: 1,
};

export interface Running {
  readonly server: ImapServer;
  readonly store: MemoryMailboxStore;
  readonly logs: string[];
  readonly cert: string;
  port(kind: 'imap' | 'imaps'): number;
}

export async function startServer(overrides: Partial<ImapServerConfig> = {}): Promise<Running> {
  const { cert, key } = await testCertificate();
  const store = new MemoryMailboxStore();
  const logs: string[] = [];
  const server = createImapServer({ ...TEST_CONFIG, ...overrides }, { accounts: new FakeAccounts(), store, logger: captureLogger(logs), tls: { cert, key } });
  await server.listen();
  return {
    server,
    store,
    logs,
    cert,
    port: (kind) => server.addresses().find((a) => a.kind === kind)!.port,
  };
}

export async function connectPlain(port: number): Promise<LineClient> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return new LineClient(socket);
}

export async function connectTls(port: number, cert: string): Promise<LineClient> {
  const socket = tls.connect({ port, host: '127.0.0.1', ca: cert, servername: 'imap.test' });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  return new LineClient(socket);
}
