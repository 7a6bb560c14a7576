/**
 * A just-enqueued message's first delivery streams the bytes written a moment before instead of opening the
 * queue file again (first-bytes.ts), within a total budget; a retry reads the file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ByteBudget, bufferStream } from '../../src/queue/first-bytes.js';
import { queueLayout } from '../../src/queue/layout.js';
import { decodeEnvelope } from '../../src/queue/queue-file.js';
import { Scheduler } from '../../src/queue/scheduler.js';
import type { QueueStore, StoredMessage } from '../../src/queue/store.js';
import type { DeliveryRequest, RecipientResult, Transport } from '../../src/store/transport.js';
import { memoryLogger } from './fake-transport.js';
import { input, MESSAGE, rcpt, setup, type Setup } from './helpers.js';

let s: Setup | undefined;
let scheduler: Scheduler | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
  await scheduler?.stop(0);
  scheduler = undefined;
});

const read = async (req: DeliveryRequest): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const c of req.openMessage()) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

describe('the first delivery from memory', () => {
  it('delivers the same bytes from memory as from the file (a message too big for one write included)', async () => {
    const big = `Subject: big\r\n\r\n${'y'.repeat(100)}\r\n`.repeat(1000); // > 64 KiB: read from the file
    for (const budget of [undefined, 0]) {
      s = await setup(budget === undefined ? {} : { firstBytesBudget: budget });
      await s.queue.start();
      const small = input(s.queue);
      const large = input(s.queue, { text: big });
      await s.queue.enqueue(small);
      await s.queue.enqueue(large);
      await s.transport.until(() => s!.transport.deliveries.length === 2, 'both deliveries');
      expect(s.transport.deliveries.find((d) => d.queueId === small.id)!.message).toBe(MESSAGE);
      expect(s.transport.deliveries.find((d) => d.queueId === large.id)!.message).toBe(big);
      await s.close();
      s = undefined;
    }
  });

  it('does not open the queue file for the first delivery (it works with the file gone), and does without a budget', async () => {
    for (const budget of [undefined, 0]) {
      s = await setup(budget === undefined ? {} : { firstBytesBudget: budget });
      const dir = s.dir.path;
      let got: string | Error | undefined;
      s.transport.deliver = async (req) => {
        await unlink(join(dir, 'queue', 'messages', req.queueId));
        got = await read(req).catch((e: Error) => e);
        return req.recipients.map((r) => ({ address: r.address, status: 'delivered', enhanced: '2.0.0', diagnostic: '250 ok' }));
      };
      await s.queue.start();
      await s.queue.enqueue(input(s.queue));
      await s.transport.until(() => got !== undefined, 'the delivery');
      if (budget === undefined) expect(got).toBe(MESSAGE);
      else expect((got as Error).message).toMatch(/ENOENT/);
      await s.close();
      s = undefined;
    }
  });

  it('reads a deferred message from the file on its retry', async () => {
    s = await setup();
    let tries = 0;
    s.transport.decide = () => (++tries === 1 ? { status: 'deferred' } : {});
    await s.queue.start();
    const i = input(s.queue);
    await s.queue.enqueue(i);
    await s.transport.until(() => s!.lines.some((l) => l.includes('status=deferred')), 'the deferral');
    // The file changed under the scheduler (same length): the retry must see the file, not the first bytes.
    const file = join(s.dir.path, 'queue', 'messages', i.id);
    const buf = await readFile(file);
    const { bodyOffset } = decodeEnvelope(buf);
    const changed = MESSAGE.replace('hello', 'HELLO');
    await writeFile(file, Buffer.concat([buf.subarray(0, bodyOffset), Buffer.from(changed)]));
    await s.transport.until(() => s!.lines.includes(`${i.id}: removed`), 'removal');
    expect(s.transport.deliveries.map((d) => d.message)).toEqual([MESSAGE, changed]);
  });

  it('holds at most the budget, and gives the bytes back when the first attempt ends', async () => {
    const store = { layout: queueLayout('/nonexistent'), writeState: async () => true, remove: async () => true, heldIds: async () => new Set<string>() } as unknown as QueueStore;
    const pending: { req: DeliveryRequest; resolve: (r: RecipientResult[]) => void }[] = [];
    const transport: Transport = {
      deliver: (req) => new Promise((resolve) => pending.push({ req, resolve })),
      close: async () => undefined,
    };
    const { logger } = memoryLogger();
    let n = 0;
    const s1 = new Scheduler(store, {
      hostname: 'mx.test',
      transport,
      logger,
      maxDeliveries: 100,
      destinationConcurrencyLimit: 20,
      deliveryTimeout: 3_600_000,
      now: Date.now,
      enqueueNotice: async () => undefined,
      newId: () => `N${String(++n).padStart(12, '0')}`,
      minimalBackoffTime: 3_600_000,
      maximalBackoffTime: 3_600_000,
      maximalQueueLifetime: 36_000_000,
      bounceQueueLifetime: 36_000_000,
      delayWarningTime: 0,
      queueRunDelay: 3_600_000,
      firstBytesBudget: 100,
    });
    scheduler = s1;
    s1.start();
    const body = Buffer.alloc(60, 'x');
    const message = (id: string): StoredMessage => ({
      envelope: { id, sender: 'a@example.com', recipients: [rcpt(`b@${id.toLowerCase()}.example`)], client: 'x', arrival: Date.now() },
      size: body.length,
      bodyOffset: 0,
    });
    s1.add(message('M00000000001'), undefined, false, body);
    s1.add(message('M00000000002'), undefined, false, body); // over the budget: read from the (missing) file
    expect(s1.bytesInMemory).toBe(60);
    expect(pending).toHaveLength(2);
    expect(await read(pending[0]!.req)).toBe(body.toString());
    await expect(read(pending[1]!.req)).rejects.toThrow(/ENOENT/);
    for (const p of pending) p.resolve(p.req.recipients.map((r) => ({ address: r.address, status: 'deferred', enhanced: '4.4.1', diagnostic: 'later' })));
    const deadline = Date.now() + 5000;
    while (s1.bytesInMemory !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(s1.bytesInMemory).toBe(0);
    // A held message keeps none.
    s1.add(message('M00000000003'), undefined, true, body);
    expect(s1.bytesInMemory).toBe(0);
  });

  it('counts the budget and streams one buffer', async () => {
    const b = new ByteBudget(10);
    expect(b.take(Buffer.alloc(6))).toBe(true);
    expect(b.take(Buffer.alloc(6))).toBe(false);
    b.give(Buffer.alloc(6));
    expect(b.inUse).toBe(0);
    const chunks: Buffer[] = [];
    for await (const c of bufferStream(Buffer.from('abc'))) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('abc');
    const none: Buffer[] = [];
    for await (const c of bufferStream(Buffer.alloc(0))) none.push(c as Buffer);
    expect(none).toEqual([]);
  });
});
