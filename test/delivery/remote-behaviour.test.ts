/**
 * What smtp-sink cannot show, against a scripted smtp-server: a different reply per recipient, STARTTLS
 * taken with any certificate, the remote's SIZE limit, connection reuse with RSET, the per-destination
 * concurrency limit, and a remote that never greets or never answers (hang guards only).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { generate } from 'selfsigned';
import { afterEach, describe, expect, it } from 'vitest';
import { createTransport } from '../../src/delivery/transport.js';
import type { Transport } from '../../src/store/transport.js';
import type { ServiceFactories } from '../../src/cli/start-services.js';
import { freePort } from '../interop/harness/ports.js';
import { hangGuard } from '../hang-guard.js';
import { startTestServer, type TestServer } from './peers.js';
import { message, noAccounts, request } from './request.js';

const servers: TestServer[] = [];
const transports: Transport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(...args: Parameters<typeof startTestServer>): Promise<TestServer> {
  const s = await startTestServer(...args);
  servers.push(s);
  return s;
}

function transportTo(port: number, extra: Parameters<typeof createTransport>[0] = {}): Transport {
  const t = createTransport({ relayHost: `[127.0.0.1]:${port}`, hostname: 'mailgate.test', connectTimeout: 5, commandTimeout: 10, ...extra }, noAccounts);
  transports.push(t);
  return t;
}

describe('createTransport as mailgate start calls it', () => {
  it('fits ServiceFactories.createTransport and takes relay_host as the configuration parsed it', async () => {
    const factory: ServiceFactories['createTransport'] = createTransport;
    const server = await serve();
    const accounts = { ...noAccounts, localDomains: () => [], authenticate: async () => undefined, mayUseSender: () => false, quotaOf: () => undefined, close: () => undefined };
    const t = factory(
      {
        relayHost: { host: '127.0.0.1', port: server.port, mx: false, text: `[127.0.0.1]:${server.port}` },
        destinationConcurrencyLimit: 20,
        connectTimeout: 5,
        smtpPort: 25,
        hostname: 'mailgate.test',
        dataDir: '/nonexistent',
        logger: pino({ level: 'silent' }),
      },
      accounts,
    );
    transports.push(t);
    expect((await t.deliver(request(['a@remote.test'])))[0]?.status).toBe('delivered');
  });
});

describe('remote delivery, per recipient', () => {
  it('delivers, defers and fails recipients of one message by their own RCPT replies', async () => {
    const server = await serve({
      rcpt: (a) => (a.startsWith('busy') ? { code: 450, message: '4.2.1 Mailbox busy' } : a.startsWith('gone') ? { code: 550, message: '5.1.1 No such user' } : undefined),
    });
    const results = await transportTo(server.port).deliver(request(['ok@remote.test', 'busy@remote.test', 'gone@remote.test']));
    expect(results.map((r) => [r.address, r.status, r.enhanced])).toEqual([
      ['ok@remote.test', 'delivered', '2.0.0'],
      ['busy@remote.test', 'deferred', '4.2.1'],
      ['gone@remote.test', 'failed', '5.1.1'],
    ]);
    expect(results[2]?.remoteReply).toBe('550 5.1.1 No such user');
    expect(server.received).toHaveLength(1);
    expect(server.received[0]?.to).toEqual(['ok@remote.test']);
  });

  it('reports each recipient once, in the order of the request, when an address is queued twice', async () => {
    const server = await serve();
    const results = await transportTo(server.port).deliver(request(['a@remote.test', 'a@remote.test', 'b@remote.test']));
    expect(results.map((r) => r.address)).toEqual(['a@remote.test', 'a@remote.test', 'b@remote.test']);
    expect(server.received[0]?.to).toEqual(['a@remote.test', 'b@remote.test']);
  });

  it('splits more than 50 recipients into transactions of 50 (smtp_destination_recipient_limit)', async () => {
    const server = await serve();
    const to = Array.from({ length: 120 }, (_, i) => `r${i}@remote.test`);
    const results = await transportTo(server.port).deliver(request(to));
    expect(results.every((r) => r.status === 'delivered')).toBe(true);
    expect(server.received.map((m) => m.to.length).sort((a, b) => a - b)).toEqual([20, 50, 50]);
  });
});

describe('relay host login', () => {
  const authServer = () =>
    serve({}, {
      authOptional: false,
      disabledCommands: [],
      allowInsecureAuth: true,
      onAuth(auth: { username?: string; password?: string }, _s: unknown, cb: (err: Error | null, res?: { user: string }) => void) {
        if (auth.username === 'relay-user' && auth.password === 'secret') cb(null, { user: 'relay-user' });
        else cb(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
      },
    } as never);

  it('logs in to a relay_host that offers AUTH', async () => {
    const server = await authServer();
    const results = await transportTo(server.port, { relayAuth: { user: 'relay-user', pass: 'secret' } }).deliver(request(['a@remote.test']));
    expect(results[0]?.status).toBe('delivered');
    expect(server.received).toHaveLength(1);
  });

  it('defers (4.7.0) when the relay refuses the login', async () => {
    const server = await authServer();
    const results = await transportTo(server.port, { relayAuth: { user: 'relay-user', pass: 'wrong' } }).deliver(request(['a@remote.test']));
    expect(results[0]).toMatchObject({ status: 'deferred', enhanced: '4.7.0' });
    expect(results[0]?.diagnostic).toMatch(/^SASL authentication failed; server 127\.0\.0\.1\[127\.0\.0\.1\] said: 535 /);
  });
});

describe('remote delivery, extensions', () => {
  it('takes STARTTLS when offered, whatever the certificate (Postfix smtp_tls_security_level=may)', async () => {
    const pems = await generate([{ name: 'commonName', value: 'wrong.name.example' }], { keySize: 2048 });
    const server = await serve({}, { key: pems.private, cert: pems.cert });
    const results = await transportTo(server.port).deliver(request(['a@remote.test']));
    expect(results[0]?.status).toBe('delivered');
    expect(server.received[0]?.secure).toBe(true);
  });

  it('fails a message larger than the remote SIZE limit without sending it (5.3.4)', async () => {
    const server = await serve({}, { size: 100 });
    const results = await transportTo(server.port).deliver(request(['a@remote.test'], message('x'.repeat(200))));
    expect(results[0]).toMatchObject({ status: 'failed', enhanced: '5.3.4' });
    expect(server.received).toHaveLength(0);
  });

  it('sends SIZE= when the remote offers SIZE', async () => {
    const server = await serve({}, { size: 1_000_000 });
    const req = request(['a@remote.test']);
    await transportTo(server.port).deliver(req);
    expect(server.received[0]?.mailArgs).toMatchObject({ SIZE: String(req.size) });
  });
});

describe('connections', () => {
  it('reuses one connection (no RSET after a completed transaction) for messages that follow each other to one destination', async () => {
    const server = await serve();
    const t = transportTo(server.port, { connectionCacheTime: 30 });
    for (let i = 0; i < 5; i++) expect((await t.deliver(request([`m${i}@remote.test`])))[0]?.status).toBe('delivered');
    expect(server.received).toHaveLength(5);
    expect(server.connections).toBe(1);
  });

  it('opens a new connection when the cached one was closed by the remote meanwhile', async () => {
    const server = await serve({}, { socketTimeout: 300 });
    const t = transportTo(server.port, { connectionCacheTime: 30 });
    expect((await t.deliver(request(['a@remote.test'])))[0]?.status).toBe('delivered');
    await new Promise((r) => setTimeout(r, 800)); // the server drops the idle session
    expect((await t.deliver(request(['b@remote.test'])))[0]?.status).toBe('delivered');
    expect(server.connections).toBe(2);
  });

  it('takes a fresh connection when a cached one answers MAIL FROM with 421', async () => {
    const server = await serve({ mail: (n) => (n > 1 ? { code: 421, message: '4.4.2 Idle too long' } : undefined) });
    const t = transportTo(server.port, { connectionCacheTime: 30 });
    expect((await t.deliver(request(['a@remote.test'])))[0]?.status).toBe('delivered');
    expect((await t.deliver(request(['b@remote.test'])))[0]?.status).toBe('delivered');
    expect(server.connections).toBe(2);
  });

  it('never has more sessions to one destination than destination_concurrency_limit', async () => {
    const server = await serve({ dataDelayMs: 50 });
    const t = transportTo(server.port, { destinationConcurrencyLimit: 3 });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => t.deliver(request([`p${i}@remote.test`]))));
    expect(results.flat().every((r) => r.status === 'delivered')).toBe(true);
    expect(server.maxConcurrent).toBeLessThanOrEqual(3);
    expect(server.maxConcurrent).toBeGreaterThan(1);
    expect(server.connections).toBeLessThanOrEqual(12);
  });
});

describe('connection lifetime', () => {
  it('QUITs an idle cached connection after connection_cache_time', async () => {
    const server = await serve();
    const t = transportTo(server.port, { connectionCacheTime: 0.2 });
    expect((await t.deliver(request(['a@remote.test'])))[0]?.status).toBe('delivered');
    await new Promise((r) => setTimeout(r, 1500));
    expect(server.open).toBe(0);
  });

  it('close() QUITs cached connections, and a delivery after it is deferred', async () => {
    const server = await serve();
    const t = createTransport({ relayHost: `[127.0.0.1]:${server.port}`, connectionCacheTime: 60 }, noAccounts);
    expect((await t.deliver(request(['a@remote.test'])))[0]?.status).toBe('delivered');
    expect(server.open).toBe(1);
    await t.close();
    await new Promise((r) => setTimeout(r, 500));
    expect(server.open).toBe(0);
    expect((await t.deliver(request(['b@remote.test'])))[0]).toMatchObject({ status: 'deferred', enhanced: '4.3.2' });
  });
});

describe('SMTPUTF8 and the log', () => {
  it('sends SMTPUTF8 for an internationalized address when the remote offers it', async () => {
    const server = await serve();
    const results = await transportTo(server.port).deliver(request(['jürgen@remote.test']));
    expect(results[0]?.status).toBe('delivered');
    expect(server.received[0]?.to).toEqual(['jürgen@remote.test']);
    expect(server.received[0]?.mailArgs).toMatchObject({ SMTPUTF8: true });
  });

  it('logs one debug line per recipient with queue id, relay, status and DSN code (the queue logs the to= line at info)', async () => {
    const server = await serve({ rcpt: (a) => (a.startsWith('no') ? { code: 550, message: '5.1.1 No' } : undefined) });
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'debug' }, { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    const req = request(['yes@remote.test', 'no@remote.test']);
    await transportTo(server.port, { logger }).deliver(req);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ queueId: req.queueId, to: 'yes@remote.test', status: 'delivered', dsn: '2.0.0', relay: `127.0.0.1[127.0.0.1]:${server.port}` });
    expect(lines[1]).toMatchObject({ to: 'no@remote.test', status: 'failed', dsn: '5.1.1' });
    expect(String(lines[1]?.['msg'])).toBe(`${req.queueId}: to=<no@remote.test> status=bounced`);
  });
});

describe('slow remotes', () => {
  let silent: Server | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    sockets.splice(0).forEach((s) => s.destroy());
    await new Promise<void>((r) => (silent ? silent.close(() => r()) : r()));
    silent = undefined;
  });

  it('defers when the remote accepts the connection and never greets', async () => {
    const port = await freePort();
    silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent?.listen(port, '127.0.0.1', r));
    const t = transportTo(port, { commandTimeout: 0.5 });
    const guard = hangGuard(500);
    const results = await t.deliver(request(['a@remote.test']));
    guard();
    expect(results[0]).toMatchObject({ status: 'deferred', enhanced: '4.4.1' });
    expect(results[0]?.diagnostic).toMatch(/timed out while receiving the initial server greeting/);
  });

  it('a hanging destination does not hold up another one', async () => {
    const fast = await serve();
    // slow.test's MX is 127.0.0.2 on the same port: it accepts and never greets.
    silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent?.listen(fast.port, '127.0.0.2', r));
    const resolver = {
      resolveMx: async (name: string) => [{ exchange: `mx.${name}`, priority: 10 }],
      resolve4: async (name: string) => [name === 'mx.slow.test' ? '127.0.0.2' : '127.0.0.1'],
      resolve6: async () => [],
    };
    const t = createTransport({ resolver, smtpPort: fast.port, commandTimeout: 1, destinationConcurrencyLimit: 1 }, noAccounts);
    transports.push(t);
    let slowDone = false;
    const slowResults = t.deliver(request(['a@slow.test'])).then((r) => {
      slowDone = true;
      return r;
    });
    const second = t.deliver(request(['b@slow.test'])); // waits for slow.test's only slot
    expect((await t.deliver(request(['c@fast.test'])))[0]?.status).toBe('delivered');
    expect(slowDone).toBe(false);
    expect((await slowResults)[0]?.status).toBe('deferred');
    expect((await second)[0]?.status).toBe('deferred');
  });

  it('defers when the remote never answers the end of data', async () => {
    const server = await serve({ dataDelayMs: 60_000 });
    const t = transportTo(server.port, { commandTimeout: 0.5 });
    const guard = hangGuard(500);
    const results = await t.deliver(request(['a@remote.test']));
    guard();
    expect(results[0]).toMatchObject({ status: 'deferred', enhanced: '4.4.2' });
    expect(results[0]?.diagnostic).toMatch(/timed out/);
  });
});
