/**
 * The message streamed to one child while the MTA is still sending it. milter-manager streams header,
 * end of headers and body to its first child as they arrive; the chain does so for every child up to
 * the first that may edit the message (ChainSession), since none of them can see an earlier child's
 * change. The MTA's events are queued here and sent to the child one at a time, each after the child
 * answered the one before (commands are never pipelined to a child: libmilter silently drops those
 * that follow a mid-message verdict), so the child's round trips overlap the MTA's instead of all
 * coming at end of message.
 */
import type { Header } from '../mail/header-list.js';

export type FeedStep =
  | { readonly kind: 'header'; readonly header: Header }
  | { readonly kind: 'endOfHeaders' }
  | { readonly kind: 'body'; readonly chunk: Buffer };

export const END_OF_HEADERS: FeedStep = Object.freeze({ kind: 'endOfHeaders' });

/** Idle feeds given a step during this turn of the event loop, started together in its check phase. */
let toStart: MessageFeed<unknown>[] = [];

function startQueued(): void {
  const feeds = toStart;
  toStart = [];
  for (const f of feeds) f.start();
}

/**
 * One child's queue. `send` performs one step and resolves to an outcome when that step ended the
 * child's part in the message (a verdict, an accept, a condition stopping it), else undefined.
 *
 * An idle child's next command waits for the check phase of this turn of the event loop (one
 * setImmediate for every feed of the process): the MTA's answer, written as its event is handled,
 * goes out first, so the children's writes do not lengthen the MTA's round trip, the critical path.
 * A child already at work takes its next step as soon as it answers.
 */
export class MessageFeed<O> {
  private queue: (FeedStep | undefined)[] = [];
  private head = 0;
  /** Body bytes queued and not yet sent (what the feed holds beyond the message's own copy). */
  private queuedBytes = 0;
  private draining: Promise<void> | undefined;
  private stopped = false;
  private ended: O | undefined;
  private waiter: { limit: number; resolve: () => void } | undefined;
  /** In `toStart`. */
  private starting = false;

  constructor(
    private readonly send: (step: FeedStep) => Promise<O | undefined>,
    /** The outcome when `send` throws (it should not: a failed command is the child's fallback). */
    private readonly failed: (err: unknown) => O,
  ) {}

  /** How the child's part ended during the stream, if it did. */
  get outcome(): O | undefined {
    return this.ended;
  }

  /**
   * Queues one step. The same step object may go to every child (it is never changed); a body
   * chunk is kept as it is until sent (the MTA side never reuses it; MessageBody keeps it too).
   */
  push(step: FeedStep): void {
    if (this.stopped || this.ended !== undefined) return;
    if (step.kind === 'body') this.queuedBytes += step.chunk.length;
    this.queue.push(step);
    if (this.draining === undefined && !this.starting) {
      this.starting = true;
      if (toStart.push(this as MessageFeed<unknown>) === 1) setImmediate(startQueued);
    }
  }

  /**
   * Resolves once at most `limit` body bytes wait in the queue; undefined when that is already so
   * (no promise on the common path). Bounds what a slow child holds in memory once the message's own
   * copy has gone to a temporary file.
   */
  below(limit: number): Promise<void> | undefined {
    if (this.queuedBytes <= limit) return undefined;
    return new Promise((resolve) => {
      const previous = this.waiter;
      this.waiter = {
        limit,
        resolve: () => {
          previous?.resolve();
          resolve();
        },
      };
    });
  }

  /** No more steps are sent: what is queued is dropped, the one in flight (if any) finishes. */
  stop(): void {
    this.stopped = true;
    this.drop();
  }

  /** Sends what is queued now, one step after another, unless that is already under way. */
  start(): void {
    this.starting = false;
    if (this.draining === undefined && this.head < this.queue.length) this.draining = this.drain();
  }

  /**
   * Sends what is queued and resolves when no step is in flight or queued (after stop(), once the one
   * in flight is answered), with the outcome if the child's part ended.
   */
  async settled(): Promise<O | undefined> {
    for (;;) {
      this.start();
      if (this.draining === undefined) return this.ended;
      await this.draining;
    }
  }

  private async drain(): Promise<void> {
    try {
      while (this.head < this.queue.length) {
        const step = this.queue[this.head]!;
        // The slot is let go as it is taken: a child that never quite catches up (a spilled body) must not
        // keep every chunk it was already sent.
        this.queue[this.head] = undefined;
        this.head++;
        if (step.kind === 'body') this.taken(step.chunk.length);
        let ended: O | undefined;
        try {
          ended = await this.send(step);
        } catch (err) {
          ended = this.failed(err);
        }
        if (ended !== undefined) {
          this.ended = ended;
          this.drop();
        }
      }
    } finally {
      this.drop();
      this.draining = undefined;
    }
  }

  private drop(): void {
    this.queue.length = 0;
    this.head = 0;
    this.taken(this.queuedBytes);
  }

  /** Body bytes left the queue (sent, or dropped). */
  private taken(bytes: number): void {
    this.queuedBytes -= bytes;
    const w = this.waiter;
    if (w && this.queuedBytes <= w.limit) {
      this.waiter = undefined;
      w.resolve();
    }
  }
}
