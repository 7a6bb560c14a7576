/** Latency statistics and plain-text tables for the benchmarks. */

export interface Summary {
  readonly sessions: number;
  readonly elapsedMs: number;
  readonly perSec: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(latenciesMs: Float64Array, elapsedMs: number): Summary {
  const sorted = Float64Array.from(latenciesMs).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    sessions: sorted.length,
    elapsedMs,
    perSec: (sorted.length * 1000) / elapsedMs,
    meanMs: sum / sorted.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length > 0 ? sorted[sorted.length - 1]! : NaN,
  };
}

/** A number with `digits` decimals, or an integer with thousands separators when digits is 0. */
export function fmt(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return '-';
  if (digits === 0) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(digits);
}

/** Columns padded to their widest cell; the first column left-aligned, the others right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(headers), rule, ...rows.map(line)].join('\n');
}
