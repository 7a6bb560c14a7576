/**
 * Starts our SMTP server on loopback with free ports, an in-memory Spool and Accounts, a real Chain of the
 * given children, and a logger that keeps its lines; runs swaks against it.
 */
import { generate } from 'selfsigned';
import { Chain, type ChildDefinition } from '../../src/chain/chain.js';
import type { Logger } from '../../src/mail/logger.js';
import type { FallbackStatus, SmtpConfig } from '../../src/config/schema.js';
import { DEFAULT_SMTP } from '../../src/config/defaults.js';
import { createSmtpServer, type ListeningAddress, type MailServer, type SmtpServerOptions } from '../../src/smtp/server.js';
import type { ListenerKind } from '../../src/smtp/session.js';
import { runCommand, type CommandResult } from '../interop/harness/process.js';
import { MemoryAccounts, MemorySpool } from './fakes.js';

export interface Started {
  readonly server: MailServer;
  readonly spool: MemorySpool;
  readonly accounts: MemoryAccounts;
  readonly chain: Chain;
  readonly logs: string[];
  port(kind: ListenerKind): number;
  close(): Promise<void>;
}

let pems: Promise<{ cert: string; key: string }> | undefined;
/** One self-signed certificate for the whole file (made by the test, as `mailgate start` makes its own). */
export function testCertificate(): Promise<{ cert: string; key: string }> {
  pems ??= generate([{ name: 'commonName', value: 'mx.test' }], { keySize: 2048 }).then((p) => ({ cert: p.cert, key: p.private }));
  return pems;
}

export function captureLogger(lines: string[]): Logger {
  const log = (o: unknown, msg?: string): void => {
    lines.push(typeof o === 'string' ? o : (msg ?? JSON.stringify(o)));
  };
  const logger = { debug: () => undefined, info: log, warn: log, error: log, child: () => logger };
  return logger as unknown as Logger;
}

/** The configuration's own defaults, on a free port and with an empty banner. */
export const SMTP_DEFAULTS: SmtpConfig = { ...DEFAULT_SMTP, listen: [{ host: '127.0.0.1', port: 0 }], banner: '' };

export async function startServer(
  opts: { smtp?: Partial<SmtpConfig>; children?: ChildDefinition[]; fallbackStatus?: FallbackStatus; server?: Partial<SmtpServerOptions>; tls?: boolean } = {},
): Promise<Started> {
  const logs: string[] = [];
  const logger = captureLogger(logs);
  const spool = new MemorySpool();
  const accounts = new MemoryAccounts(['example.org', 'localhost'], { 'alice@example.org': 'secret', 'bob@example.org': 'hunter2' }, {
    'team@example.org': ['alice@example.org', 'bob@example.org', 'carol@remote.example'],
    'loop1@example.org': ['loop2@example.org'],
    'loop2@example.org': ['loop1@example.org'],
  });
  const chain = new Chain(opts.children ?? [], { fallbackStatus: opts.fallbackStatus ?? 'accept', logger });
  const tls = opts.tls === false ? undefined : await testCertificate();
  const server = createSmtpServer(
    {
      hostname: 'mx.test',
      smtp: { ...SMTP_DEFAULTS, ...opts.smtp },
      submission: { listen: [{ host: '127.0.0.1', port: 0 }], tlsListen: tls ? [{ host: '127.0.0.1', port: 0 }] : [] },
      ...(tls ? { tls } : {}),
      reverseLookup: false,
      authFailureDelayMs: 50,
      ...opts.server,
    },
    { chain, accounts, spool, logger },
  );
  await server.listen();
  const addresses: readonly ListeningAddress[] = server.addresses;
  return {
    server,
    spool,
    accounts,
    chain,
    logs,
    port: (kind) => addresses.find((a) => a.kind === kind)!.port,
    async close() {
      await server.close(0.1);
      await chain.dispose();
    },
  };
}

/** swaks against 127.0.0.1:port; `args` are swaks's own options. */
export function swaks(port: number, args: readonly string[]): Promise<CommandResult> {
  return runCommand('/usr/bin/swaks', ['--server', `127.0.0.1:${port}`, '--timeout', '20s', '--helo', 'client.test', ...args], { timeoutMs: 30_000 });
}
