// POP3 sessions over loopback against the in-memory mailbox store: every command in every state, UPDATE's
// effects (and none for a dropped connection), the maildrop lock, STLS (and its command-injection guard),
// plaintext rules, failed-login limits, bad input, pipelining, the idle timeout, limits and the log lines.
import { afterEach, describe, expect, it } from 'vitest';
import { uidl } from '../../src/pop3/uidl.js';
import { Pop3TestClient } from './client.js';
import { deliver, startPop3, type StartedPop3 } from './harness.js';

const ALICE = 'alice@example.org';
const M1 = 'From: a@x\nSubject: one\n\nHello\n.dot line\n..two dots\n';
const M2 = 'From: b@x\r\nSubject: two\r\n\r\nl1\r\nl2\r\nl3\r\nno final newline';
const crlf = (s: string): string => s.replace(/(?<!\r)\n/g, '\r\n');

let started: StartedPop3[] = [];
afterEach(async () => {
  await Promise.all(started.map((s) => s.close()));
  started = [];
});

async function server(opts: Parameters<typeof startPop3>[0] = {}): Promise<StartedPop3> {
  const s = await startPop3(opts);
  started.push(s);
  return s;
}

async function loggedIn(s: StartedPop3, user = ALICE, password = 'secret'): Promise<Pop3TestClient> {
  const c = await Pop3TestClient.connect(s.port);
  expect(await c.line()).toMatch(/^\+OK /);
  expect(await c.command(`USER ${user}`)).toMatch(/^\+OK/);
  expect(await c.command(`PASS ${password}`)).toBe('+OK Logged in.');
  return c;
}

async function flagsOf(s: StartedPop3, user = ALICE): Promise<Map<number, readonly string[]>> {
  const handle = await s.store.openUser(user);
  const box = await handle.open('INBOX', 'read-only');
  const snap = await box.snapshot();
  await handle.release();
  return new Map(snap.records.map((r) => [r.uid, r.flags]));
}

