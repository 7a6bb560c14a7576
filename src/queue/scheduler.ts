/**
 * The scheduler (Postfix's qmgr): keeps every queued message's state in memory, hands due recipients to
 * the Transport, records each result durably, retries with back-off, bounces what failed or expired,
 * sends delay warnings and success notices, and removes finished messages.
 *
 * As qmgr, it splits a message by destination (the recipient's domain): one Transport.deliver per
 * (message, domain) with the message's due recipients for that domain. Deliveries in flight are capped
 * in total (maxDeliveries, Postfix's default_process_limit 100) and per destination
 * (destinationConcurrencyLimit, 20), so a slow destination holds at most its share of the slots and
 * mail for the others keeps moving; nothing waits on a delivery except that delivery's own recipients.
 *
 * New mail is handed over at once; deferred mail is looked at every queueRunDelay (a recipient due
 * between two runs waits for the next, as with Postfix); flush() makes everything due now.
 *
 * Ready messages wait in one queue per destination (ready-queues.ts): a destination at its limit is
 * skipped without looking at its backlog. The scheduler never throws into its callers (the SMTP server's
 * enqueue, a timer, a promise chain): a bug in a scheduling pass is logged and the next pass goes on.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Logger } from '../mail/logger.js';
import type { QueuedRecipient } from '../store/spool.js';
import type { RecipientResult, Transport } from '../store/transport.js';
import { backoffDelay, type QueueTiming } from './backoff.js';
import { ByteBudget, bufferStream } from './first-bytes.js';
import { BOUNCE_SIZE_LIMIT, composeDsn, headerSection, type DsnKind, type DsnRecipient } from './dsn.js';
import { expiredLine, noticeLine, removedLine, toLine } from './log-lines.js';
import type { Envelope } from './queue-file.js';
import { ReadyQueues } from './ready-queues.js';
import { initialState, type MessageState, type RecipientState } from './state.js';
import type { QueueStore, StoredMessage } from './store.js';

export interface SchedulerOptions extends QueueTiming {
  readonly hostname: string;
  readonly transport: Transport;
  readonly logger: Logger;
  readonly maxDeliveries: number;
  readonly destinationConcurrencyLimit: number;
  /** A delivery not finished after this long is recorded as deferred and its slot freed (ms). */
  readonly deliveryTimeout: number;
  readonly now: () => number;
  /** Enqueues a DSN (the queue's own enqueue: the notice is durable before the recipients are marked). */
  readonly enqueueNotice: (envelope: Omit<Envelope, 'arrival'>, message: Buffer) => Promise<void>;
  readonly newId: () => string;
  /** Bytes of just-enqueued messages kept for their first delivery, at most (first-bytes.ts; 0: none). */
  readonly firstBytesBudget?: number;
}

interface Entry {
  readonly stored: StoredMessage;
  state: MessageState;
  held: boolean;
  deleted: boolean;
  /** Recipient indexes being delivered now. */
  readonly busy: Set<number>;
  /** Deliveries of this message in flight. */
  inFlight: number;
  /** Destinations whose ready queue holds this message now. */
  readonly readyIn: Set<string>;
  /** State updates of this message, one after the other. */
  chain: Promise<void>;
  /** The message's bytes until its first delivery attempt ends (first-bytes.ts), counted in the budget. */
  bytes: Buffer | undefined;
  /** A state file was written, or may be there (loaded at start): the removal unlinks it. */
  stateFile: boolean;
  /** A hold marker was set at some point: the removal unlinks it. */
  holdFile: boolean;
}

const domainOf = (address: string): string => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

function wants(r: QueuedRecipient, what: 'SUCCESS' | 'FAILURE' | 'DELAY'): boolean {
  if (r.notify === undefined) return what !== 'SUCCESS'; // RFC 3461 §4.1: default FAILURE (and DELAY, as Postfix)
  if (r.notify === 'NEVER') return false;
  return r.notify.includes(what);
}

/** Local deliveries are "delivered"; a hand-over to another MTA without DSN is "relayed" (RFC 3461 §6.2.3). */
const successAction = (relay: string | undefined): 'delivered' | 'relayed' =>
  relay === undefined || /^(maildir|local|lmtp|virtual)/i.test(relay) ? 'delivered' : 'relayed';

