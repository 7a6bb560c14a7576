/**
 * The queue service: openQueue() builds the spool (Spool.enqueue, durable before it resolves), the
 * scheduler that delivers through a Transport, and the control socket that lets `mailgate queue`
 * reach a running scheduler. cli/start.ts calls it and hands the result to the SMTP server as its Spool.
 */
import type { Server } from 'node:net';
import type { Logger } from '../mail/logger.js';
import type { Spool, SpoolInput } from '../store/spool.js';
import type { Transport } from '../store/transport.js';
import { DEFAULT_TIMING, type QueueTiming } from './backoff.js';
import { listenControl, type ControlCommand } from './control.js';
import { queueIdGenerator } from './id.js';
import { fromLine } from './log-lines.js';
import type { Envelope } from './queue-file.js';
import { Scheduler } from './scheduler.js';
import { QueueStore } from './store.js';

export interface QueueOptions extends Partial<QueueTiming> {
  /** data_dir: the spool is <dataDir>/queue/. */
  readonly dataDir: string;
  /** myhostname: Reporting-MTA and MAILER-DAEMON's domain in DSNs. */
  readonly hostname: string;
  readonly transport: Transport;
  readonly logger: Logger;
  /** Deliveries in flight at most (Postfix's default_process_limit: 100). */
  readonly maxDeliveries?: number;
  /** Deliveries in flight per destination domain (default_destination_concurrency_limit: 20). */
  readonly destinationConcurrencyLimit?: number;
  /** A delivery not finished after this long (ms, default 1 h) is recorded as deferred, its slot freed. */
  readonly deliveryTimeout?: number;
  /** Share directory fsyncs between concurrent enqueues (default true; false for the benchmark's comparison). */
  readonly groupCommit?: boolean;
  /** Bytes of just-enqueued messages kept in memory for their first delivery (default 4 MiB; 0: none). */
  readonly firstBytesBudget?: number;
  /** The clock (tests). */
  readonly now?: () => number;
  /** Listen on the control socket (default true). */
  readonly control?: boolean;
}

export interface Queue extends Spool {
  /** Recovers the spool (removes crash leftovers, loads every message), listens for control, starts delivering. */
  start(): Promise<void>;
  /**
   * Stops delivering; resolves when deliveries in flight are done and recorded, or after `graceMs`
   * (default: no limit); what is still in flight then is delivered again at the next start. Enqueue
   * still works (the message waits in the spool for the next start).
   */
  stop(graceMs?: number): Promise<void>;
  /** Everything not on hold is due now. */
  flush(): void;
  /** The store (for `mailgate queue` and tests). */
  readonly store: QueueStore;
  /** Messages in the scheduler's memory. */
  readonly size: number;
  /** Messages enqueued, directory fsyncs done for them (group commit: fsyncs ≤ enqueues). */
  readonly commitStats: { readonly fsyncs: number; readonly callers: number };
}

export function openQueue(options: QueueOptions): Queue {
  const timing: QueueTiming = {
    minimalBackoffTime: options.minimalBackoffTime ?? DEFAULT_TIMING.minimalBackoffTime,
    maximalBackoffTime: options.maximalBackoffTime ?? DEFAULT_TIMING.maximalBackoffTime,
    maximalQueueLifetime: options.maximalQueueLifetime ?? DEFAULT_TIMING.maximalQueueLifetime,
    bounceQueueLifetime: options.bounceQueueLifetime ?? DEFAULT_TIMING.bounceQueueLifetime,
    delayWarningTime: options.delayWarningTime ?? DEFAULT_TIMING.delayWarningTime,
    queueRunDelay: options.queueRunDelay ?? DEFAULT_TIMING.queueRunDelay,
  };
  const now = options.now ?? Date.now;
  const store = new QueueStore(options.dataDir, options.groupCommit ?? true);
  const newId = queueIdGenerator(now);
  const log = options.logger;
  let dirs: Promise<void> | undefined;
  let started = false;
  let server: Server | undefined;

  const write = async (env: Envelope, body: SpoolInput['message'] | Buffer, hold?: string): Promise<void> => {
    dirs ??= store.ensureDirs();
    await dirs;
    const { stored, bytes } = await store.writeMessage(env, body, hold);
    // From here the message is on disk and accepted: nothing may turn that into a refusal (the client
    // would send it again). A scheduling failure is logged; the next queue run or start picks it up.
    try {
      log.info(fromLine(env.id, env.sender, stored.size, env.recipients.length, hold !== undefined ? 'hold' : 'active'));
      if (hold !== undefined) log.info(`${env.id}: hold: ${hold}`);
      // Before start() the message waits in the spool; start() loads it with the others.
      if (started) scheduler.add(stored, undefined, hold !== undefined, bytes);
    } catch (err) {
      log.error(`${env.id}: queued, but not handed to the scheduler: ${(err as Error).message}`);
    }
  };

  const scheduler: Scheduler = new Scheduler(store, {
    ...timing,
    hostname: options.hostname,
    transport: options.transport,
    logger: log,
    maxDeliveries: options.maxDeliveries ?? 100,
    ...(options.firstBytesBudget !== undefined ? { firstBytesBudget: options.firstBytesBudget } : {}),
    destinationConcurrencyLimit: options.destinationConcurrencyLimit ?? 20,
    deliveryTimeout: options.deliveryTimeout ?? 3_600_000,
    now,
    newId,
    enqueueNotice: (env, message) => write({ ...env, arrival: now() }, message),
  });

  const control = (c: ControlCommand): void => {
    if (c.op === 'flush') scheduler.flush();
    else if (c.op === 'hold') scheduler.hold(c.id);
    else if (c.op === 'release') scheduler.release(c.id);
    else {
      scheduler.forget(c.id);
      // A delivery that was in flight may have rewritten the state since: remove again (idempotent).
      store.remove(c.id).catch(() => undefined);
    }
    // postsuper's lines for the same acts.
    const what = { flush: 'queue flush requested', hold: 'placed on hold', release: 'released from hold', delete: 'removed' }[c.op];
    log.info(c.op === 'flush' ? what : `${c.id}: ${what}`);
  };

  return {
    store,
    get size() {
      return scheduler.size;
    },
    get commitStats() {
      return store.commitStats;
    },
    newId,
    async enqueue(input: SpoolInput): Promise<void> {
      if (input.recipients.length === 0) throw new Error('no recipients');
      const env: Envelope = {
        id: input.id,
        sender: input.sender,
        recipients: input.recipients.map((r) => ({
          address: r.address,
          original: r.original,
          ...(r.orcpt !== undefined ? { orcpt: r.orcpt } : {}),
          ...(r.notify !== undefined ? { notify: r.notify } : {}),
        })),
        ...(input.ret !== undefined ? { ret: input.ret } : {}),
        ...(input.envid !== undefined ? { envid: input.envid } : {}),
        client: input.client,
        arrival: now(),
      };
      await write(env, input.message, input.hold);
    },
    async start(): Promise<void> {
      if (started) return;
      await store.ensureDirs();
      // The socket first: it refuses a second scheduler before recovery could touch the first one's files.
      if (options.control !== false) server = await listenControl(store.layout.socket, control);
      const ids = await store.recover();
      dirs = Promise.resolve();
      started = true;
      await scheduler.load(ids);
      scheduler.start();
      log.info(`queue started: ${scheduler.size} message(s) in ${store.layout.root}`);
    },
    async stop(graceMs?: number): Promise<void> {
      started = false;
      const s = server;
      server = undefined;
      if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
      await scheduler.stop(graceMs);
      await store.close();
    },
    flush(): void {
      scheduler.flush();
    },
  };
}
