/**
 * The reviewer's SMTP findings of round 2, each against a live server on loopback: the hop-count limit,
 * message_size_limit = 0, the bare postmaster, header_size_limit, the listener's connection limit and the
 * sender check for clients that did not log in.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type Started } from './harness.js';
import { RawClient } from './raw-client.js';

let started: Started | undefined;
afterEach(async () => {
  await started?.close();
  started = undefined;
});

/** EHLO, MAIL, RCPT, DATA and the message; the reply to the end of message (or the first refusal). */
async function send(port: number, message: string | Buffer, from = 'x@remote.example', to = 'alice@example.org'): Promise<string> {
  const c = await RawClient.open(port);
  try {
    await c.reply();
    await c.command('EHLO client.test');
    const mail = await c.command(`MAIL FROM:<${from}>`);
    if (!mail.startsWith('250')) return mail;
    const rcpt = await c.command(`RCPT TO:<${to}>`);
    if (!rcpt.startsWith('250')) return rcpt;
    expect(await c.command('DATA')).toMatch(/^354 /);
    c.write(message);
    c.write('\r\n.\r\n');
    return (await c.reply())!.join('\n');
  } finally {
    c.close();
  }
}

describe('hop count (Postfix hopcount_limit 50)', () => {
  const fields = (n: number, name = 'Received'): string => Array.from({ length: n }, (_, i) => `${name}: from h${i}.example by h${i + 1}.example; Thu, 3 Dec 2026 10:00:00 +0000\r\n`).join('');

  it('refuses a message with more than 50 Received:/Delivered-To: fields: 554 5.4.0, nothing queued', async () => {
    started = await startServer();
    const port = started.port('mx');
    expect(await send(port, `${fields(51)}Subject: loop\r\n\r\nbody`)).toBe('554 5.4.0 Error: too many hops');
    expect(await send(port, `${fields(26)}${fields(25, 'Delivered-To')}Subject: loop\r\n\r\nbody`)).toBe('554 5.4.0 Error: too many hops');
    expect(started.spool.messages).toHaveLength(0);
    expect(started.logs.some((l) => l.includes('too many hops'))).toBe(true);
  });

  it('takes a message with 50', async () => {
    started = await startServer();
    expect(await send(started.port('mx'), `${fields(50)}Subject: ok\r\n\r\nbody`)).toMatch(/^250 2\.0\.0 Ok: queued as /);
    expect(started.spool.messages).toHaveLength(1);
  });
});

describe('message_size_limit = 0', () => {
  it('means no limit, as in Postfix', async () => {
    started = await startServer({ smtp: { messageSizeLimit: 0 } });
    expect(await send(started.port('mx'), 'Subject: any size\r\n\r\nbody')).toMatch(/^250 2\.0\.0 Ok: queued as /);
    expect(started.spool.messages).toHaveLength(1);
  });
});

describe('RCPT TO:<postmaster>', () => {
  it('is refused with 550 5.1.1 when no local domain has a postmaster', async () => {
    started = await startServer({ smtp: { mynetworks: [] } });
    expect(await send(started.port('mx'), 'Subject: x\r\n\r\nbody', 'x@remote.example', 'postmaster')).toBe(
      '550 5.1.1 <postmaster>: Recipient address rejected: User unknown in virtual mailbox table',
    );
    expect(started.spool.messages).toHaveLength(0);
  });

  it('goes to postmaster@ of a local domain; the bare local part is never queued', async () => {
    started = await startServer({ smtp: { mynetworks: [] } });
    started.accounts.aliases['postmaster@localhost'] = ['bob@example.org'];
    expect(await send(started.port('mx'), 'Subject: x\r\n\r\nbody', 'x@remote.example', 'Postmaster')).toMatch(/^250 2\.0\.0 Ok: queued as /);
    expect(started.spool.messages[0]!.recipients.map((r) => r.address)).toStrictEqual(['bob@example.org']);
  });
});

describe('header_size_limit 102400', () => {
  it('discards the header text past the limit; the body is kept whole', async () => {
    started = await startServer();
    const filler = Array.from({ length: 3000 }, (_, i) => `X-Filler-${i}: ${'x'.repeat(60)}\r\n`).join('');
    const body = 'the body\r\nline two';
    expect(await send(started.port('mx'), `Subject: big\r\n${filler}\r\n${body}`)).toMatch(/^250 2\.0\.0 Ok: queued as /);
    const text = started.spool.messages[0]!.data.toString('latin1');
    const [head, ...rest] = text.split('\r\n\r\n');
    expect(rest.join('\r\n\r\n')).toBe(`${body}\r\n`);
    // 102400 bytes counted with bare LF ends; CRLF on the spool and our Received field add a little.
    expect(head!.length).toBeLessThan(110_000);
    expect(head).toContain('Subject: big');
    expect(head).not.toContain('X-Filler-2999');
    expect(started.logs.some((l) => l.includes('header_size_limit'))).toBe(true);
  });

  it('discards one header line longer than the limit without holding it', async () => {
    started = await startServer();
    expect(await send(started.port('mx'), `Subject: long\r\nX-Long: ${'y'.repeat(300_000)}\r\nX-After: 1\r\n\r\nbody`)).toMatch(/^250 /);
    const text = started.spool.messages[0]!.data.toString('latin1');
    expect(text).toContain('Subject: long');
    expect(text).not.toContain('yyyy');
    expect(text.endsWith('\r\n\r\nbody\r\n')).toBe(true);
  });
});

describe('[smtp] connection_limit', () => {
  it('answers 421 to a connection past the limit on a listener', async () => {
    started = await startServer({ smtp: { connectionLimit: 2 } });
    const port = started.port('mx');
    const a = await RawClient.open(port);
    const b = await RawClient.open(port);
    expect((await a.reply())![0]).toMatch(/^220 /);
    expect((await b.reply())![0]).toMatch(/^220 /);
    const c = await RawClient.open(port);
    expect((await c.reply())![0]).toMatch(/^421 /);
    a.close();
    b.close();
    c.close();
  });
});

describe('a local sender from a client that did not log in (reject_unauthenticated_sender_login_mismatch)', () => {
  it('is refused outside mynetworks: 553 5.7.1 not logged in; also for an alias a user owns', async () => {
    started = await startServer({ smtp: { mynetworks: [] } });
    const port = started.port('mx');
    expect(await send(port, 'x', 'alice@example.org')).toBe('553 5.7.1 <alice@example.org>: Sender address rejected: not logged in');
    expect(await send(port, 'x', 'team@example.org')).toBe('553 5.7.1 <team@example.org>: Sender address rejected: not logged in');
    expect(started.spool.messages).toHaveLength(0);
  });

  it('leaves the null sender, remote senders, unknown local addresses and mynetworks alone', async () => {
    started = await startServer({ smtp: { mynetworks: [] } });
    const port = started.port('mx');
    expect(await send(port, 'Subject: a\r\n\r\nx', '')).toMatch(/^250 2\.0\.0/);
    expect(await send(port, 'Subject: a\r\n\r\nx', 'x@remote.example')).toMatch(/^250 2\.0\.0/);
    expect(await send(port, 'Subject: a\r\n\r\nx', 'nobody@example.org')).toMatch(/^250 2\.0\.0/);
    await started.close();
    started = await startServer();
    expect(await send(started.port('mx'), 'Subject: a\r\n\r\nx', 'alice@example.org')).toMatch(/^250 2\.0\.0/);
  });
});
