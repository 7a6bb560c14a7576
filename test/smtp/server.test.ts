/**
 * The SMTP server against real swaks (and a raw socket where swaks cannot say it): delivery into the
 * Spool with our Received on top, recipients and aliases, relay refusal, AUTH over STARTTLS, limits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo } from 'node:net';
import { Chain } from '../../src/chain/chain.js';
import { createSmtpServer } from '../../src/smtp/server.js';
import { MemoryAccounts, MemorySpool } from './fakes.js';
import { RawClient } from './raw-client.js';
import { SMTP_DEFAULTS, captureLogger, startServer, swaks, type Started } from './harness.js';

let started: Started | undefined;
afterEach(async () => {
  await started?.close();
  started = undefined;
});

describe('MX listener', () => {
  it('queues a message for a local user with our Received on top and answers with the queue id', async () => {
    started = await startServer();
    const r = await swaks(started.port('mx'), ['--from', 'someone@remote.example', '--to', 'alice@example.org', '--header', 'Subject: hi']);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(started.spool.messages).toHaveLength(1);
    const m = started.spool.messages[0]!;
    expect(r.stdout).toContain(`250 2.0.0 Ok: queued as ${m.id}`);
    expect(m.sender).toBe('someone@remote.example');
    expect(m.recipients).toEqual([{ address: 'alice@example.org', original: 'alice@example.org' }]);
    expect(m.client).toBe('[127.0.0.1]');
    const text = m.data.toString('latin1');
    expect(text).toMatch(
      new RegExp(`^Received: from client\\.test \\(unknown \\[127\\.0\\.0\\.1\\]\\)\\r\\n\\tby mx\\.test \\(Mailgate\\) with ESMTP id ${m.id}\\r\\n\\tfor <alice@example\\.org>; \\w{3}, \\d+ \\w{3} \\d{4} \\d\\d:\\d\\d:\\d\\d \\+0000 \\(UTC\\)\\r\\n`),
    );
    expect(text).toContain('Subject: hi\r\n');
    expect(started.logs.some((l) => l.startsWith('connect from unknown[127.0.0.1]'))).toBe(true);
  });
});

describe('listeners', () => {
  it('refuses to start when a port is taken, leaving nothing bound', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as AddressInfo).port;
    const logs: string[] = [];
    const chain = new Chain([], { fallbackStatus: 'accept' });
    const server = createSmtpServer(
      { hostname: 'mx.test', smtp: { ...SMTP_DEFAULTS }, submission: { listen: [{ host: '127.0.0.1', port }], tlsListen: [] }, reverseLookup: false },
      { chain, accounts: new MemoryAccounts([], {}), spool: new MemorySpool(), logger: captureLogger(logs) },
    );
    await expect(server.listen()).rejects.toThrow(/EADDRINUSE/);
    expect(server.addresses).toEqual([]);
    busy.close();
    await chain.dispose();
  });
});

describe('client name', () => {
  const lookups = (ptr: string, forward: string[]) => ({
    reverse: () => Promise.resolve([ptr]),
    resolve4: () => Promise.resolve(forward),
    resolve6: () => Promise.resolve([]),
  });

  it('is the reverse name when it resolves back to the client (forward-confirmed)', async () => {
    started = await startServer({ server: { reverseLookup: true, nameLookups: lookups('client.example.', ['127.0.0.1']) } });
    const r = await swaks(started.port('mx'), ['--from', 'x@remote.example', '--to', 'alice@example.org']);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(started.spool.messages[0]!.data.toString()).toMatch(/^Received: from client\.test \(client\.example \[127\.0\.0\.1\]\)/);
    expect(started.spool.messages[0]!.client).toBe('client.example [127.0.0.1]');
    expect(started.logs).toContain('connect from client.example[127.0.0.1]');
  });

  it('is unknown when the reverse name does not resolve back', async () => {
    started = await startServer({ server: { reverseLookup: true, nameLookups: lookups('mail.big.example', ['192.0.2.9']) } });
    const r = await swaks(started.port('mx'), ['--from', 'x@remote.example', '--to', 'alice@example.org']);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(started.spool.messages[0]!.data.toString()).toMatch(/^Received: from client\.test \(unknown \[127\.0\.0\.1\]\)/);
  });
});

describe('recipients and relaying', () => {
  it('expands an alias into queued recipients, keeping the address the client gave', async () => {
    started = await startServer();
    const r = await swaks(started.port('mx'), ['--from', 'x@remote.example', '--to', 'team@example.org']);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(started.spool.messages[0]!.recipients).toEqual([
      { address: 'alice@example.org', original: 'team@example.org' },
      { address: 'bob@example.org', original: 'team@example.org' },
      { address: 'carol@remote.example', original: 'team@example.org' },
    ]);
  });

  it('refuses an unknown local user with 550 5.1.1 and an alias loop with 5.4.6', async () => {
    started = await startServer();
    const r = await swaks(started.port('mx'), ['--from', 'x@remote.example', '--to', 'nobody@example.org']);
    expect(r.stdout).toContain('550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table');
    const loop = await swaks(started.port('mx'), ['--from', 'x@remote.example', '--to', 'loop1@example.org']);
    expect(loop.stdout).toMatch(/550 5\.4\.6 <loop1@example\.org>: Recipient address rejected: mail forwarding loop/);
    expect(started.spool.messages).toHaveLength(0);
  });

  it('refuses relaying for a client outside mynetworks, with one Postfix-style log line', async () => {
    started = await startServer({ smtp: { mynetworks: [] } });
    const r = await swaks(started.port('mx'), ['--from', 'x@remote.example', '--to', 'victim@other.example']);
    expect(r.stdout).toContain('554 5.7.1 <victim@other.example>: Relay access denied');
    expect(started.spool.messages).toHaveLength(0);
    expect(started.logs).toContain(
      'NOQUEUE: reject: RCPT from unknown[127.0.0.1]: 554 5.7.1 <victim@other.example>: Relay access denied; from=<x@remote.example> to=<victim@other.example> proto=ESMTP helo=<client.test>',
    );
  });

  it('offers AUTH on the MX listener only after STARTTLS (smtpd_tls_auth_only), and takes it there', async () => {
    started = await startServer({ server: { plaintextAuthNetworks: [] }, smtp: { mynetworks: [] } });
    const c = await RawClient.open(started.port('mx'));
    await c.reply();
    c.write('EHLO client.test\r\n');
    expect((await c.reply())!.join('\n')).not.toContain('AUTH');
    expect(await c.command('AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHNlY3JldA==')).toMatch(/^500 /);
    expect(await c.command('STARTTLS')).toMatch(/^220 /);
    await c.startTls();
    c.write('EHLO client.test\r\n');
    expect((await c.reply())!.join('\n')).toContain('250-AUTH PLAIN LOGIN');
    expect(await c.command('AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHNlY3JldA==')).toMatch(/^235 /);
    await c.command('MAIL FROM:<alice@example.org>');
    expect(await c.command('RCPT TO:<friend@other.example>')).toMatch(/^250 /);
    c.close();
  });

  it('relays for a client in mynetworks', async () => {
    started = await startServer();
    const r = await swaks(started.port('mx'), ['--from', 'x@example.org', '--to', 'friend@other.example']);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(started.spool.messages[0]!.recipients).toEqual([{ address: 'friend@other.example', original: 'friend@other.example' }]);
  });

  it('answers 452 4.5.3 past the recipient limit', async () => {
    started = await startServer({ smtp: { recipientLimit: 2 } });
    const r = await swaks(started.port('mx'), ['--from', 'x@remote.example', '--to', 'alice@example.org,bob@example.org,team@example.org']);
    expect(r.stdout).toContain('452 4.5.3 Error: too many recipients');
  });

  it('hands the DSN parameters of MAIL and RCPT to the Spool', async () => {
    started = await startServer();
    const c = await RawClient.open(started.port('mx'));
    await c.reply();
    await c.command('EHLO client.test');
    expect(await c.command('MAIL FROM:<x@remote.example> RET=HDRS ENVID=abc+2Bdef')).toMatch(/^250 /);
    expect(await c.command('RCPT TO:<alice@example.org> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;alice@example.org')).toMatch(/^250 /);
    expect(await c.command('RCPT TO:<bob@example.org> NOTIFY=NEVER')).toMatch(/^250 /);
    expect(await c.command('DATA')).toMatch(/^354 /);
    expect(await c.command('Subject: dsn\r\n\r\nbody\r\n.')).toMatch(/^250 2\.0\.0 Ok: queued as /);
    c.close();
    const m = started.spool.messages[0]!;
    expect(m.ret).toBe('HDRS');
    expect(m.envid).toBe('abc+def');
    expect(m.recipients).toEqual([
      { address: 'alice@example.org', original: 'alice@example.org', orcpt: 'rfc822;alice@example.org', notify: ['SUCCESS', 'DELAY'] },
      { address: 'bob@example.org', original: 'bob@example.org', notify: 'NEVER' },
    ]);
  });
});

describe('submission', () => {
  it('offers AUTH only after STARTTLS to a client outside the plaintext-AUTH networks, then takes AUTH PLAIN', async () => {
    started = await startServer({ server: { plaintextAuthNetworks: [] } });
    const c = await RawClient.open(started.port('submission'));
    await c.reply();
    c.write('EHLO client.test\r\n');
    const before = (await c.reply())!.join('\n');
    expect(before).toContain('STARTTLS');
    expect(before).not.toContain('AUTH');
    for (const ext of ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'SIZE 10240000', 'ENHANCEDSTATUSCODES', 'DSN']) expect(before).toContain(ext);
    expect(await c.command('MAIL FROM:<alice@example.org>')).toBe('530 5.7.0 Authentication required');
    c.close();
    const r = await swaks(started.port('submission'), [
      '--tls', '--auth', 'PLAIN', '--auth-user', 'alice@example.org', '--auth-password', 'secret',
      '--from', 'alice@example.org', '--to', 'friend@other.example',
    ]);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/250-AUTH PLAIN LOGIN/);
    const m = started.spool.messages[0]!;
    expect(m.data.toString()).toMatch(/\(using TLSv1\.[23] with cipher [A-Z0-9_-]+ \(\d+\/\d+ bits\)\)\r\n\tby mx\.test \(Mailgate\) with ESMTPSA id /);
  });

  it('takes AUTH LOGIN over implicit TLS', async () => {
    started = await startServer();
    const r = await swaks(started.port('submissions'), [
      '--tls-on-connect', '--auth', 'LOGIN', '--auth-user', 'bob@example.org', '--auth-password', 'hunter2',
      '--from', 'bob@example.org', '--to', 'alice@example.org',
    ]);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(started.spool.messages).toHaveLength(1);
  });

  it('refuses a sender address the user does not own (reject_sender_login_mismatch)', async () => {
    started = await startServer();
    const r = await swaks(started.port('submission'), [
      '--tls', '--auth', 'PLAIN', '--auth-user', 'alice@example.org', '--auth-password', 'secret',
      '--from', 'bob@example.org', '--to', 'friend@other.example',
    ]);
    expect(r.stdout).toContain('553 5.7.1 <bob@example.org>: Sender address rejected: not owned by user alice@example.org');
    expect(started.spool.messages).toHaveLength(0);
  });

  it('answers 535 to a bad password and drops the connection at the failure limit', async () => {
    started = await startServer({ smtp: { authFailureLimit: 2 } });
    const c = await RawClient.open(started.port('submission'));
    await c.reply();
    await c.command('EHLO client.test');
    const bad = Buffer.from('\0alice@example.org\0wrong').toString('base64');
    expect(await c.command(`AUTH PLAIN ${bad}`)).toBe('535 5.7.8 Error: authentication failed: authentication failure');
    expect(await c.command(`AUTH PLAIN ${bad}`)).toBe('421 4.7.0 mx.test Error: too many authentication failures');
    expect(await c.reply()).toBeUndefined();
    c.close();
    expect(started.logs.filter((l) => l.includes('SASL PLAIN authentication failed'))).toHaveLength(2);
  });
});

describe('XCLIENT', () => {
  it('is taken from an xclient host: the session is about the client it names', async () => {
    started = await startServer({ smtp: { xclientHosts: ['127.0.0.0/8'], mynetworks: ['127.0.0.0/8'] } });
    const r = await swaks(started.port('mx'), ['--xclient-addr', '192.0.2.7', '--xclient-name', 'client.example', '--from', 'x@remote.example', '--to', 'alice@example.org']);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(started.spool.messages[0]!.data.toString()).toMatch(/^Received: from client\.test \(client\.example \[192\.0\.2\.7\]\)/);
    // 192.0.2.7 is not in mynetworks: no relaying for it.
    const relay = await swaks(started.port('mx'), ['--xclient-addr', '192.0.2.7', '--from', 'x@remote.example', '--to', 'v@other.example']);
    expect(relay.stdout).toContain('554 5.7.1 <v@other.example>: Relay access denied');
  });

  it('takes LOGIN= from an xclient host as an authenticated user, who may relay', async () => {
    started = await startServer({ smtp: { xclientHosts: ['127.0.0.1'], mynetworks: [] } });
    const r = await swaks(started.port('mx'), ['--xclient-addr', '192.0.2.7', '--xclient-login', 'alice@example.org', '--from', 'alice@example.org', '--to', 'v@other.example']);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(started.spool.messages[0]!.data.toString()).toMatch(/with ESMTPA id /);
  });

  it('is neither offered nor taken from any other client', async () => {
    started = await startServer({ smtp: { xclientHosts: ['192.0.2.1'] } });
    const r = await swaks(started.port('mx'), ['--xclient-addr', '192.0.2.7', '--from', 'x@remote.example', '--to', 'alice@example.org']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout).not.toMatch(/250-XCLIENT/);
    expect(started.spool.messages).toHaveLength(0);
  });
});

describe('pipelining and STARTTLS injection', () => {
  it('takes a pipelined transaction from swaks', async () => {
    started = await startServer();
    const r = await swaks(started.port('mx'), ['--pipeline', '--from', 'x@remote.example', '--to', 'alice@example.org,bob@example.org']);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(started.spool.messages[0]!.recipients.map((x) => x.address)).toEqual(['alice@example.org', 'bob@example.org']);
  });

  it('discards commands pipelined after STARTTLS in plaintext', async () => {
    started = await startServer();
    const c = await RawClient.open(started.port('mx'));
    await c.reply();
    await c.command('EHLO client.test');
    c.write('STARTTLS\r\nMAIL FROM:<evil@remote.example>\r\nRCPT TO:<alice@example.org>\r\n');
    expect((await c.reply())![0]).toMatch(/^220 /);
    await c.startTls();
    await c.command('EHLO client.test');
    // Had the injected MAIL survived, this RCPT would be accepted.
    expect(await c.command('RCPT TO:<alice@example.org>')).toMatch(/^503 /);
    c.close();
  });
});

describe('limits and bad input', () => {
  it('refuses a message larger than the limit on the bytes received, without SIZE=', async () => {
    started = await startServer({ smtp: { messageSizeLimit: 2000 } });
    const r = await swaks(started.port('mx'), ['--from', 'x@remote.example', '--to', 'alice@example.org', '--body', 'x'.repeat(5000)]);
    expect(r.stdout).toContain('552 5.3.4 Message size exceeds fixed limit');
    expect(started.spool.messages).toHaveLength(0);
    const c = await RawClient.open(started.port('mx'));
    await c.reply();
    await c.command('EHLO client.test');
    expect(await c.command('MAIL FROM:<x@remote.example> SIZE=5000')).toMatch(/^552 5\.3\.4 /);
    c.close();
  });

  it('takes bare LF as a line end (stored as CRLF) and 8-bit data without BODY=8BITMIME, as Postfix', async () => {
    started = await startServer();
    const c = await RawClient.open(started.port('mx'));
    await c.reply();
    await c.command('EHLO client.test');
    await c.command('MAIL FROM:<x@remote.example>');
    await c.command('RCPT TO:<alice@example.org>');
    await c.command('DATA');
    c.write(Buffer.from('Subject: bare\nX-A: 1\n\nline one\nline \xe9\r\n.\r\n', 'latin1'));
    expect((await c.reply())![0]).toMatch(/^250 2\.0\.0 Ok: queued as /);
    c.close();
    const text = started.spool.messages[0]!.data.toString('latin1');
    expect(text).toContain('Subject: bare\r\nX-A: 1\r\n\r\nline one\r\nline \xe9\r\n');
    expect(text).not.toMatch(/[^\r]\n/);
  });

  it('refuses a second connection from an address at the per-client limit', async () => {
    started = await startServer({ smtp: { clientConnectionLimit: 1, mynetworks: [] } });
    const a = await RawClient.open(started.port('mx'));
    expect((await a.reply())![0]).toMatch(/^220 /);
    const b = await RawClient.open(started.port('mx'));
    expect((await b.reply())![0]).toBe('421 4.7.0 mx.test Error: too many connections from 127.0.0.1');
    a.close();
    b.close();
  });

  it('does not limit clients in mynetworks (smtpd_client_event_limit_exceptions)', async () => {
    started = await startServer({ smtp: { clientConnectionLimit: 1, clientMessageRateLimit: 1 } });
    const a = await RawClient.open(started.port('mx'));
    expect((await a.reply())![0]).toMatch(/^220 /);
    const b = await RawClient.open(started.port('mx'));
    expect((await b.reply())![0]).toMatch(/^220 /);
    await b.command('EHLO client.test');
    expect(await b.command('MAIL FROM:<x@remote.example>')).toMatch(/^250 /);
    await b.command('RSET');
    expect(await b.command('MAIL FROM:<x@remote.example>')).toMatch(/^250 /);
    a.close();
    b.close();
  });

  it('answers 450 4.7.1 past the per-client message rate', async () => {
    started = await startServer({ smtp: { clientMessageRateLimit: 1, mynetworks: [] } });
    const c = await RawClient.open(started.port('mx'));
    await c.reply();
    await c.command('EHLO client.test');
    expect(await c.command('MAIL FROM:<x@remote.example>')).toMatch(/^250 /);
    await c.command('RSET');
    expect(await c.command('MAIL FROM:<x@remote.example>')).toBe('450 4.7.1 Error: too much mail from 127.0.0.1');
    c.close();
  });

  it('answers 451 4.3.0 when the Spool fails, and nothing is queued', async () => {
    started = await startServer();
    started.spool.failNext = true;
    const r = await swaks(started.port('mx'), ['--from', 'x@remote.example', '--to', 'alice@example.org']);
    expect(r.stdout).toContain('451 4.3.0 Error: queue file write error');
    expect(started.spool.messages).toHaveLength(0);
  });

  it('ends a session past the total-session limit with 421, and logs one disconnect line', async () => {
    started = await startServer({ smtp: { sessionTimeout: 0.3 } });
    const c = await RawClient.open(started.port('mx'));
    await c.reply();
    await c.command('EHLO client.test');
    expect((await c.reply())![0]).toBe('421 4.4.2 mx.test Error: session time limit exceeded');
    c.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(started.logs.filter((l) => l.startsWith('disconnect from unknown[127.0.0.1]'))).toHaveLength(1);
  });
});
