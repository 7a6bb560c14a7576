/**
 * npm run bench:manager — what the milter manager costs. The same Postfix-like session as
 * bench:milter (connect, helo, mail, 2 rcpt, 10 headers, 4 KiB body, eom), driven test-server style
 * from this process, against:
 *   (a) a pass-through child milter directly (MilterServer with a filter that answers continue to
 *       everything and adds nothing);
 *   (b) the manager (MilterServer serving ReloadableChain(Chain), as `mailgate manager` does) with
 *       1 pass-through child, a remote one (MilterClient → pass-through MilterServer);
 *   (c) the manager with 3 pass-through children.
 * Three processes, like Postfix → manager → milters: the load driver (here), the manager (forked
 * manager-proc.ts, serving (b) and (c) on two sockets) and the children (forked too, one
 * process with 3 pass-through MilterServers; (a) talks to the first of them).
 *
 * Children come in two kinds, each measured in its own run with its own table:
 *   libmilter   — a pass-through milter as libmilter and pymilter build it: no callbacks, so every
 *                 stage but end of message is negotiated away (what a real pass-through child costs);
 *   all-stages  — asks for every stage and answers continue to each (the worst case: 20 round trips
 *                 per child).
 * Options: `npm run bench:manager -- --help` (options.ts); --profile adds one profiled phase after the
 * measured ones (the table is not affected); read its files with
 * `npm run bench:profile-top -- DIR/manager-conc3.cpuprofile`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { MilterClient } from '../src/milter/client.js';
import { benchOptions, choice, count, dir } from './options.js';
import { runConcurrent, runSequential, type LoadResult } from './load.js';
import { BenchProcess } from './process.js';
import type { ChildKind } from './manager-proc.js';
import { PhaseProfiler } from './profiler.js';
import { fmt, summarize, table, type Summary } from './stats.js';
import { milterSession } from './workload.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The manager adds less than this per session per child, sequentially. */
const TARGET_ADDED_MS = 0.5;
/** Sessions/s through the manager with 3 children at 50 in flight, on 2 cores. */
const TARGET_RATE = 2000;

/** A forked bench process (manager-proc.js) answering the servers.ts IPC messages. */
/** The manager or the children process. */
function startProc(role: 'children' | 'manager', args: readonly string[]): Promise<BenchProcess> {
  return BenchProcess.start(role, join(HERE, 'manager-proc.js'), [role, ...args]);
}

/** workload.ts's session for a pass-through milter: the same commands, macros and bytes, no change expected. */
function passThroughSession(client: MilterClient): Promise<void> {
  return milterSession(client, 'no-change');
}

/** Busy CPU time of the whole machine so far, µs (all cores); the same measure as bench:milter. */
function machineBusyUs(): number {
  let ms = 0;
  for (const c of cpus()) ms += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  return ms * 1000;
}

interface Target {
  readonly key: 'a' | 'b' | 'c';
  readonly label: string;
  /** Children behind the manager; 0 for the direct reference. */
  readonly children: number;
  readonly client: MilterClient;
}

interface Measured extends LoadResult {
  readonly driverUs: number;
  readonly managerUs: number;
  readonly childrenUs: number;
  /** CPU used by other processes during the phase, µs, and the phase's wall time incl. settling. */
  readonly otherUs: number;
  readonly wallMs: number;
}

interface Row {
  readonly target: Target;
  readonly load: string;
  readonly summary: Summary;
  /** µs of CPU per session in each process. */
  readonly driverUs: number;
  readonly managerUs: number;
  readonly childrenUs: number;
  readonly otherPct: number;
}

interface Options {
  readonly seq: number;
  readonly conc: number;
  readonly par: number;
  readonly warmup: number;
  readonly profileDir: string | undefined;
  readonly kinds: readonly ChildKind[];
}

