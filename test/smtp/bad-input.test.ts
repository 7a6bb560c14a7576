/**
 * Bad input and ends of sessions: malformed and over-long commands, NUL bytes and long lines in DATA, a
 * client that goes away mid-DATA or stalls, a server closing with a message in flight. Each gets a correct
 * SMTP reply or a clean end; nothing half-received is queued and the server goes on serving.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hangGuard } from '../hang-guard.js';
import { RawClient } from './raw-client.js';
import { startServer, swaks, type Started } from './harness.js';

let started: Started | undefined;
afterEach(async () => {
  await started?.close();
  started = undefined;
});

async function inData(port: number): Promise<RawClient> {
  const c = await RawClient.open(port);
  await c.reply();
  await c.command('EHLO client.test');
  await c.command('MAIL FROM:<x@remote.example>');
  await c.command('RCPT TO:<alice@example.org>');
  expect(await c.command('DATA')).toMatch(/^354 /);
  return c;
}

describe('commands', () => {
  it('answers an unknown command with 500 5.5.2 and an over-long command line with 421, then closes', async () => {
    started = await startServer();
    const c = await RawClient.open(started.port('mx'));
    await c.reply();
    expect(await c.command('FROB x')).toMatch(/^500 5\.5\.2 /);
    c.write(`NOOP ${'x'.repeat(20_000)}\r\n`);
    expect((await c.reply())!.at(-1)).toMatch(/^421 /);
    expect(await c.reply()).toBeUndefined();
    c.close();
  });

  it('answers MAIL/RCPT without an address as Postfix does: 501 5.5.4 (command syntax), not a bad-address code', async () => {
    started = await startServer();
    const c = await RawClient.open(started.port('mx'));
    await c.reply();
    await c.command('EHLO client.test');
    expect(await c.command('MAIL FROM:')).toMatch(/^501 5\.5\.4 Syntax: MAIL FROM:<address>/);
    expect(await c.command('MAIL')).toMatch(/^501 5\.5\.4 /);
    expect(await c.command('MAIL TO:<x@remote.example>')).toMatch(/^501 5\.5\.4 /);
    // A malformed address is still a bad address (Postfix: 501 5.1.7).
    expect(await c.command('MAIL FROM:<x@remote.example')).toMatch(/^501 5\.1\.7 /);
    expect(await c.command('MAIL FROM:<x@remote.example>')).toMatch(/^250 /);
    expect(await c.command('RCPT TO:')).toMatch(/^501 5\.5\.4 Syntax: RCPT TO:<address>/);
    expect(await c.command('RCPT FROM:<alice@example.org>')).toMatch(/^501 5\.5\.4 /);
    expect(await c.command('RCPT TO:<alice@example.org')).toMatch(/^501 5\.1\.3 /);
    expect(await c.command('RCPT TO:<alice@example.org>')).toMatch(/^250 /);
    c.close();
  });

  it('ends an idle session with 421 4.4.2', async () => {
    started = await startServer({ smtp: { idleTimeout: 0.3 } });
    const done = hangGuard(300);
    const c = await RawClient.open(started.port('mx'));
    await c.reply();
    expect((await c.reply())!.at(-1)).toMatch(/^421 4\.4\.2 /);
    c.close();
    done();
  });
});

describe('DATA', () => {
  it('keeps NUL bytes and a 100 KB line as received (Postfix accepts both)', async () => {
    started = await startServer();
    const c = await inData(started.port('mx'));
    const long = 'y'.repeat(100_000);
    c.write(`Subject: nul\r\n\r\na\0b\r\n${long}\r\n.\r\n`);
    expect((await c.reply())![0]).toMatch(/^250 2\.0\.0 Ok: queued as /);
    c.close();
    const text = started.spool.messages[0]!.data.toString('latin1');
    expect(text).toContain('\r\n\r\na\0b\r\n');
    expect(text).toContain(`\r\n${long}\r\n`);
  });

  it('queues nothing when the client goes away mid-DATA, and goes on serving', async () => {
    started = await startServer();
    const c = await inData(started.port('mx'));
    c.write('Subject: cut\r\n\r\nhalf a mess');
    await new Promise((r) => setTimeout(r, 100));
    c.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(started.spool.messages).toHaveLength(0);
    const r = await swaks(started.port('mx'), ['--from', 'x@remote.example', '--to', 'alice@example.org']);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(started.spool.messages).toHaveLength(1);
    expect(started.logs.filter((l) => l.startsWith('disconnect from ')).length).toBeGreaterThanOrEqual(1);
  });

  it('lets a message in flight finish while the server closes', async () => {
    started = await startServer();
    const c = await inData(started.port('mx'));
    c.write('Subject: late\r\n\r\nbody\r\n');
    const closing = started.server.close(5);
    c.write('.\r\n');
    expect((await c.reply())![0]).toMatch(/^250 2\.0\.0 Ok: queued as /);
    c.close();
    await closing;
    expect(started.spool.messages).toHaveLength(1);
  });
});
