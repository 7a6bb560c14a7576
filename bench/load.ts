/**
 * Load drivers: N sessions one after another (back to back, or spaced out with an idle gap before each,
 * so the servers are cold as on a quiet mail server), or N sessions through a fixed number of workers.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface LoadResult {
  /** Per-session latency in ms, in completion order. */
  readonly latenciesMs: Float64Array;
  readonly elapsedMs: number;
}

export type SessionFn = () => Promise<void>;

export async function runSequential(sessions: number, session: SessionFn): Promise<LoadResult> {
  const latenciesMs = new Float64Array(sessions);
  const start = performance.now();
  for (let i = 0; i < sessions; i++) {
    const t = performance.now();
    await session();
    latenciesMs[i] = performance.now() - t;
  }
  return { latenciesMs, elapsedMs: performance.now() - start };
}

/**
 * One session at a time, each after `gapMs` of idle (every process waits: nothing runs between two
 * sessions), the way sessions reach a small mail server. Latency is the session's own; elapsedMs
 * counts the sessions only, not the gaps, so perSec is what back to back would be at that latency.
 */
export async function runSpaced(sessions: number, gapMs: number, session: SessionFn): Promise<LoadResult> {
  const latenciesMs = new Float64Array(sessions);
  let busy = 0;
  for (let i = 0; i < sessions; i++) {
    await sleep(gapMs);
    const t = performance.now();
    await session();
    latenciesMs[i] = performance.now() - t;
    busy += latenciesMs[i]!;
  }
  return { latenciesMs, elapsedMs: busy };
}

/** `concurrency` workers each run sessions back to back until `sessions` have been started. */
export async function runConcurrent(sessions: number, concurrency: number, session: SessionFn): Promise<LoadResult> {
  const latenciesMs = new Float64Array(sessions);
  let started = 0;
  let done = 0;
  const worker = async () => {
    while (started < sessions) {
      started++;
      const t = performance.now();
      await session();
      latenciesMs[done++] = performance.now() - t;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, sessions) }, worker));
  return { latenciesMs, elapsedMs: performance.now() - start };
}
