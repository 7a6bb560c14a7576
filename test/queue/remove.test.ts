/**
 * Removing a message: the scheduler's removal of a delivered one unlinks the files it knows of (the state
 * file once written, a hold marker once set) and does not fsync the directory (as Postfix's qmgr); queue
 * delete removes every file and makes the removal durable.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { input, rcpt, setup, type Setup } from './helpers.js';

let s: Setup;
afterEach(async () => s.close());

describe("the scheduler's removal of a delivered message", () => {
  it('removes the state file of a message that was deferred before it was delivered', async () => {
    s = await setup();
    let tries = 0;
    s.transport.decide = () => (++tries === 1 ? { status: 'deferred' } : {});
    await s.queue.start();
    const i = input(s.queue, { recipients: [rcpt('slow@example.net')] });
    await s.queue.enqueue(i);
    await s.transport.until(() => s.lines.includes(`${i.id}: removed`), 'removal');
    const q = join(s.dir.path, 'queue');
    for (const d of ['messages', 'state', 'hold']) expect(await readdir(join(q, d))).toEqual([]);
  });

  it('removes everything, durably, on queue delete (no hint)', async () => {
    s = await setup();
    const i = input(s.queue, { hold: 'q' });
    await s.queue.enqueue(i);
    const q = join(s.dir.path, 'queue');
    await writeFile(join(q, 'state', i.id), '{}');
    const before = s.queue.store.commitStats.fsyncs;
    expect(await s.queue.store.remove(i.id)).toBe(true);
    for (const d of ['messages', 'state', 'hold']) expect(await readdir(join(q, d))).toEqual([]);
    expect(s.queue.store.commitStats.fsyncs).toBe(before + 1);
    await writeFile(join(q, 'state', 'ZZZZZZZZZZZZZZ'), '{}');
    expect(await s.queue.store.remove('ZZZZZZZZZZZZZZ', { state: false, hold: false })).toBe(false);
    expect(s.queue.store.commitStats.fsyncs).toBe(before + 1); // the scheduler's removal: no directory fsync
    expect(await readdir(join(q, 'state'))).toEqual(['ZZZZZZZZZZZZZZ']); // not known: left for the recovery
  });
});
