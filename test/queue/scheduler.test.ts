import { afterEach, describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hangGuard } from '../hang-guard.js';
import { decodeState } from '../../src/queue/state.js';
import { decodeEnvelope } from '../../src/queue/queue-file.js';
import { backoffDelay } from '../../src/queue/backoff.js';
import { input, rcpt, setup, type Setup } from './helpers.js';

let s: Setup;
afterEach(async () => s.close());

const messages = async (): Promise<string[]> => readdir(join(s.dir.path, 'queue', 'messages'));
const notices = (): { recipients: string[]; message: string }[] => s.transport.deliveries.filter((d) => d.sender === '' && d.message.startsWith('From: MAILER-DAEMON'));

describe('the scheduler', () => {
  it('delivers new mail at once, logs to= and removed, and leaves an empty queue', async () => {
    s = await setup({ queueRunDelay: 60_000 }); // no queue run in this test: delivery must not wait for one
    await s.queue.start();
    const i = input(s.queue, { recipients: [rcpt('b@example.org'), rcpt('c@example.net', { original: 'alias@example.com' })] });
    await s.queue.enqueue(i);
    await s.transport.until(() => s.lines.includes(`${i.id}: removed`), 'removal');
    expect(s.transport.deliveries.map((d) => d.recipients).flat().sort()).toEqual(['b@example.org', 'c@example.net']);
    expect(s.lines.find((l) => l.startsWith(`${i.id}: to=<c@example.net>`))).toMatch(
      new RegExp(`^${i.id}: to=<c@example.net>, orig_to=<alias@example.com>, relay=mx.example.org\\[192.0.2.1\\]:25, delay=[0-9.]+, dsn=2.0.0, status=sent \\(250 ok\\)$`),
    );
    expect(await messages()).toEqual([]);
  });

  it('retries a deferred recipient with back-off, keeping the done ones done, then delivers', async () => {
    s = await setup();
    let tries = 0;
    s.transport.decide = (r) => (r === 'slow@example.net' && ++tries < 3 ? { status: 'deferred' } : {});
    await s.queue.start();
    const i = input(s.queue, { recipients: [rcpt('b@example.org'), rcpt('slow@example.net')] });
    await s.queue.enqueue(i);
    await s.transport.until(() => s.lines.includes(`${i.id}: removed`), 'removal');
    const got = s.transport.deliveries.filter((d) => d.queueId === i.id).map((d) => d.recipients.join());
    expect(got.filter((r) => r === 'b@example.org')).toHaveLength(1);
    expect(got.filter((r) => r === 'slow@example.net')).toHaveLength(3);
    expect(s.lines.filter((l) => l.includes('status=deferred (connect refused)'))).toHaveLength(2);
    expect(notices()).toEqual([]); // no delay warning unless delay_warning_time is set
  });

  it('doubles the back-off from minimal to maximal_backoff_time', () => {
    const t = { minimalBackoffTime: 300_000, maximalBackoffTime: 4_000_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, t))).toEqual([300_000, 600_000, 1_200_000, 2_400_000, 4_000_000, 4_000_000]);
  });

  it('keeps the per-recipient state on disk while a recipient is deferred', async () => {
    s = await setup({ minimalBackoffTime: 60_000, maximalBackoffTime: 60_000 });
    s.transport.decide = (r) => (r === 'slow@example.net' ? { status: 'deferred' } : {});
    await s.queue.start();
    const i = input(s.queue, { recipients: [rcpt('b@example.org'), rcpt('slow@example.net')] });
    await s.queue.enqueue(i);
    await s.transport.until(() => s.lines.some((l) => l.includes('status=deferred')), 'the deferral');
    await s.queue.stop();
    const env = decodeEnvelope(await readFile(join(s.dir.path, 'queue', 'messages', i.id))).envelope;
    const state = decodeState(await readFile(join(s.dir.path, 'queue', 'state', i.id)), env)!;
    expect(state.recipients.map((r) => [r.status, r.attempts])).toEqual([
      ['delivered', 1],
      ['pending', 1],
    ]);
    expect(state.recipients[1]!.next - env.arrival).toBeGreaterThanOrEqual(60_000);
    // A restart delivers the remaining recipient only (flush: the back-off would make it wait a minute).
    s.transport.decide = () => ({});
    s.reopen();
    await s.queue.start();
    s.queue.flush();
    await s.transport.until(() => s.lines.includes(`${i.id}: removed`), 'removal after restart');
    const after = s.transport.deliveries.filter((d) => d.queueId === i.id).map((d) => d.recipients.join());
    // b once; slow twice: the deferral, then the delivery after the restart (the two domains go in parallel).
    expect([...after].sort()).toEqual(['b@example.org', 'slow@example.net', 'slow@example.net']);
    expect(after.at(-1)).toBe('slow@example.net');
  });

  it('bounces a failed recipient to the sender with a DSN that goes through the queue, never to <>', async () => {
    s = await setup();
    s.transport.decide = (r) => (r === 'nobody@example.org' ? { status: 'failed', remoteReply: '550 5.1.1 <nobody@example.org>: user unknown' } : {});
    await s.queue.start();
    const i = input(s.queue, { recipients: [rcpt('nobody@example.org'), rcpt('b@example.org')] });
    await s.queue.enqueue(i);
    await s.transport.until(() => notices().length === 1, 'the bounce');
    const dsn = notices()[0]!;
    expect(dsn.recipients).toEqual(['a@example.com']);
    expect(dsn.message).toMatch(/^From: MAILER-DAEMON@mx\.test \(Mail Delivery System\)\r\n/);
    expect(dsn.message).toContain('Final-Recipient: rfc822; nobody@example.org');
    expect(dsn.message).toContain('Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>: user unknown');
    expect(dsn.message).not.toContain('Final-Recipient: rfc822; b@example.org');
    expect(s.lines.some((l) => new RegExp(`^${i.id}: sender non-delivery notification: [0-9A-Z]{10,}$`).test(l))).toBe(true);
    await s.transport.until(() => s.lines.includes(`${i.id}: removed`), 'removal');

    // A bounce of mail from <> (a DSN that cannot be delivered) is dropped, not bounced.
    const j = input(s.queue, { sender: '', recipients: [rcpt('nobody@example.org')] });
    await s.queue.enqueue(j);
    await s.transport.until(() => s.lines.includes(`${j.id}: removed`), 'removal of the <> message');
    expect(notices()).toHaveLength(1);
  });

  it('honours NOTIFY=NEVER, NOTIFY=SUCCESS (delivered/relayed notices) and expires deferred mail after the lifetime', async () => {
    s = await setup({ maximalQueueLifetime: 100 });
    s.transport.decide = (r) =>
      r.startsWith('never') ? { status: 'failed' } : r.startsWith('late') ? { status: 'deferred' } : r.startsWith('box') ? { relay: 'maildir' } : {};
    await s.queue.start();
    const never = input(s.queue, { recipients: [rcpt('never@example.org', { notify: 'NEVER' })] });
    const success = input(s.queue, { recipients: [rcpt('box@localhost', { notify: ['SUCCESS'] }), rcpt('ok@example.org', { notify: ['SUCCESS', 'FAILURE'] })] });
    const late = input(s.queue, { recipients: [rcpt('late@example.org')] });
    for (const m of [never, success, late]) await s.queue.enqueue(m);
    const done = [never, success, late].map((m) => `${m.id}: removed`);
    await s.transport.until(() => done.every((d) => s.lines.includes(d)), 'all three removed');
    await s.transport.until(() => notices().length === 2, 'two notices');
    const [ok, expired] = [notices().find((n) => n.message.includes('Successful Mail Delivery Report'))!, notices().find((n) => n.message.includes('Undelivered'))!];
    expect(ok.message).toContain('Final-Recipient: rfc822; box@localhost\r\nAction: delivered\r\nStatus: 2.0.0');
    expect(ok.message).toContain('Final-Recipient: rfc822; ok@example.org\r\nAction: relayed\r\nStatus: 2.0.0');
    expect(expired.message).toContain('Final-Recipient: rfc822; late@example.org\r\nAction: failed\r\nStatus: 4.4.1');
    expect(s.lines).toContain(`${late.id}: from=<a@example.com>, status=expired, returned to sender`);
  });

  it('sends one delay warning after delay_warning_time to recipients that want DELAY', async () => {
    s = await setup({ delayWarningTime: 50, maximalBackoffTime: 40 });
    let deferred = true;
    s.transport.decide = (r) => (r.endsWith('example.org') && deferred ? { status: 'deferred' } : {});
    await s.queue.start();
    const i = input(s.queue, { recipients: [rcpt('b@example.org'), rcpt('quiet@example.org', { notify: ['FAILURE'] })] });
    await s.queue.enqueue(i);
    await s.transport.until(() => notices().length === 1, 'the delay warning');
    await new Promise((r) => setTimeout(r, 200)); // more deferrals: still one warning
    deferred = false;
    await s.transport.until(() => s.lines.includes(`${i.id}: removed`), 'removal');
    expect(notices()).toHaveLength(1);
    const w = notices()[0]!.message;
    expect(w).toContain('Subject: Delayed Mail (still being retried)');
    expect(w).toContain('Final-Recipient: rfc822; b@example.org\r\nAction: delayed\r\nStatus: 4.4.1');
    expect(w).not.toContain('quiet@example.org\r\n');
    expect(w).toContain('Content-Type: text/rfc822-headers');
  });

  it('caps deliveries per destination so a slow one does not stall the others', async () => {
    const done = hangGuard(1000);
    s = await setup({ destinationConcurrencyLimit: 2, maxDeliveries: 5 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    s.transport.decide = async (r) => {
      if (r.endsWith('@slow.example')) await gate;
      return {};
    };
    await s.queue.start();
    const slow = Array.from({ length: 6 }, () => input(s.queue, { recipients: [rcpt('x@slow.example')] }));
    const fast = Array.from({ length: 10 }, () => input(s.queue, { recipients: [rcpt('y@fast.example')] }));
    for (const m of [...slow, ...fast]) await s.queue.enqueue(m);
    await s.transport.until(() => fast.every((m) => s.lines.includes(`${m.id}: removed`)), 'the fast destination');
    expect(s.transport.inFlight).toBe(2); // the slow destination holds its two slots, no more
    release();
    await s.transport.until(() => slow.every((m) => s.lines.includes(`${m.id}: removed`)), 'the slow destination');
    expect(s.transport.maxInFlight).toBeLessThanOrEqual(5);
    done();
  });

  it('treats a transport that throws as a deferral, not a crash', async () => {
    s = await setup({ minimalBackoffTime: 60_000, maximalBackoffTime: 60_000 });
    s.transport.decide = () => {
      throw new Error('boom');
    };
    await s.queue.start();
    const i = input(s.queue);
    await s.queue.enqueue(i);
    await s.transport.until(() => s.lines.some((l) => l.includes('status=deferred (delivery failed: boom)')), 'the deferral');
    expect(await messages()).toEqual([i.id]);
  });

  it('frees the slot of a delivery that never finishes (deliveryTimeout): the queue does not wedge', async () => {
    s = await setup({ deliveryTimeout: 100, maxDeliveries: 1, minimalBackoffTime: 60_000, maximalBackoffTime: 60_000 });
    s.transport.decide = (r) => (r.endsWith('@hang.example') ? new Promise<never>(() => undefined) : {});
    await s.queue.start();
    const stuck = input(s.queue, { recipients: [rcpt('x@hang.example')] });
    const next = input(s.queue, { recipients: [rcpt('y@ok.example')] });
    await s.queue.enqueue(stuck);
    await s.queue.enqueue(next);
    await s.transport.until(() => s.lines.includes(`${next.id}: removed`), 'the next message');
    expect(s.lines.some((l) => l.startsWith(`${stuck.id}: to=<x@hang.example>`) && l.includes('status=deferred (delivery timed out after 0.1 s)'))).toBe(true);
  });

  it('stop(graceMs) returns while a delivery hangs; the next start delivers the message again', async () => {
    s = await setup();
    s.transport.decide = () => new Promise<never>(() => undefined);
    await s.queue.start();
    const i = input(s.queue);
    await s.queue.enqueue(i);
    await s.transport.until(() => s.transport.inFlight === 1, 'the delivery to start');
    await s.queue.stop(50);
    s.transport.decide = () => ({});
    s.reopen();
    await s.queue.start();
    await s.transport.until(() => s.lines.includes(`${i.id}: removed`), 'delivery after the restart');
  });
});