describe('POP3 session', () => {
  it('greets, lists capabilities by state, and serves STAT LIST UIDL RETR TOP with vsizes and stuffing', async () => {
    const s = await server();
    await deliver(s.store, ALICE, [M1, M2]);
    const c = await Pop3TestClient.connect(s.port);
    expect(await c.line()).toBe('+OK Mailgate ready.');
    const before = await c.lines('CAPA');
    expect(before.lines).toEqual(['CAPA', 'TOP', 'UIDL', 'RESP-CODES', 'PIPELINING', 'AUTH-RESP-CODE', 'STLS', 'USER', 'SASL PLAIN', 'IMPLEMENTATION Mailgate']);
    expect(await c.command(`USER ${ALICE}`)).toBe('+OK');
    expect(await c.command('PASS secret')).toBe('+OK Logged in.');
    expect((await c.lines('CAPA')).lines).toEqual(['CAPA', 'TOP', 'UIDL', 'RESP-CODES', 'PIPELINING', 'AUTH-RESP-CODE', 'IMPLEMENTATION Mailgate']);
    const sizes = [crlf(M1).length, crlf(M2).length];
    expect(await c.command('STAT')).toBe(`+OK 2 ${sizes[0]! + sizes[1]!}`);
    expect((await c.lines('LIST')).lines).toEqual([`1 ${sizes[0]}`, `2 ${sizes[1]}`]);
    expect(await c.command('LIST 2')).toBe(`+OK 2 ${sizes[1]}`);
    const handle = await s.store.openUser(ALICE);
    const validity = (await handle.status('INBOX')).uidValidity;
    await handle.release();
    expect((await c.lines('UIDL')).lines).toEqual([`1 ${uidl(1, validity)}`, `2 ${uidl(2, validity)}`]);
    expect(await c.command('UIDL 1')).toBe(`+OK 1 ${uidl(1, validity)}`);
    const r1 = await c.multi('RETR 1');
    expect(r1.status).toBe(`+OK ${sizes[0]} octets`);
    expect(r1.body.toString()).toBe(crlf(M1));
    const r2 = await c.multi('RETR 2');
    expect(r2.body.toString()).toBe(crlf(M2) + '\r\n');
    expect((await c.multi('TOP 2 0')).body.toString()).toBe('From: b@x\r\nSubject: two\r\n\r\n');
    expect((await c.multi('TOP 2 1')).body.toString()).toBe('From: b@x\r\nSubject: two\r\n\r\nl1\r\n');
    expect((await c.multi('TOP 2 1000')).body.toString()).toBe(crlf(M2) + '\r\n');
    expect(await c.command('NOOP')).toBe('+OK');
    expect(await c.command('QUIT')).toBe('+OK Logging out.');
    await c.closed();
    // RETR'd messages are \Seen after UPDATE, as Dovecot marks them.
    expect([...(await flagsOf(s)).values()]).toEqual([['\\Seen'], ['\\Seen']]);
  });

  it('DELE marks, RSET unmarks, QUIT expunges; a dropped connection deletes nothing but keeps \\Seen', async () => {
    const s = await server();
    await deliver(s.store, ALICE, [M1, M2, 'Subject: 3\n\nthree\n']);
    let c = await loggedIn(s);
    expect(await c.command('DELE 1')).toMatch(/^\+OK/);
    expect(await c.command('DELE 1')).toBe('-ERR Message is deleted.');
    expect(await c.command('RETR 1')).toBe('-ERR Message is deleted.');
    expect(await c.command('LIST 1')).toBe('-ERR Message is deleted.');
    expect((await c.lines('LIST')).lines.map((l) => l.split(' ')[0])).toEqual(['2', '3']);
    expect(await c.command('STAT')).toMatch(/^\+OK 2 /);
    expect(await c.command('RSET')).toMatch(/^\+OK/);
    expect(await c.command('STAT')).toMatch(/^\+OK 3 /);
    expect(await c.command('DELE 2')).toMatch(/^\+OK/);
    await c.multi('RETR 3');
    c.destroy();
    // The lock is released once the session has cleaned up.
    await expect.poll(async () => (await flagsOf(s)).get(3), { timeout: 5000 }).toEqual(['\\Seen']);
    expect([...(await flagsOf(s)).keys()]).toEqual([1, 2, 3]);

    c = await loggedIn(s);
    expect(await c.command('DELE 2')).toMatch(/^\+OK/);
    expect(await c.command('QUIT')).toBe('+OK Logging out, messages deleted.');
    await c.closed();
    expect([...(await flagsOf(s)).keys()]).toEqual([1, 3]);
    // Numbers are the new session's: 1..2.
    c = await loggedIn(s);
    expect(await c.command('STAT')).toMatch(/^\+OK 2 /);
    expect(await c.command('LIST 3')).toBe("-ERR There's no message 3.");
    await c.command('QUIT');
  });

  it('a message expunged by another client (IMAP) while the maildrop is locked: RETR says so, DELE of it is harmless', async () => {
    const s = await server();
    await deliver(s.store, ALICE, [M1, M2]);
    const c = await loggedIn(s);
    const handle = await s.store.openUser(ALICE);
    const box = await handle.open('INBOX', 'read-write');
    await box.setFlags([1], { mode: 'add', flags: ['\\Deleted'] });
    await box.expunge([1]);
    await handle.release();
    expect(await c.command('RETR 1')).toBe('-ERR Message was removed by another client.');
    expect(await c.command('DELE 1')).toMatch(/^\+OK/);
    expect(await c.command('DELE 2')).toMatch(/^\+OK/);
    expect(await c.command('QUIT')).toMatch(/^\+OK/);
    await c.closed();
    expect((await flagsOf(s)).size).toBe(0);
  });

  it('locks the maildrop: a second session gets [IN-USE] and is closed; the lock goes with the first', async () => {
    const s = await server();
    const first = await loggedIn(s);
    const second = await Pop3TestClient.connect(s.port);
    await second.line();
    await second.command(`USER ${ALICE}`);
    expect(await second.command('PASS secret')).toBe('-ERR [IN-USE] Mailbox is locked by another POP3 session.');
    await second.closed();
    expect(await first.command('QUIT')).toMatch(/^\+OK/);
    await first.closed();
    const third = await loggedIn(s);
    await third.command('QUIT');
  });

  it('AUTH PLAIN with an initial response and as a continuation; * aborts; bad base64 fails', async () => {
    const s = await server();
    const plain = (authz: string, user: string, pass: string): string => Buffer.from(`${authz}\0${user}\0${pass}`).toString('base64');
    let c = await Pop3TestClient.connect(s.port);
    await c.line();
    expect((await c.lines('AUTH')).lines).toEqual(['PLAIN']);
    expect(await c.command('AUTH LOGIN')).toMatch(/^-ERR Unsupported/);
    expect(await c.command('AUTH PLAIN')).toBe('+ ');
    expect(await c.command('*')).toBe('-ERR [AUTH] Authentication aborted by client.');
    expect(await c.command('AUTH PLAIN !!!!')).toBe('-ERR [AUTH] Invalid base64 data in the response.');
    // Another user as authorization identity: refused (no proxy logins).
    expect(await c.command(`AUTH PLAIN ${plain('bob@example.org', ALICE, 'secret')}`)).toBe('-ERR [AUTH] Authentication failed.');
    await c.command('QUIT');
    c = await Pop3TestClient.connect(s.port);
    await c.line();
    expect(await c.command(`AUTH PLAIN ${plain('', ALICE, 'secret')}`)).toBe('+OK Logged in.');
    await c.command('QUIT');
    c = await Pop3TestClient.connect(s.port);
    await c.line();
    expect(await c.command('AUTH PLAIN')).toBe('+ ');
    expect(await c.command(plain(ALICE, ALICE, 'secret'))).toBe('+OK Logged in.');
    await c.command('QUIT');
  });

  it('refuses a plaintext login outside plaintext_auth_networks until STLS, and drops what was sent behind STLS', async () => {
    const s = await server({ config: { plaintextAuthNetworks: [] } });
    const c = await Pop3TestClient.connect(s.port);
    await c.line();
    expect((await c.lines('CAPA')).lines).not.toContain('USER');
    expect(await c.command(`USER ${ALICE}`)).toBe('-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.');
    expect(await c.command('AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHNlY3JldA==')).toMatch(/^-ERR \[AUTH\] Plaintext/);
    // An attacker's injection: commands behind STLS in the same packet must not run inside TLS.
    c.send(`STLS\r\nUSER ${ALICE}\r\n`);
    expect(await c.line()).toBe('+OK Begin TLS negotiation now.');
    const tls = await (async () => {
      const { connect } = await import('node:tls');
      const plainSocket = (c as unknown as { socket: import('node:net').Socket }).socket;
      plainSocket.removeAllListeners('data');
      return new Promise<import('node:tls').TLSSocket>((resolve, reject) => {
        const t = connect({ socket: plainSocket, rejectUnauthorized: false }, () => resolve(t));
        t.once('error', reject);
      });
    })();
    const read = (): Promise<string> => new Promise((resolve) => tls.once('data', (d: Buffer) => resolve(d.toString())));
    let answer = read();
    tls.write('PASS secret\r\n');
    expect(await answer).toBe('-ERR No user name given (USER first).\r\n');
    answer = read();
    tls.write('CAPA\r\n');
    const capa = await answer;
    expect(capa).toContain('USER\r\n');
    expect(capa).not.toContain('STLS');
    answer = read();
    tls.write(`USER ${ALICE}\r\nPASS secret\r\n`);
    let got = await answer;
    while (!got.includes('Logged in')) got += await read();
    expect(got).toBe('+OK\r\n+OK Logged in.\r\n');
    answer = read();
    tls.write('STLS\r\n');
    expect(await answer).toMatch(/^-ERR/);
    tls.end('QUIT\r\n');
  });

  it('STLS through the test client, then a normal session; implicit TLS works too', async () => {
    const s = await server({ config: { plaintextAuthNetworks: [] } });
    const c = await Pop3TestClient.connect(s.port);
    await c.line();
    expect(await c.stls()).toMatch(/^\+OK/);
    expect(await c.command('STLS')).toBe('-ERR TLS is already active.');
    expect(await c.command(`USER ${ALICE}`)).toBe('+OK');
    expect(await c.command('PASS secret')).toBe('+OK Logged in.');
    await c.command('QUIT');
    const t = await Pop3TestClient.connect(s.tlsPort, { tls: true });
    expect(await t.line()).toBe('+OK Mailgate ready.');
    expect((await t.lines('CAPA')).lines).toContain('USER');
    expect(await t.command('STLS')).toBe('-ERR TLS is already active.');
    await t.command(`USER ${ALICE}`);
    expect(await t.command('PASS secret')).toBe('+OK Logged in.');
    await t.command('QUIT');
  });

  it('closes after auth_failure_limit failures and logs each; the address is slowed down', async () => {
    const s = await server({ config: { authFailureLimit: 2 }, authFailureDelayMs: 50 });
    const c = await Pop3TestClient.connect(s.port);
    await c.line();
    expect(await c.command(`USER ${ALICE}`)).toBe('+OK');
    expect(await c.command('PASS wrong')).toBe('-ERR [AUTH] Authentication failed.');
    expect(await c.command('PASS again')).toBe('-ERR No user name given (USER first).');
    await c.command(`USER ${ALICE}`);
    expect(await c.command('PASS wrong2')).toBe('-ERR [AUTH] Authentication failed. Too many failures: disconnecting.');
    await c.closed();
    expect(s.logs.filter((l) => l.includes('Authentication failed: user=<alice@example.org>'))).toHaveLength(2);
  });

  it('answers bad input with -ERR and stays usable: long lines, NUL, 8-bit, unknown commands, wrong state, huge numbers', async () => {
    const s = await server();
    await deliver(s.store, ALICE, [M1]);
    // Before login three bad commands are let through per connection (as Dovecot's pop3-login).
    const batches = [
      ['X'.repeat(300), /^-ERR Line too long/],
      ['US\0ER a', /^-ERR Control characters/],
      ['\u00e9t\u00e9 1', /^-ERR The command name/],
      ['FOO', /^-ERR Unknown command: FOO$/],
      ['STAT', /^-ERR STAT is only valid after login\.$/],
      ['RETR 1', /^-ERR RETR is only valid after login\.$/],
      ['APOP alice 0123456789abcdef0123456789abcdef', /^-ERR APOP is not supported\.$/],
      ['PASS secret', /^-ERR No user name/],
    ] as const;
    for (let i = 0; i < batches.length; i += 3) {
      const b = await Pop3TestClient.connect(s.port);
      await b.line();
      for (const [command, answer] of batches.slice(i, i + 3)) expect(await b.command(command)).toMatch(answer);
      await b.command('QUIT');
    }
    const c = await Pop3TestClient.connect(s.port);
    await c.line();
    await c.command(`USER ${ALICE}`);
    await c.command('PASS secret');
    expect(await c.command('USER bob')).toBe('-ERR USER is not valid after login.');
    expect(await c.command('RETR 99999999999999999999999999')).toMatch(/^-ERR Message number too large/);
    expect(await c.command('RETR 0')).toBe("-ERR There's no message 0.");
    expect(await c.command('RETR -1')).toMatch(/^-ERR Invalid message number/);
    expect(await c.command('RETR')).toBe('-ERR Missing message number');
    expect(await c.command('TOP 1')).toMatch(/^-ERR TOP needs/);
    expect(await c.command('TOP 1 x')).toMatch(/^-ERR Invalid size/);
    expect((await c.multi('TOP 1 99999999999999')).body.toString()).toBe(crlf(M1));
    expect(await c.command('STAT extra')).toMatch(/^\+OK 1 /);
    expect(await c.command('STAT')).toMatch(/^\+OK 1 /);
    await c.command('QUIT');
  });

  it('closes a connection at the 4th bad command before login, the 20th after (as Dovecot)', async () => {
    const s = await server();
    let c = await Pop3TestClient.connect(s.port);
    await c.line();
    for (let i = 0; i < 3; i++) expect(await c.command('BOGUS')).toBe('-ERR Unknown command: BOGUS');
    expect(await c.command('BOGUS')).toBe('-ERR Too many invalid bad commands.');
    await c.closed();
    c = await loggedIn(s);
    for (let i = 0; i < 19; i++) expect(await c.command('BOGUS')).toBe('-ERR Unknown command: BOGUS');
    expect(await c.command('BOGUS')).toBe('-ERR Too many invalid bad commands.');
    await c.closed();
  });

  it('answers pipelined commands in order (RFC 2449 PIPELINING)', async () => {
    const s = await server();
    await deliver(s.store, ALICE, [M1, M2]);
    const c = await Pop3TestClient.connect(s.port);
    await c.line();
    c.send(`USER ${ALICE}\r\nPASS secret\r\nSTAT\r\nRETR 1\r\n${'NOOP\r\n'.repeat(100)}LIST 2\r\nQUIT\r\n`);
    expect(await c.line()).toBe('+OK');
    expect(await c.line()).toBe('+OK Logged in.');
    expect(await c.line()).toMatch(/^\+OK 2 /);
    expect(await c.line()).toMatch(/octets$/);
    expect((await c.body()).toString()).toBe(crlf(M1));
    for (let i = 0; i < 100; i++) expect(await c.line()).toBe('+OK');
    expect(await c.line()).toMatch(/^\+OK 2 \d+$/);
    expect(await c.line()).toMatch(/^\+OK Logging out/);
    await c.closed();
  });

  it('serves a large message intact (streamed, back-pressured)', async () => {
    const s = await server();
    const big = 'Subject: big\n\n' + Array.from({ length: 60_000 }, (_, i) => (i % 7 === 0 ? '.' : '') + `line ${i} ${'x'.repeat(40)}`).join('\n') + '\n';
    await deliver(s.store, ALICE, [big]);
    const c = await loggedIn(s);
    const r = await c.multi('RETR 1');
    expect(r.status).toBe(`+OK ${crlf(big).length} octets`);
    expect(r.body.equals(Buffer.from(crlf(big)))).toBe(true);
    await c.command('QUIT');
  });

  it('logs one line per login and per logout with the counts and bytes', async () => {
    const s = await server();
    await deliver(s.store, ALICE, [M1, M2]);
    const c = await loggedIn(s);
    await c.multi('RETR 1');
    await c.command('DELE 2');
    await c.command('QUIT');
    await c.closed();
    await expect.poll(() => s.logs.some((l) => l.includes('Logged out'))).toBe(true);
    const login = s.logs.filter((l) => l.includes('Login:'));
    const logout = s.logs.filter((l) => l.includes('Logged out'));
    expect(login).toEqual([expect.stringMatching(/^pop3-login: Login: user=<alice@example.org>, method=PLAIN, rip=127\.0\.0\.1, session=<.+>$/)]);
    expect(logout).toEqual([expect.stringMatching(new RegExp(`^pop3\\(alice@example.org\\)<127\\.0\\.0\\.1>: Disconnected: Logged out top=0/0, retr=1/${crlf(M1).length}, del=1/2, size=\\d+, in=\\d+, out=\\d+$`))]);
  });

  it('closes an idle connection with -ERR', async () => {
    const s = await server({ config: { idleTimeout: 1 } });
    const c = await Pop3TestClient.connect(s.port);
    await c.line();
    expect(await c.line()).toBe('-ERR Disconnected for inactivity.');
    await c.closed();
  });

  it('refuses connections past client_connection_limit with [SYS/TEMP]', async () => {
    const s = await server({ config: { clientConnectionLimit: 1 } });
    const a = await Pop3TestClient.connect(s.port);
    await a.line();
    const b = await Pop3TestClient.connect(s.port);
    expect(await b.line()).toBe('-ERR [SYS/TEMP] Too many connections from 127.0.0.1.');
    await b.closed();
    await a.command('QUIT');
    await a.closed();
    await expect
      .poll(async () => {
        const c = await Pop3TestClient.connect(s.port);
        const line = await c.line();
        c.destroy();
        return line;
      })
      .toMatch(/^\+OK/);
  });

  it('close() tells idle sessions and releases their maildrops', async () => {
    const s = await startPop3();
    const c = await loggedIn(s);
    await s.server.close(1000);
    expect(await c.line()).toBe('-ERR [SYS/TEMP] Server shutting down.');
    await c.closed();
    const handle = await s.store.openUser(ALICE);
    const lock = await handle.lockMaildrop('check');
    expect(lock).toBeDefined();
    await lock?.release();
    await handle.release();
  });
});

describe('POP3 server shutdown', () => {
  it('close() ends a session stuck in the STLS handshake', async () => {
    const s = await startPop3();
    const c = await Pop3TestClient.connect(s.port);
    await c.line();
    expect(await c.command('STLS')).toMatch(/^\+OK/);
    await s.server.close(200);
    await c.closed();
  });
});
