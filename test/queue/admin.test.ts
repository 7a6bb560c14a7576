import { afterEach, describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { deleteMessage, flushQueue, formatListing, formatMessage, holdMessage, listEntries, readEntry, releaseMessage } from '../../src/queue/admin.js';
import { QueueStore } from '../../src/queue/store.js';
import { input, rcpt, setup, type Setup } from './helpers.js';

let s: Setup;
afterEach(async () => s.close());

/** The CLI's view: a separate store object on the same directory, as another process would have. */
const cliStore = (): QueueStore => new QueueStore(s.dir.path);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('queue administration against a running scheduler', () => {
  it('flush makes deferred mail due at once (the back-off is a minute)', async () => {
    s = await setup({ minimalBackoffTime: 60_000, maximalBackoffTime: 60_000 });
    let up = false;
    s.transport.decide = () => (up ? {} : { status: 'deferred' });
    await s.queue.start();
    const i = input(s.queue);
    await s.queue.enqueue(i);
    await s.transport.until(() => s.lines.some((l) => l.includes('status=deferred')), 'the deferral');
    up = true;
    expect(await flushQueue(cliStore())).toEqual({ done: true, notified: true });
    await s.transport.until(() => s.lines.includes(`${i.id}: removed`), 'delivery after flush');
  });

  it('hold keeps a message from delivery even on flush; release delivers it; list marks it with !', async () => {
    s = await setup({ minimalBackoffTime: 60_000, maximalBackoffTime: 60_000 });
    let up = false;
    s.transport.decide = () => (up ? {} : { status: 'deferred', diagnostic: 'connect to mx.example.org[192.0.2.1]:25: Connection refused' });
    await s.queue.start();
    const i = input(s.queue, { recipients: [rcpt('b@example.org')] });
    await s.queue.enqueue(i);
    await s.transport.until(() => s.lines.some((l) => l.includes('status=deferred')), 'the deferral');
    expect(await holdMessage(cliStore(), i.id)).toEqual({ done: true, notified: true });
    up = true;
    await flushQueue(cliStore());
    await sleep(150);
    expect(s.transport.deliveries).toHaveLength(1);
    const listing = formatListing(await listEntries(cliStore()));
    expect(listing).toMatch(new RegExp(`^${i.id}! +\\d+ \\w{3} \\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d  a@example.com$`, 'm'));
    expect(listing).toContain('(connect to mx.example.org[192.0.2.1]:25: Connection refused)\n');
    expect(listing).toMatch(/-- 1 Kbytes in 1 Request\.\n$/);
    const shown = await formatMessage(cliStore(), (await readEntry(cliStore(), i.id))!);
    expect(shown).toContain('hold: held by the administrator');
    expect(shown).toContain('recipient: b@example.org (pending, attempts 1, next attempt');
    expect(shown).toContain('Subject: hello\n');
    expect(await releaseMessage(cliStore(), i.id)).toEqual({ done: true, notified: true });
    await s.transport.until(() => s.lines.includes(`${i.id}: removed`), 'delivery after release');
    expect(await releaseMessage(cliStore(), i.id)).toEqual({ done: false, notified: false });
  });

  it('delete removes a queued message for good; the scheduler forgets it', async () => {
    s = await setup({ minimalBackoffTime: 60_000, maximalBackoffTime: 60_000 });
    s.transport.decide = () => ({ status: 'deferred' });
    await s.queue.start();
    const i = input(s.queue);
    await s.queue.enqueue(i);
    await s.transport.until(() => s.lines.some((l) => l.includes('status=deferred')), 'the deferral');
    expect(await deleteMessage(cliStore(), i.id)).toEqual({ done: true, notified: true });
    s.transport.decide = () => ({});
    await flushQueue(cliStore());
    await sleep(150);
    expect(s.transport.deliveries).toHaveLength(1);
    expect(s.queue.size).toBe(0);
    for (const d of ['messages', 'state', 'hold']) expect(await readdir(join(s.dir.path, 'queue', d))).toEqual([]);
    expect(await deleteMessage(cliStore(), i.id)).toEqual({ done: false, notified: false });
    expect(formatListing(await listEntries(cliStore()))).toBe('Mail queue is empty\n');
  });

  it('works without a running scheduler: the files change, and the next start reads them', async () => {
    s = await setup();
    const held = input(s.queue);
    const gone = input(s.queue);
    await s.queue.enqueue(held);
    await s.queue.enqueue(gone);
    expect(await holdMessage(cliStore(), held.id)).toEqual({ done: true, notified: false });
    expect(await deleteMessage(cliStore(), gone.id)).toEqual({ done: true, notified: false });
    expect(await flushQueue(cliStore())).toEqual({ done: true, notified: false });
    await s.queue.start();
    await sleep(150);
    expect(s.transport.deliveries).toEqual([]);
    expect(s.queue.size).toBe(1);
  });

  it('refuses a second scheduler on the same queue', async () => {
    s = await setup();
    await s.queue.start();
    const first = s.queue;
    const second = s.reopen();
    await expect(second.start()).rejects.toThrow(/another mailgate process is running this queue/);
    s.queue = first;
  });
});
