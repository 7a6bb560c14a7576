/**
 * The [[milter]] timeouts for a built-in child: a remote child gets them from MilterClient, an
 * in-process one from here, so a filter stuck on a slow scanner or a bug costs its fallback
 * after reading_timeout (end_of_message_timeout at end of message), never a hung session.
 */
import type { Filter, FilterSession, SessionContext } from '../mail/filter.js';
import type { Timeouts } from '../config/timeouts.js';

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
  const s: Record<string, unknown> = {
    negotiate: (offer: Parameters<FilterSession['negotiate']>[0]) => bounded('negotiate', timeouts.reading, undefined, () => inner.negotiate(offer)),
  };
  // Only the stages the filter has, so that the chain sees the same shape.
  const stages: AnyStage[] = [...READING_STAGES, 'endOfMessage'];
  for (const stage of stages) {
    const method = inner[stage] as ((...args: unknown[]) => unknown) | undefined;
    if (typeof method !== 'function') continue;
    const seconds = stage === 'endOfMessage' ? timeouts.endOfMessage : timeouts.reading;
    s[stage] = (...args: unknown[]) => {
      const ctx = args[args.length - 1] as SessionContext;
      return bounded(stage, seconds, ctx, (c) => method.apply(inner, [...args.slice(0, -1), c]));
    };
  }
  if (inner.abort) s['abort'] = (ctx: SessionContext) => inner.abort!(ctx);
  if (inner.close) s['close'] = () => inner.close!();
  return s as unknown as FilterSession;
}

/**
 * Runs `call`; rejects after `seconds` unless it answers first. ctx.progress() restarts the clock.
 * An answer given at once (not a promise) is returned as it is: it cannot hang, so it needs no timer
 * and no promise, and most stages of most filters answer so (every header and body chunk).
 */
function bounded<T>(
  stage: string,
  seconds: number,
  ctx: SessionContext | undefined,
  call: (ctx: SessionContext | undefined) => T | Promise<T>,
): T | Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  let onTimeout: ((err: Error) => void) | undefined;
  const arm = () => {
    if (settled) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      settled = true;
      onTimeout?.(new StageTimeoutError(`no answer to ${stage} within ${seconds} s`));
    }, seconds * 1000);
  };
  const c: SessionContext | undefined =
    ctx === undefined
      ? undefined
      : {
          macros: ctx.macros,
          progress: () => {
            // After the answer (or the timeout) the stage is over: no timer, nothing to tell the MTA.
            if (settled) return Promise.resolve();
            arm();
            return ctx.progress();
          },
        };
  let result: T | Promise<T>;
  try {
    result = call(c);
  } catch (err) {
    settled = true;
    clearTimeout(timer);
    return Promise.reject(err as Error);
  }
  if (!isPromiseLike(result)) {
    settled = true;
    clearTimeout(timer); // a progress() during the call may have armed it
    return result;
  }
  const pending = result;
  return new Promise<T>((resolve, reject) => {
    onTimeout = reject;
    if (timer === undefined) arm();
    pending.then(resolve, reject).finally(() => {
      settled = true;
      clearTimeout(timer);
    });
  });
}

function isPromiseLike<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
