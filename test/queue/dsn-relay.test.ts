/**
 * DSN when the next hop does DSN itself (RFC 3461 §6.2.3): the queue passes the message's RET on, and when
 * delivery says the next hop took the recipient's NOTIFY (dsnPassedOn) it sends no "relayed" success notice
 * of its own: the sender would get two success reports for one recipient.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { input, rcpt, setup, type Setup } from './helpers.js';

let s: Setup;
afterEach(async () => s.close());

const successNotices = (id: string): string[] => s.lines.filter((l) => l.startsWith(`${id}: sender delivery status notification`));

describe('DSN passed on to the next hop', () => {
  it('passes RET on, and sends no relayed notice for a recipient whose NOTIFY the next hop took', async () => {
    s = await setup();
    s.transport.decide = (r) => (r.startsWith('passed') ? { dsnPassedOn: true } : {});
    await s.queue.start();
    const passed = input(s.queue, { ret: 'HDRS', recipients: [rcpt('passed@example.org', { notify: ['SUCCESS', 'FAILURE'] })] });
    const kept = input(s.queue, { ret: 'FULL', recipients: [rcpt('kept@example.net', { notify: ['SUCCESS'] })] });
    await s.queue.enqueue(passed);
    await s.queue.enqueue(kept);
    await s.transport.until(() => [passed, kept].every((m) => s.lines.includes(`${m.id}: removed`)), 'both removed');
    expect(s.transport.deliveries.find((d) => d.queueId === passed.id)?.ret).toBe('HDRS');
    expect(s.transport.deliveries.find((d) => d.queueId === kept.id)?.ret).toBe('FULL');
    // Notices are enqueued before the message is removed: by now any would be logged.
    expect(successNotices(passed.id)).toEqual([]);
    expect(successNotices(kept.id)).toHaveLength(1); // a next hop without DSN: our own "relayed" notice
  });
});