function options(): Options {
  const o = benchOptions('bench:manager', {
    children: choice(['libmilter', 'all-stages', 'both'], 'which kind of pass-through children, each in its own run', 'both'),
    seq: count(1000, 'sequential sessions per target'),
    conc: count(5000, 'concurrent sessions per target'),
    par: count(50, 'concurrent sessions in flight'),
    warmup: count(300, 'warm-up sessions before each phase'),
    profile: dir('after the measured phases, one more profiled (c)-concurrent phase writing V8 CPU profiles here'),
  });
  const kinds: readonly ChildKind[] = o.children === 'both' ? ['libmilter', 'all-stages'] : [o.children];
  return { seq: o.seq, conc: o.conc, par: o.par, warmup: o.warmup, profileDir: o.profile, kinds };
}

async function main(): Promise<void> {
  const opts = options();
  const headlines: string[] = [];
  for (const kind of opts.kinds) headlines.push(await runKind(kind, opts));
  console.log('');
  for (const h of headlines) console.log(h);
}

/** One full measurement with children of `kind`; prints its table and returns its headline. */
async function runKind(kind: ChildKind, opts: Options): Promise<string> {
  const cores = availableParallelism();
  const dir = await mkdtemp(join(tmpdir(), 'mailgate-bench-manager-'));
  const sock = (name: string) => join(dir, `${name}.sock`);
  const childSocks = [0, 1, 2].map((i) => sock(`child-${i}`));
  const started = performance.now();
  const rows: Row[] = [];

  const childrenProc = await startProc('children', [kind, ...childSocks]);
  let managerProc: BenchProcess | undefined;
  try {
    managerProc = await startProc('manager', [
      `${sock('manager-1')}=${childSocks[0]!}`,
      `${sock('manager-3')}=${childSocks.join(',')}`,
    ]);
    const manager = managerProc;
    const targets: Target[] = [
      { key: 'a', label: '(a) pass-through child, direct', children: 0, client: new MilterClient({ spec: `unix:${childSocks[0]!}` }) },
      { key: 'b', label: '(b) manager + 1 child', children: 1, client: new MilterClient({ spec: `unix:${sock('manager-1')}` }) },
      { key: 'c', label: '(c) manager + 3 children', children: 3, client: new MilterClient({ spec: `unix:${sock('manager-3')}` }) },
    ];

    const measure = async (t: Target, load: 'sequential' | 'concurrent', n: number): Promise<Measured> => {
      const session = () => passThroughSession(t.client);
      const [m0, c0] = await Promise.all([manager.cpuUs(), childrenProc.cpuUs()]);
      const d0 = process.cpuUsage();
      const machine0 = machineBusyUs();
      const wall0 = performance.now();
      const r = load === 'sequential' ? await runSequential(n, session) : await runConcurrent(n, opts.par, session);
      // The servers finish closing the last sessions (QUIT → close children) after the driver is done.
      await sleep(20);
      const [m1, c1] = await Promise.all([manager.cpuUs(), childrenProc.cpuUs()]);
      const d = process.cpuUsage(d0);
      const machine = machineBusyUs() - machine0;
      const wallMs = performance.now() - wall0;
      const driverUs = d.user + d.system;
      const ours = driverUs + (m1 - m0) + (c1 - c0);
      return { ...r, driverUs, managerUs: m1 - m0, childrenUs: c1 - c0, otherUs: Math.max(0, machine - ours), wallMs };
    };

    const record = (t: Target, load: string, parts: readonly Measured[]) => {
      const n = parts.reduce((k, p) => k + p.latenciesMs.length, 0);
      const lat = new Float64Array(n);
      let at = 0;
      for (const p of parts) {
        lat.set(p.latenciesMs, at);
        at += p.latenciesMs.length;
      }
      const sum = (f: (p: Measured) => number) => parts.reduce((k, p) => k + f(p), 0);
      const row: Row = {
        target: t,
        load,
        summary: summarize(lat, sum((p) => p.elapsedMs)),
        driverUs: sum((p) => p.driverUs) / n,
        managerUs: sum((p) => p.managerUs) / n,
        childrenUs: sum((p) => p.childrenUs) / n,
        otherPct: (100 * sum((p) => p.otherUs)) / (sum((p) => p.wallMs) * 1000 * cores),
      };
      rows.push(row);
      process.stderr.write(`  ${t.label} / ${load}: ${fmt(row.summary.perSec, 0)} sessions/s, p50 ${fmt(row.summary.p50Ms, 3)} ms\n`);
    };

    process.stderr.write(`bench:manager: ${kind} children: warming up\n`);
    for (const t of targets) {
      await runSequential(opts.warmup, () => passThroughSession(t.client));
      await runConcurrent(opts.warmup * 2, opts.par, () => passThroughSession(t.client));
    }

    // Sequential: the targets take turns in rounds, so drift (CPU frequency, other load) hits all alike.
    const ROUNDS = 4;
    const seqParts = new Map<Target, Measured[]>(targets.map((t) => [t, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const n = Math.floor(opts.seq / ROUNDS) + (round < opts.seq % ROUNDS ? 1 : 0);
      if (n === 0) continue;
      for (const t of targets) seqParts.get(t)!.push(await measure(t, 'sequential', n));
    }
    for (const t of targets) record(t, 'sequential', seqParts.get(t)!);
    const concLoad = `concurrent x${opts.par}`;
    for (const t of targets) record(t, concLoad, [await measure(t, 'concurrent', opts.conc)]);

    let profiled: string[] = [];
    if (opts.profileDir !== undefined) {
      const pdir = opts.profileDir;
      await mkdir(pdir, { recursive: true });
      const c = targets[2]!;
      process.stderr.write(`bench:manager: profiling (c) ${concLoad} (not part of the table)\n`);
      const driverProfiler = new PhaseProfiler();
      await Promise.all([driverProfiler.start(), manager.profileStart(), childrenProc.profileStart()]);
      await runConcurrent(opts.conc, opts.par, () => passThroughSession(c.client));
      await sleep(20);
      profiled = ['manager-conc3', 'children-conc3', 'driver-conc3'].map((n) => join(pdir, `${n}-${kind}.cpuprofile`));
      await Promise.all([manager.profileStop(profiled[0]!), childrenProc.profileStop(profiled[1]!), driverProfiler.stop(profiled[2]!)]);
    }

    return report(kind, rows, opts, cores, started, profiled);
  } finally {
    await managerProc?.stop();
    await childrenProc.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function report(kind: ChildKind, rows: readonly Row[], opts: Options, cores: number, started: number, profiled: readonly string[]): string {
  const find = (key: Target['key'], load: string) => rows.find((r) => r.target.key === key && r.load.startsWith(load));
  const cpuBound = (r: Row) => {
    const procs = [r.driverUs, r.managerUs, r.childrenUs];
    const total = procs.reduce((a, b) => a + b, 0);
    // A core per process at most, and all of them share the machine's cores.
    return Math.min(1e6 / Math.max(...procs), (cores * 1e6) / total);
  };
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log('');
  console.log(`Mailgate milter manager benchmark, ${kind} children: node ${process.version}, ${cores} CPUs (${cpu})`);
  console.log(
    'one session = connect + 20 round trips (negotiate, connect, helo, mail, 2 rcpt, data, 10 headers, eoh, ' +
      '4 KiB body, eom) + close, MTA side; children change nothing and ' +
      (kind === 'libmilter'
        ? 'have no callbacks, so they negotiate every stage away but end of message (libmilter/pymilter behaviour)'
        : 'ask for and answer continue to every stage'),
  );
  console.log('processes: load driver (this one) → manager (forked) → children (forked, 3 MilterServers); (a) skips the manager');
  console.log('');
  console.log(
    table(
      [
        'target',
        'load',
        'sessions',
        'sessions/s',
        'mean ms',
        'p50 ms',
        'p99 ms',
        'driver CPU µs/sess',
        'manager CPU µs/sess',
        'children CPU µs/sess',
        'CPU-bound max/s',
        'other procs CPU',
      ],
      rows.map((r) => [
        r.target.label,
        r.load,
        fmt(r.summary.sessions, 0),
        fmt(r.summary.perSec, 0),
        fmt(r.summary.meanMs, 3),
        fmt(r.summary.p50Ms, 3),
        fmt(r.summary.p99Ms, 3),
        fmt(r.driverUs, 0),
        r.target.children === 0 ? '-' : fmt(r.managerUs, 0),
        fmt(r.childrenUs, 0),
        fmt(cpuBound(r), 0),
        `${fmt(r.otherPct, 0)}%`,
      ]),
    ),
  );
  console.log(`(CPU-bound max/s: the lower of 1e6 / the busiest process's µs and ${cores} cores × 1e6 / all three processes' µs)`);
  console.log('');

  const a = find('a', 'sequential');
  const b = find('b', 'sequential');
  const c = find('c', 'sequential');
  const c3 = find('c', 'concurrent');
  let headline = 'bench:manager incomplete';
  if (a && b && c && c3) {
    const per = (r: Row, n: number, f: (s: Summary) => number) => (f(r.summary) - f(a.summary)) / n;
    const p50 = (s: Summary) => s.p50Ms;
    const mean = (s: Summary) => s.meanMs;
    const b50 = per(b, 1, p50);
    const c50 = per(c, 3, p50);
    const added = Math.max(b50, c50);
    const marginal50 = (c.summary.p50Ms - b.summary.p50Ms) / 2;
    const marginalMean = (c.summary.meanMs - b.summary.meanMs) / 2;
    console.log('added latency per session per child, sequential:');
    console.log(`  ((b) − (a)) / 1 = ${fmt(b50, 3)} ms at p50, ${fmt(per(b, 1, mean), 3)} ms mean`);
    console.log(`  ((c) − (a)) / 3 = ${fmt(c50, 3)} ms at p50, ${fmt(per(c, 3, mean), 3)} ms mean`);
    console.log(`  ((c) − (b)) / 2 = ${fmt(marginal50, 3)} ms at p50, ${fmt(marginalMean, 3)} ms mean (each child beyond the first)`);
    console.log(
      `  target < ${TARGET_ADDED_MS} ms per child: ${added < TARGET_ADDED_MS ? 'met' : 'MISSED'} ` +
        `(worse of the two p50 figures: ${fmt(added, 3)} ms)`,
    );
    const rate = c3.summary.perSec;
    const onTwo = cores === 2 ? '' : ` — this machine has ${cores} CPUs, the target assumes 2`;
    console.log(
      `manager + 3 children, ${c3.load}: ${fmt(rate, 0)} sessions/s ` +
        `(target >= ${fmt(TARGET_RATE, 0)}/s on 2 cores: ${rate >= TARGET_RATE ? 'met' : 'MISSED'}${onTwo}); ` +
        `(a) direct ${fmt(find('a', 'concurrent')?.summary.perSec ?? NaN, 0)}/s, (b) 1 child ${fmt(find('b', 'concurrent')?.summary.perSec ?? NaN, 0)}/s`,
    );
    headline = `bench:manager ${kind} children: added-per-child=${fmt(added, 2)}ms concurrent-3-children=${Math.round(rate)}/s`;
  }
  const noisy = rows.filter((r) => r.otherPct >= 5);
  if (noisy.length > 0) {
    console.log(
      `warning: other processes used >= 5% of the CPUs during ${noisy.length} phase(s) (up to ` +
        `${fmt(Math.max(...noisy.map((r) => r.otherPct)), 0)}%): wall-clock figures are disturbed; CPU µs/session less so`,
    );
  }
  console.log(`(total bench time ${fmt((performance.now() - started) / 1000, 1)} s; --seq ${opts.seq} --conc ${opts.conc} --par ${opts.par} --warmup ${opts.warmup})`);
  if (profiled.length > 0) {
    console.log(`CPU profiles of an extra (c) concurrent phase: ${profiled.join(', ')}`);
    console.log(`  read with: npm run bench:profile-top -- ${profiled[0]!}`);
  }
  console.log(headline);
  return headline;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