export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly ready: ReadyQueues<Entry>;
  private inFlight = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly idle = new Set<() => void>();
  private readonly firstBytes: ByteBudget;

  constructor(
    private readonly store: QueueStore,
    private readonly o: SchedulerOptions,
  ) {
    this.ready = new ReadyQueues<Entry>(o.destinationConcurrencyLimit);
    this.firstBytes = new ByteBudget(o.firstBytesBudget);
  }

  /** Bytes of messages held in memory for their first delivery (for tests). */
  get bytesInMemory(): number {
    return this.firstBytes.inUse;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Deliveries in flight now (for tests and `queue list`). */
  get deliveriesInFlight(): number {
    return this.inFlight;
  }

  /** Loads the messages found in the spool at start (after the store's recovery). */
  async load(ids: readonly string[]): Promise<void> {
    const held = await this.store.heldIds();
    for (const id of ids) {
      if (this.entries.has(id)) continue;
      let stored: StoredMessage | undefined;
      try {
        stored = await this.store.readMessage(id);
      } catch (err) {
        this.o.logger.error(`${id}: unreadable queue file, left in place: ${(err as Error).message}`);
        continue;
      }
      if (stored === undefined) continue;
      const state = (await this.store.readState(stored.envelope)) ?? initialState(stored.envelope);
      this.add(stored, state, held.has(id));
      // A state file may be there even when it was unusable: its removal must not be skipped.
      const e = this.entries.get(id);
      if (e !== undefined) e.stateFile = true;
    }
  }

  /**
   * A message now durable in the spool: deliver it at once unless held. `bytes`: the message as written
   * (after the envelope), kept for the first delivery when the budget allows.
   */
  add(stored: StoredMessage, state: MessageState = initialState(stored.envelope), held = false, bytes?: Buffer): void {
    const id = stored.envelope.id;
    if (this.entries.has(id)) return;
    const keep = bytes !== undefined && !held && bytes.length === stored.size && this.firstBytes.take(bytes);
    const entry: Entry = {
      stored,
      state,
      held,
      deleted: false,
      busy: new Set(),
      inFlight: 0,
      readyIn: new Set(),
      chain: Promise.resolve(),
      bytes: keep ? bytes : undefined,
      stateFile: false,
      holdFile: held,
    };
    this.entries.set(id, entry);
    // The message is on disk already: whatever goes wrong here, the caller must not be told otherwise
    // (a 451 would make the client send it again); the next queue run picks it up.
    this.guard(id, () => {
      this.makeReady(entry);
      this.tick();
    });
  }

  /** Runs `fn`, logging instead of throwing: a scheduling bug must not crash the MTA or refuse mail. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.logger.error(`${what}: scheduler error, continuing: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.scheduleRun();
    this.queueRun();
  }

  /**
   * Stops starting deliveries; resolves when those in flight are done and recorded, or after `graceMs`:
   * a delivery still running then is simply tried again at the next start (at least once, never lost).
   */
  async stop(graceMs = Infinity): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.idle.add(resolve);
        if (Number.isFinite(graceMs)) timer = setTimeout(resolve, graceMs);
      });
      clearTimeout(timer);
    }
    await Promise.all([...this.entries.values()].map((e) => e.chain));
  }

  /** Everything not held is due now (postqueue -f). */
  flush(): void {
    this.guard('queue flush', () => {
      const now = this.o.now();
      for (const e of this.entries.values()) {
        for (const r of e.state.recipients) if (r.status === 'pending' && r.next > now) r.next = now;
        this.makeReady(e);
      }
      this.tick();
    });
  }

  hold(id: string): void {
    const e = this.entries.get(id);
    if (e === undefined) return;
    e.held = true;
    e.holdFile = true;
    this.dropBytes(e);
  }

  /** Gives the message's in-memory bytes back: its next delivery reads the queue file. */
  private dropBytes(e: Entry): void {
    if (e.bytes === undefined) return;
    this.firstBytes.give(e.bytes);
    e.bytes = undefined;
  }

  release(id: string): void {
    const e = this.entries.get(id);
    if (e === undefined) return;
    e.held = false;
    this.guard(id, () => {
      const now = this.o.now();
      for (const r of e.state.recipients) if (r.status === 'pending' && r.next > now) r.next = now;
      this.makeReady(e);
      this.tick();
    });
  }

  /** Forgets a message removed from the spool (queue delete); a delivery in flight finishes unrecorded. */
  forget(id: string): void {
    const e = this.entries.get(id);
    if (e === undefined) return;
    e.deleted = true;
    this.entries.delete(id);
    this.dropBytes(e);
  }

  private scheduleRun(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.queueRun();
      this.scheduleRun();
    }, this.o.queueRunDelay);
    this.timer.unref();
  }

  /** A queue run: every message with a due recipient goes to the ready list. */
  /** Never throws: it runs from a timer, where an exception would end the process. */
  private queueRun(): void {
    this.guard('queue run', () => this.queueRunOnce());
  }

  private queueRunOnce(): void {
    const now = this.o.now();
    for (const e of this.entries.values()) {
      this.guard(e.stored.envelope.id, () => {
        this.makeReady(e, now);
        // A message whose recipients are all done but that is still here: its notice or removal failed
        // (disk full, say) after its last delivery; try again rather than keep it until a restart.
        if (e.inFlight === 0 && e.busy.size === 0 && e.state.recipients.every((r) => r.status !== 'pending')) {
          e.chain = e.chain
            .then(() => (e.deleted ? undefined : this.settle(e, now)))
            .catch((err: unknown) => this.o.logger.error(`${e.stored.envelope.id}: ${(err as Error).message}`));
        }
      });
    }
    this.tick();
  }

  /** Puts the message in the ready queue of each destination it has a due, idle recipient for. */
  private makeReady(e: Entry, now = this.o.now()): void {
    if (e.held || e.deleted) return;
    e.state.recipients.forEach((r, i) => {
      if (r.status !== 'pending' || r.next > now || e.busy.has(i)) return;
      const d = domainOf(e.stored.envelope.recipients[i]!.address);
      if (e.readyIn.has(d)) return;
      e.readyIn.add(d);
      this.ready.push(d, e);
    });
  }

  /** The message's due, idle recipients for one destination. */
  private dueFor(e: Entry, domain: string, now: number): number[] {
    const idx: number[] = [];
    e.state.recipients.forEach((r, i) => {
      if (r.status !== 'pending' || r.next > now || e.busy.has(i)) return;
      if (domainOf(e.stored.envelope.recipients[i]!.address) === domain) idx.push(i);
    });
    return idx;
  }

  /**
   * Starts every delivery the caps allow, destinations in turn, each one's oldest ready message first.
   * Never throws (it runs from enqueue, timers and promise callbacks): an error is logged and the message
   * concerned waits for the next queue run.
   */
  private tick(): void {
    if (!this.running) return;
    this.guard('scheduling pass', () => {
      const now = this.o.now();
      while (this.inFlight < this.o.maxDeliveries) {
        const next = this.ready.take();
        if (next === undefined) break;
        const [domain, e] = next;
        e.readyIn.delete(domain);
        if (e.held || e.deleted) continue;
        const idx = this.dueFor(e, domain, now);
        if (idx.length > 0) this.startDelivery(e, domain, idx);
      }
    });
  }

  private startDelivery(e: Entry, domain: string, idx: number[]): void {
    const env = e.stored.envelope;
    const path = this.store.layout.message(env.id);
    const start = e.stored.bodyOffset;
    const bytes = e.bytes;
    const request = {
      queueId: env.id,
      sender: env.sender,
      recipients: idx.map((i) => env.recipients[i]!),
      ...(env.envid !== undefined ? { envid: env.envid } : {}),
      ...(env.ret !== undefined ? { ret: env.ret } : {}),
      arrival: env.arrival,
      size: e.stored.size,
      openMessage: () => (bytes !== undefined ? bufferStream(bytes) : createReadStream(path, { start })),
    };
    // Counted only once nothing above can throw: a slot taken and never given back would wedge the queue.
    this.inFlight += 1;
    this.ready.started(domain);
    e.inFlight += 1;
    for (const i of idx) e.busy.add(i);
    let settled = false;
    let watchdog: NodeJS.Timeout | undefined = undefined;
    const done = (results: RecipientResult[]): void => {
      // Once only: a delivery that outlived deliveryTimeout was recorded as deferred; its late result is dropped.
      if (settled) return;
      settled = true;
      if (watchdog !== undefined) clearTimeout(watchdog);
      this.inFlight -= 1;
      this.ready.finished(domain);
      e.inFlight -= 1;
      e.chain = e.chain
        .then(() => this.record(e, idx, results))
        .catch((err: unknown) => this.o.logger.error(`${env.id}: could not record delivery results: ${(err as Error).message}`))
        .finally(() => {
          for (const i of idx) e.busy.delete(i);
          // The first attempt is over: a retry reads the file (a deferred message must not hold memory).
          if (e.inFlight === 0) this.dropBytes(e);
          // Deferred recipients wait for a later queue run; anything else due goes now.
          this.guard(env.id, () => this.makeReady(e));
          this.tick();
          if (this.inFlight === 0) {
            for (const f of [...this.idle]) {
              this.idle.delete(f);
              f();
            }
          }
        });
    };
    let p: Promise<RecipientResult[]>;
    try {
      p = this.o.transport.deliver(request);
    } catch (err) {
      p = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const deferAll = (why: string): RecipientResult[] =>
      request.recipients.map((r) => ({ address: r.address, status: 'deferred', enhanced: '4.3.0', diagnostic: why }));
    p.then(done, (err: unknown) => done(deferAll(`delivery failed: ${(err as Error).message ?? String(err)}`)));
    // A transport that never answers must not hold its slots for ever: the queue would wedge.
    watchdog = setTimeout(() => done(deferAll(`delivery timed out after ${this.o.deliveryTimeout / 1000} s`)), this.o.deliveryTimeout);
    watchdog.unref();
  }

  /** Applies one delivery's results, sends what notices are owed, writes the state or removes the message. */
  private async record(e: Entry, idx: number[], results: RecipientResult[]): Promise<void> {
    const env = e.stored.envelope;
    const now = this.o.now();
    const lifetime = env.sender === '' ? this.o.bounceQueueLifetime : this.o.maximalQueueLifetime;
    const unused = [...results];
    let expired = false;
    for (const i of idx) {
      const rcpt = env.recipients[i]!;
      const k = unused.findIndex((r) => r.address === rcpt.address);
      const res: RecipientResult =
        k >= 0
          ? unused.splice(k, 1)[0]!
          : { address: rcpt.address, status: 'deferred', enhanced: '4.3.0', diagnostic: 'no result from the transport' };
      const st = e.state.recipients[i]!;
      st.attempts += 1;
      st.enhanced = res.enhanced;
      st.diagnostic = res.diagnostic;
      if (res.remoteReply !== undefined) st.remoteReply = res.remoteReply;
      else delete st.remoteReply;
      if (res.relay !== undefined) st.relay = res.relay;
      let logged: 'sent' | 'deferred' | 'bounced' = 'deferred';
      if (res.status === 'delivered') {
        st.status = 'delivered';
        // Handed to a next hop that does DSN, with this NOTIFY: its success notice is the one the sender
        // gets, not a "relayed" one of ours as well (RFC 3461 §6.2.3; Postfix sends none either).
        st.notified = res.dsnPassedOn === true || !(wants(rcpt, 'SUCCESS') && env.sender !== '');
        logged = 'sent';
      } else if (res.status === 'failed') {
        st.status = 'failed';
        st.notified = !(wants(rcpt, 'FAILURE') && env.sender !== '');
        logged = 'bounced';
      } else {
        st.next = now + backoffDelay(st.attempts, this.o);
        if (now - env.arrival >= lifetime) {
          st.status = 'failed';
          st.expired = true;
          st.notified = !(wants(rcpt, 'FAILURE') && env.sender !== '');
          expired = true;
        }
      }
      this.o.logger.info(
        toLine({
          id: env.id,
          address: rcpt.address,
          original: rcpt.original,
          relay: res.relay,
          delayMs: now - env.arrival,
          enhanced: res.enhanced,
          status: logged,
          diagnostic: res.diagnostic,
        }),
      );
    }
    if (expired) this.o.logger.info(expiredLine(env.id, env.sender));
    if (e.deleted) return;
    await this.settle(e, now, idx.length);
  }

  /**
   * Sends what notices are owed once no delivery of the message is in flight, then removes the message
   * when every recipient is done, else writes its state. `ownBusy`: recipients of the delivery being
   * recorded, still marked busy.
   */
  private async settle(e: Entry, now: number, ownBusy = 0): Promise<void> {
    const id = e.stored.envelope.id;
    // Not while another delivery of it is in flight or done but not yet recorded (its recipients are still
    // busy): the notice is sent once, with every recipient of the message that is owed one by then.
    if (e.inFlight === 0 && e.busy.size === ownBusy) await this.notify(e, now);
    if (e.deleted) return;
    if (e.state.recipients.every((r) => r.status !== 'pending') && e.inFlight === 0 && e.busy.size === ownBusy) {
      await this.store.remove(id, { state: e.stateFile, hold: e.holdFile });
      this.entries.delete(id);
      e.deleted = true;
      this.o.logger.info(removedLine(id));
      return;
    }
    e.stateFile = true; // set first: a write that fails half-way may still leave the file
    if (!(await this.store.writeState(id, e.state))) this.forget(id);
  }

  /** Sends the bounce, success notice and delay warning this message owes now, and marks them sent. */
  private async notify(e: Entry, now: number): Promise<void> {
    const env = e.stored.envelope;
    if (env.sender === '') return; // never a DSN to <> (RFC 3464 §2, RFC 5321 §4.5.5)
    const rs = e.state.recipients;
    const owed = (pred: (r: RecipientState) => boolean): number[] =>
      rs.flatMap((r, i) => (pred(r) && !r.notified ? [i] : []));
    const failed = owed((r) => r.status === 'failed');
    const delivered = owed((r) => r.status === 'delivered');
    if (failed.length > 0) await this.sendNotice(e, 'failure', failed, now);
    if (delivered.length > 0) await this.sendNotice(e, 'success', delivered, now);
    for (const i of [...failed, ...delivered]) rs[i]!.notified = true;
    if (this.o.delayWarningTime > 0 && !e.state.warned && now - env.arrival >= this.o.delayWarningTime) {
      const delayed = rs.flatMap((r, i) => (r.status === 'pending' && wants(env.recipients[i]!, 'DELAY') ? [i] : []));
      if (delayed.length > 0) {
        await this.sendNotice(e, 'delay', delayed, now);
        e.state.warned = true;
      }
    }
  }

  private async sendNotice(e: Entry, kind: DsnKind, idx: number[], now: number): Promise<void> {
    const env = e.stored.envelope;
    const recipients: DsnRecipient[] = idx.map((i) => {
      const q = env.recipients[i]!;
      const st = e.state.recipients[i]!;
      const action = kind === 'failure' ? 'failed' : kind === 'delay' ? 'delayed' : successAction(st.relay);
      return {
        address: q.address,
        original: q.original,
        ...(q.orcpt !== undefined ? { orcpt: q.orcpt } : {}),
        action,
        status: st.enhanced ?? (kind === 'success' ? '2.0.0' : '4.0.0'),
        ...(st.diagnostic !== undefined ? { diagnostic: st.expired ? `${st.diagnostic} (message too old)` : st.diagnostic } : {}),
        ...(st.remoteReply !== undefined ? { remoteReply: st.remoteReply } : {}),
        ...(st.relay !== undefined ? { relay: st.relay } : {}),
      };
    });
    // Postfix returns the whole message in a bounce unless RET=HDRS or it exceeds bounce_size_limit;
    // delay warnings and success notices carry the headers only.
    const returnFull = kind === 'failure' && env.ret !== 'HDRS' && e.stored.size <= BOUNCE_SIZE_LIMIT;
    const original = await this.readOriginal(e, returnFull ? e.stored.size : Math.min(e.stored.size, 1 << 20));
    const dsnId = this.o.newId();
    const lifetime = env.sender === '' ? this.o.bounceQueueLifetime : this.o.maximalQueueLifetime;
    const message = composeDsn({
      kind,
      hostname: this.o.hostname,
      dsnId,
      envelope: env,
      recipients,
      original: returnFull ? original : headerSection(original),
      returnFull,
      now: new Date(now),
      retryUntil: new Date(env.arrival + lifetime),
    });
    await this.o.enqueueNotice(
      { id: dsnId, sender: '', recipients: [{ address: env.sender, original: env.sender }], client: 'localhost' },
      message,
    );
    this.o.logger.info(noticeLine(env.id, kind, dsnId));
  }

  private async readOriginal(e: Entry, length: number): Promise<Buffer> {
    if (e.bytes !== undefined) return e.bytes.subarray(0, length);
    const fh = await open(this.store.layout.message(e.stored.envelope.id), 'r');
    try {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, e.stored.bodyOffset);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }
}
