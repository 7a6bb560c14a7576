import { afterEach, describe, expect, it } from 'vitest';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { decodeEnvelope } from '../../src/queue/queue-file.js';
import { input, MESSAGE, rcpt, setup, type Setup } from './helpers.js';

let s: Setup;
afterEach(async () => s.close());

describe('the spool', () => {
  it('writes envelope and message in one file of mode 0600 under <data_dir>/queue/messages before enqueue resolves', async () => {
    s = await setup();
    const i = input(s.queue, { recipients: [rcpt('b@example.org', { orcpt: 'rfc822;B@example.org', notify: ['SUCCESS'] })], ret: 'HDRS', envid: 'E1' });
    await s.queue.enqueue(i);
    const file = join(s.dir.path, 'queue', 'messages', i.id);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const buf = await readFile(file);
    const { envelope, bodyOffset } = decodeEnvelope(buf);
    expect(envelope).toMatchObject({ id: i.id, sender: 'a@example.com', ret: 'HDRS', envid: 'E1', client: i.client });
    expect(envelope.recipients).toEqual([{ address: 'b@example.org', original: 'b@example.org', orcpt: 'rfc822;B@example.org', notify: ['SUCCESS'] }]);
    expect(buf.subarray(bodyOffset).toString()).toBe(MESSAGE);
    expect(s.lines).toContain(`${i.id}: from=<a@example.com>, size=${MESSAGE.length}, nrcpt=1 (queue active)`);
  });

  it('leaves nothing behind and rejects when the message stream errors', async () => {
    s = await setup();
    const broken = new Readable({
      read() {
        this.push(Buffer.from('Subject: x\r\n'));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(s.queue.enqueue(input(s.queue, { message: broken }))).rejects.toThrow(/client went away/);
    for (const d of ['tmp', 'messages', 'state', 'hold']) expect(await readdir(join(s.dir.path, 'queue', d))).toEqual([]);
  });

  it('refuses an id that is already queued (link, not rename: nothing is overwritten)', async () => {
    s = await setup();
    const i = input(s.queue);
    await s.queue.enqueue(i);
    await expect(s.queue.enqueue({ ...input(s.queue), id: i.id })).rejects.toThrow(/EEXIST/);
  });

  it('removes temp files and orphan state/hold files at start, and loads the complete messages', async () => {
    s = await setup();
    const i = input(s.queue);
    await s.queue.enqueue(i); // not started: the message waits in the spool
    const q = join(s.dir.path, 'queue');
    await writeFile(join(q, 'tmp', 'ZZZZZZZZZZZZZZ.msg.1.1'), 'MAILGATE-QUEUE 1\n12\n{"id":');
    await writeFile(join(q, 'state', 'ZZZZZZZZZZZZZZ'), '{}');
    await writeFile(join(q, 'hold', 'ZZZZZZZZZZZZZZ'), 'x');
    await s.queue.start();
    await s.transport.until(() => s.transport.deliveries.length === 1, 'the delivery');
    expect(await readdir(join(q, 'tmp'))).toEqual([]);
    expect(await readdir(join(q, 'state'))).toEqual([]);
    expect(await readdir(join(q, 'hold'))).toEqual([]);
  });

  it('group-commits: concurrent enqueues share directory fsyncs', async () => {
    s = await setup();
    const n = 50;
    await Promise.all(Array.from({ length: n }, () => s.queue.enqueue(input(s.queue))));
    expect((await readdir(join(s.dir.path, 'queue', 'messages'))).length).toBe(n);
    expect(s.queue.commitStats.callers).toBe(n);
    expect(s.queue.commitStats.fsyncs).toBeLessThan(n);
  });

  it('puts a message with hold set by a filter on hold: queued, not delivered', async () => {
    s = await setup();
    await s.queue.start();
    const i = input(s.queue, { hold: 'quarantined by spam filter' });
    await s.queue.enqueue(i);
    expect(await readFile(join(s.dir.path, 'queue', 'hold', i.id), 'utf8')).toBe('quarantined by spam filter\n');
    expect(s.lines).toContain(`${i.id}: from=<a@example.com>, size=${MESSAGE.length}, nrcpt=1 (queue hold)`);
    expect((await stat(join(s.dir.path, 'queue', 'hold', i.id))).mode & 0o777).toBe(0o600);
    for (const d of ['', 'tmp', 'messages', 'state', 'hold', 'control']) {
      expect((await stat(join(s.dir.path, 'queue', d))).mode & 0o777, `queue/${d}`).toBe(0o700);
    }
    await new Promise((r) => setTimeout(r, 150));
    expect(s.transport.deliveries).toEqual([]);
  });
});
