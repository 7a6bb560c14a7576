/**
 * Top self-time functions and lines of a V8 .cpuprofile (from `bench:milter --profile DIR` or
 * node --cpu-prof), with compiled .js positions mapped back to the .ts sources through the source maps.
 * Usage: npm run bench:profile-top -- FILE.cpuprofile [top N (default 25)]
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, table } from './stats.js';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly hitCount?: number;
  readonly children?: readonly number[];
  readonly positionTicks?: readonly { readonly line: number; readonly ticks: number }[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

const maps = new Map<string, SourceMap | undefined>();

function sourceMap(url: string): SourceMap | undefined {
  if (maps.has(url)) return maps.get(url);
  let map: SourceMap | undefined;
  try {
    const file = fileURLToPath(url) + '.map';
    if (existsSync(file)) map = new SourceMap(JSON.parse(readFileSync(file, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
  } catch {
    map = undefined;
  }
  maps.set(url, map);
  return map;
}

/** file:line for a 1-based line (and 0-based column) of a script, mapped to the TypeScript source when possible. */
function where(url: string, line1: number, col0 = 0): string {
  if (url === '') return '';
  if (url.startsWith('file://')) {
    const map = sourceMap(url);
    const entry = map?.findEntry(line1 - 1, col0) as { originalSource?: string; originalLine?: number } | undefined;
    if (entry?.originalSource !== undefined && entry.originalLine !== undefined) {
      const src = entry.originalSource.startsWith('file://')
        ? fileURLToPath(entry.originalSource)
        : resolve(dirname(fileURLToPath(url)), entry.originalSource);
      return `${relative(process.cwd(), src)}:${entry.originalLine + 1}`;
    }
    return `${relative(process.cwd(), fileURLToPath(url))}:${line1}`;
  }
  return `${url}:${line1}`;
}

function main(): void {
  const [file, topArg] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: profile-top FILE.cpuprofile [N]');
  const top = Number(topArg ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // Self time per node: each sample owns the interval up to the next sample.
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const us = deltas[i + 1] ?? (profile.endTime - profile.startTime) / Math.max(1, samples.length);
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + us);
  }
  let total = 0;
  for (const v of selfUs.values()) total += v;
  // Inclusive time per node (self + descendants), then per function (counted once per stack).
  const inclusive = new Map<number, number>();
  const incl = (id: number): number => {
    const n = byId.get(id)!;
    let t = selfUs.get(id) ?? 0;
    for (const c of n.children ?? []) t += incl(c);
    inclusive.set(id, t);
    return t;
  };
  const root = profile.nodes[0];
  if (root) incl(root.id);
  const fnKey = (cf: CallFrame) => `${cf.functionName}|${cf.url}|${cf.lineNumber}|${cf.columnNumber}`;
  const inclusiveByFn = new Map<string, number>();
  const walk = (id: number, onStack: Set<string>): void => {
    const n = byId.get(id)!;
    const key = fnKey(n.callFrame);
    const fresh = !onStack.has(key);
    if (fresh) {
      inclusiveByFn.set(key, (inclusiveByFn.get(key) ?? 0) + (inclusive.get(id) ?? 0));
      onStack.add(key);
    }
    for (const c of n.children ?? []) walk(c, onStack);
    if (fresh) onStack.delete(key);
  };
  if (root) walk(root.id, new Set());
  const idle = [...selfUs].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((k, [, v]) => k + v, 0);
  const busy = total - idle;

  const fns = new Map<string, { name: string; loc: string; us: number; lines: Map<number, number>; url: string; key: string }>();
  const files = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const cf = n.callFrame;
    if (cf.functionName === '(idle)') continue;
    const key = fnKey(cf);
    let f = fns.get(key);
    if (!f) {
      const loc = cf.url === '' ? '' : where(cf.url, cf.lineNumber + 1, cf.columnNumber);
      f = { name: cf.functionName || '(anonymous)', loc, us: 0, lines: new Map(), url: cf.url, key };
      fns.set(key, f);
    }
    f.us += us;
    const hits = n.hitCount ?? 0;
    for (const t of n.positionTicks ?? []) f.lines.set(t.line, (f.lines.get(t.line) ?? 0) + (hits > 0 ? (t.ticks / hits) * us : 0));
    const fileKey = cf.url === '' ? cf.functionName : (where(cf.url, 1).split(':')[0] ?? cf.url);
    files.set(fileKey, (files.get(fileKey) ?? 0) + us);
  }
  const pct = (us: number) => `${fmt((100 * us) / busy, 1)}%`;
  console.log(`${file}: ${fmt(total / 1000, 0)} ms profiled, ${fmt(busy / 1000, 0)} ms busy (${fmt((100 * busy) / total, 0)}%)\n`);
  const sorted = [...fns.values()].sort((a, b) => b.us - a.us).slice(0, top);
  console.log(
    table(
      ['self ms', 'of busy', 'incl. ms', 'function', 'defined at', 'hottest lines'],
      sorted.map((f) => [
        fmt(f.us / 1000, 1),
        pct(f.us),
        fmt((inclusiveByFn.get(f.key) ?? 0) / 1000, 1),
        f.name,
        f.loc,
        [...f.lines]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 3)
          .map(([line, us]) => `${(where(f.url, line).split(':').pop() ?? line)} (${pct(us)})`)
          .join(', '),
      ]),
    ),
  );
  console.log('');
  const project = [...fns.values()]
    .filter((f) => f.loc.startsWith('src/'))
    .map((f) => ({ f, us: inclusiveByFn.get(f.key) ?? 0 }))
    .sort((a, b) => b.us - a.us)
    .slice(0, top);
  console.log(
    table(
      ['incl. ms', 'of busy', 'project function (inclusive)', 'defined at'],
      project.map(({ f, us }) => [fmt(us / 1000, 1), pct(us), f.name, f.loc]),
    ),
  );
  console.log('');
  const byFile = [...files].sort((a, b) => b[1] - a[1]).slice(0, top);
  console.log(table(['self ms', 'of busy', 'file / category'], byFile.map(([f, us]) => [fmt(us / 1000, 1), pct(us), f])));
}

main();
