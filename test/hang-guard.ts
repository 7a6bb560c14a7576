/**
 * Tests assert why something ended (its phase, its error, its log line), never how fast: a loaded CI machine
 * must not fail them, and speed is measured by the benchmarks (npm run bench:*). This bound only catches a
 * hang, or a timer that came from the wrong setting: ten times the timeout under test, never under 5 s.
 */
import { expect } from 'vitest';

export function hangGuard(timeoutMs: number): () => void {
  const limitMs = Math.max(10 * timeoutMs, 5_000);
  const started = performance.now();
  return () => {
    const ms = Math.round(performance.now() - started);
    expect(ms, `took ${ms} ms against a ${timeoutMs} ms timeout: a hang, or the wrong timer`).toBeLessThan(limitMs);
  };
}
