/**
 * The [[milter]] timeouts for a built-in child: a remote child gets them from MilterClient, an
 * in-process one from here, so a filter stuck on a slow scanner or a bug costs its fallback
 * after reading_timeout (end_of_message_timeout at end of message), never a hung session.
 */
import type { Filter, FilterSession, SessionContext } from '../mail/filter.js';
import type { Timeouts } from '../config/timeouts.js';
import { monotonicNow, unwatch, watch, type Expiring } from '../mail/deadlines.js';

export class StageTimeoutError extends Error {
  override readonly name = 'StageTimeoutError';
}

const READING_STAGES = ['connect', 'helo', 'mail', 'rcpt', 'data', 'header', 'endOfHeaders', 'body', 'unknown'] as const;

type AnyStage = (typeof READING_STAGES)[number] | 'endOfMessage';

export function withStageTimeouts(filter: Filter, timeouts: Pick<Timeouts, 'reading' | 'endOfMessage'>): Filter {
  const wrapped: Filter = {
    name: filter.name,
    open(): FilterSession | Promise<FilterSession> {
      const inner = filter.open();
      return isPromiseLike(inner) ? inner.then((s) => wrapSession(s, timeouts)) : wrapSession(inner, timeouts);
    },
  };
  if (filter.close) wrapped.close = () => filter.close!();
  return wrapped;
}

function wrapSession(inner: FilterSession, timeouts: Pick<Timeouts, 'reading' | 'endOfMessage'>): FilterSession {
  const guard = new StageGuard();
  const s: Record<string, unknown> = {
    negotiate: (offer: Parameters<FilterSession['negotiate']>[0]) => guard.run('negotiate', timeouts.reading, inner, inner.negotiate as (...a: unknown[]) => unknown, [offer]),
  };
  // Only the stages the filter has, so that the chain sees the same shape.
  const stages: AnyStage[] = [...READING_STAGES, 'endOfMessage'];
  for (const stage of stages) {
    const method = inner[stage] as ((...args: unknown[]) => unknown) | undefined;
    if (typeof method !== 'function') continue;
    const seconds = stage === 'endOfMessage' ? timeouts.endOfMessage : timeouts.reading;
    s[stage] = (...args: unknown[]) => {
      // The last argument is the context: the filter gets one whose progress() restarts the clock.
      args[args.length - 1] = guard.context(args[args.length - 1] as SessionContext);
      return guard.run(stage, seconds, inner, method, args);
    };
  }
  if (inner.abort) s['abort'] = (ctx: SessionContext) => inner.abort!(ctx);
  if (inner.close) s['close'] = () => inner.close!();
  return s as unknown as FilterSession;
}

/** One stage call under way: its deadline, and how to fail it. */
class StageCall implements Expiring {
  settled = false;
  deadline = 0;
  reject: ((err: Error) => void) | undefined;

  constructor(
    readonly stage: string,
    readonly seconds: number,
  ) {}

  /** Starts (or restarts) the clock. */
  arm(): void {
    if (this.settled) return;
    this.deadline = monotonicNow() + this.seconds * 1000;
    watch(this);
  }

  expire(): void {
    if (this.settled) return;
    this.settled = true;
    this.reject?.(new StageTimeoutError(`no answer to ${this.stage} within ${this.seconds} s`));
  }

  end(): void {
    this.settled = true;
    unwatch(this);
  }
}

/**
 * The timeouts of one session's stage calls, which come one at a time. This runs for every header
 * and body chunk of every built-in child, so it allocates little per call: the context given to the
 * filter is made once per context object the chain passes, and an answer given at once (not a
 * promise) is returned as it is, with no timer and no promise, since it cannot hang.
 */
class StageGuard {
  private current: StageCall | undefined;
  private outer: SessionContext | undefined;
  private inner: SessionContext | undefined;
  /** The call under way: a stage method is running right now (synchronously), with these. */
  private calling = false;
  private stage = '';
  private seconds = 0;

  context(ctx: SessionContext): SessionContext {
    if (ctx !== this.outer) {
      this.outer = ctx;
      this.inner = new GuardedContext(ctx, this);
    }
    return this.inner!;
  }

  /**
   * ctx.progress() from the filter: restarts the clock of the stage call under way, if any. The
   * context is the session's, not one call's (stage calls come one at a time): a filter that kept it
   * from an earlier stage and calls progress() later speaks for the stage running then.
   */
  progress(outer: SessionContext): Promise<void> {
    if (this.current === undefined && this.calling) this.current = new StageCall(this.stage, this.seconds);
    const run = this.current;
    // After the answer (or the timeout) the stage is over: no timer, nothing to tell the MTA.
    if (run === undefined || run.settled) return Promise.resolve();
    run.arm();
    return outer.progress();
  }

  /**
   * Runs `method` on `target`; rejects after `seconds` unless it answers first. A call under way is
   * noted in `stage`/`seconds` only; its StageCall is made when it needs a clock (a promise, or a
   * progress() during the call), so an answer given at once allocates nothing here.
   */
  run<T>(stage: string, seconds: number, target: unknown, method: (...a: unknown[]) => unknown, args: unknown[]): T | Promise<T> {
    this.current = undefined;
    this.stage = stage;
    this.seconds = seconds;
    this.calling = true;
    let result: T | Promise<T>;
    try {
      result = method.apply(target, args) as T | Promise<T>;
    } catch (err) {
      this.calling = false;
      this.endCurrent();
      return Promise.reject(err as Error);
    }
    this.calling = false;
    if (!isPromiseLike(result)) {
      this.endCurrent(); // a progress() during the call may have started a clock
      return result;
    }
    const run = this.current ?? (this.current = new StageCall(stage, seconds));
    const pending = result;
    return new Promise<T>((resolve, reject) => {
      run.reject = reject;
      if (run.deadline === 0) run.arm();
      pending.then(resolve, reject).finally(() => run.end());
    });
  }

  /** A method, not `this.current?.end()` inline: TypeScript takes `current` for still undefined after the call. */
  private endCurrent(): void {
    this.current?.end();
  }
}

/** The context a guarded filter sees (a class: an object literal with a getter is slow to make). */
class GuardedContext implements SessionContext {
  constructor(
    private readonly outer: SessionContext,
    private readonly guard: StageGuard,
  ) {}

  get macros(): SessionContext['macros'] {
    return this.outer.macros;
  }

  progress(): Promise<void> {
    return this.guard.progress(this.outer);
  }
}

function isPromiseLike<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
