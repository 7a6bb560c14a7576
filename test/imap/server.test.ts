/**
 * createImapServer on loopback: listeners and addresses(), the connection limits (per client address, per
 * listener, per user and address at login), BYE at shutdown for sessions between commands and the grace
 * for one in a command, and configuration errors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createImapServer } from '../../src/imap/server.js';
import { MemoryMailboxStore } from '../../src/store/mailbox/memory.js';
import { FakeAccounts, captureLogger } from './harness/transcript.js';
import { TEST_CONFIG, connectPlain, connectTls, startServer, type Running } from './harness/server.js';

let running: Running | undefined;
afterEach(async () => {
  await running?.server.close(500);
  running = undefined;
});

describe('listeners', () => {
  it('binds a plain and an implicit-TLS listener and reports them', async () => {
    running = await startServer();
    const addresses = running.server.addresses();
    expect(addresses.map((a) => a.kind)).toEqual(['imap', 'imaps']);
    expect(addresses.every((a) => a.address === '127.0.0.1' && a.port > 0)).toBe(true);
    const plain = await connectPlain(running.port('imap'));
    expect(await plain.line()).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 .*STARTTLS AUTH=PLAIN\] Mailgate ready\.$/);
    const secure = await connectTls(running.port('imaps'), running.cert);
    expect(await secure.line()).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 (?!.*STARTTLS).*AUTH=PLAIN\] Mailgate ready\.$/);
    plain.socket.destroy();
    secure.socket.destroy();
  });

  it('refuses an implicit-TLS listener without a certificate, and a bad address', () => {
    const deps = { accounts: new FakeAccounts(), store: new MemoryMailboxStore(), logger: captureLogger([]) };
    expect(() => createImapServer(TEST_CONFIG, deps)).toThrow(/certificate/);
    expect(() => createImapServer({ ...TEST_CONFIG, tlsListen: [], listen: ['nonsense'] }, deps)).toThrow(/imap listen address "nonsense"/);
  });

  it('without a certificate: no STARTTLS', async () => {
    const server = createImapServer({ ...TEST_CONFIG, tlsListen: [] }, { accounts: new FakeAccounts(), store: new MemoryMailboxStore(), logger: captureLogger([]) });
    await server.listen();
    const c = await connectPlain(server.addresses()[0]!.port);
    expect(await c.line()).not.toMatch(/STARTTLS/);
    await c.run(`
      C: a1 STARTTLS
      S: a1 BAD *
    `);
    await server.close(500);
  });
});

describe('limits', () => {
  it('per client address: the connection past the limit gets BYE', async () => {
    running = await startServer({ clientConnectionLimit: 1 });
    const first = await connectPlain(running.port('imap'));
    expect(await first.line()).toMatch(/^\* OK /);
    const second = await connectPlain(running.port('imap'));
    expect(await second.line()).toBe('* BYE Too many connections from your address.');
    expect(await second.closed()).toBe(true);
    first.socket.destroy();
  });

  it('per listener', async () => {
    running = await startServer({ connectionLimit: 1 });
    const first = await connectPlain(running.port('imap'));
    expect(await first.line()).toMatch(/^\* OK /);
    const second = await connectPlain(running.port('imap'));
    expect(await second.line()).toBe('* BYE Too many connections.');
    first.socket.destroy();
  });

  it('per user and address: NO [LIMIT] at login, free again after a logout', async () => {
    running = await startServer({ userConnectionLimit: 1 });
    const a = await connectPlain(running.port('imap'));
    await a.line();
    await a.run(`
      C: a1 LOGIN alice secret
      S: a1 OK *
    `);
    const b = await connectPlain(running.port('imap'));
    await b.line();
    await b.run(`
      C: b1 LOGIN alice secret
      S: b1 NO [LIMIT] *
      C: b2 LOGIN bob hunter2
      S: b2 OK *
    `);
    await a.run(`
      C: a2 LOGOUT
      S: * BYE *
      S: a2 OK *
    `);
    await a.closed();
    const c = await connectPlain(running.port('imap'));
    await c.line();
    // The slot is freed when the session has ended (a moment after the socket closed).
    for (let i = 0; ; i++) {
      c.send(`c${i} LOGIN alice secret\r\n`);
      const line = await c.line();
      if (line.startsWith(`c${i} OK`)) break;
      expect(i).toBeLessThan(50);
      await new Promise((r) => setTimeout(r, 20));
    }
    b.socket.destroy();
    c.socket.destroy();
  });
});

describe('shutdown', () => {
  it('sends BYE to every session and closes', async () => {
    running = await startServer();
    const a = await connectPlain(running.port('imap'));
    await a.line();
    const b = await connectTls(running.port('imaps'), running.cert);
    await b.line();
    await b.run(`
      C: b1 LOGIN alice secret
      S: b1 OK *
    `);
    const server = running.server;
    running = undefined;
    await server.close(2000);
    expect(await a.line()).toBe('* BYE Server shutting down.');
    expect(await b.line()).toBe('* BYE Server shutting down.');
    expect(await a.closed()).toBe(true);
    expect(await b.closed()).toBe(true);
  });
});
