/** MessageFeed: one child's queue of streamed steps, sent one at a time, in order. */
import { describe, expect, it } from 'vitest';
import { END_OF_HEADERS, MessageFeed, type FeedStep } from '../../src/chain/message-feed.js';

const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

function describeStep(s: FeedStep): string {
  return s.kind === 'header' ? `header:${s.header.name}` : s.kind === 'body' ? `body:${s.chunk.length}` : 'eoh';
}

describe('MessageFeed', () => {
  it('start() sends the queued steps in order, never two at once; steps queued meanwhile follow', async () => {
    const sent: string[] = [];
    let inFlight = 0;
    let most = 0;
    const feed = new MessageFeed<string>(
      async (s) => {
        inFlight++;
        most = Math.max(most, inFlight);
        sent.push(describeStep(s));
        await later(2);
        inFlight--;
        return undefined;
      },
      () => 'failed',
    );
    feed.push({ kind: 'header', header: { name: 'A', value: ' 1' } });
    expect(sent).toEqual([]);
    feed.start();
    expect(sent).toEqual(['header:A']);
    feed.push({ kind: 'header', header: { name: 'B', value: ' 2' } });
    feed.push(END_OF_HEADERS);
    feed.push({ kind: 'body', chunk: Buffer.alloc(3) });
    expect(await feed.settled()).toBeUndefined();
    expect(sent).toEqual(['header:A', 'header:B', 'eoh', 'body:3']);
    expect(most).toBe(1);
  });

  it('an outcome ends the feed: what was queued is dropped, later steps are not sent', async () => {
    const sent: string[] = [];
    const feed = new MessageFeed<string>(
      async (s) => (sent.push(describeStep(s)), s.kind === 'header' && s.header.name === 'Stop' ? 'ended' : undefined),
      () => 'failed',
    );
    feed.push({ kind: 'header', header: { name: 'Stop', value: '' } });
    feed.push({ kind: 'header', header: { name: 'Queued', value: '' } });
    expect(await feed.settled()).toBe('ended');
    feed.push({ kind: 'body', chunk: Buffer.alloc(1) });
    expect(await feed.settled()).toBe('ended');
    expect(feed.outcome).toBe('ended');
    expect(sent).toEqual(['header:Stop']);
  });

  it('stop(): queued steps are dropped, the one in flight is answered before settled() resolves', async () => {
    const events: string[] = [];
    const feed = new MessageFeed<string>(
      async (s) => {
        events.push(`send ${describeStep(s)}`);
        await later(10);
        events.push(`answer ${describeStep(s)}`);
        return undefined;
      },
      () => 'failed',
    );
    feed.push({ kind: 'header', header: { name: 'A', value: '' } });
    feed.push({ kind: 'header', header: { name: 'B', value: '' } });
    feed.start();
    feed.stop();
    await feed.settled();
    events.push('settled');
    expect(events).toEqual(['send header:A', 'answer header:A', 'settled']);
  });

  it('a send that throws gives the failure outcome', async () => {
    const feed = new MessageFeed<string>(
      () => Promise.reject(new Error('boom')),
      (err) => `failed: ${(err as Error).message}`,
    );
    feed.push(END_OF_HEADERS);
    expect(await feed.settled()).toBe('failed: boom');
  });

  it('below(): waits until the queued body bytes are down to the limit', async () => {
    const release: (() => void)[] = [];
    const feed = new MessageFeed<string>(
      (s) => (s.kind === 'body' ? new Promise<undefined>((r) => release.push(() => r(undefined))) : Promise.resolve(undefined)),
      () => 'failed',
    );
    for (let i = 0; i < 4; i++) feed.push({ kind: 'body', chunk: Buffer.alloc(100) });
    expect(feed.below(300)).toBeDefined();
    feed.start();
    // One chunk in flight, three (300 bytes) queued.
    expect(feed.below(300)).toBeUndefined();
    let resolved = false;
    const waiting = feed.below(100)!.then(() => (resolved = true));
    release.shift()!();
    await later(1);
    expect(resolved).toBe(false); // 200 bytes queued
    release.shift()!();
    await waiting;
    expect(resolved).toBe(true);
    feed.stop();
    release.splice(0).forEach((r) => r());
    await feed.settled();
  });

  it('lets go of each step once sent: a child that never quite catches up does not keep the body it was sent', async () => {
    let release: () => void = () => undefined;
    const feed = new MessageFeed<string>(
      (s) => (s.kind === 'body' && s.chunk.length === 2 ? new Promise((r) => (release = () => r(undefined))) : Promise.resolve(undefined)),
      () => 'failed',
    );
    for (let i = 0; i < 50; i++) feed.push({ kind: 'body', chunk: Buffer.alloc(1) });
    feed.push({ kind: 'body', chunk: Buffer.alloc(2) });
    feed.push({ kind: 'body', chunk: Buffer.alloc(1) });
    feed.start();
    await later(20);
    // 50 sent, one in flight, one queued: only the queued one is still held
    const held = (feed as unknown as { queue: unknown[] }).queue.filter((s) => s !== undefined);
    expect(held.length).toBe(1);
    release();
    expect(await feed.settled()).toBeUndefined();
  });
});
