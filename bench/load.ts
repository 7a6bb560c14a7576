/** Load drivers: N sessions one after another, or N sessions through a fixed number of workers. */

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
