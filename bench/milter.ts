/**
 * npm run bench:milter — MilterClient → MilterServer over a unix socket against a raw length-prefixed
 * ping-pong with the same round trips and bytes. Headline figures: client and server in separate
 * processes (the server forked from server-proc.ts), like an MTA and its milter; the
 * same-process variant (one event loop for both ends) is printed for comparison.
 *
 * Options: `npm run bench:milter -- --help` (options.ts); read --profile's files with
 * `npm run bench:profile-top -- DIR/<file>.cpuprofile`.
 *
 * Besides wall-clock figures it prints CPU µs per session for each end, the CPU-bound ceiling that
 * implies (1e6 / the busier end's µs: what the pair could do with a core each), and how much CPU
 * other processes on the machine used during the phase (the figures are only clean when that is ~0).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MilterClient } from '../src/milter/client.js';
import { benchOptions, count, dir, flag } from './options.js';
import { runConcurrent, runSequential, type LoadResult, type SessionFn } from './load.js';
import { pingPongScript, pingPongSession } from './pingpong.js';
import { BenchProcess } from './process.js';
import { PhaseProfiler } from './profiler.js';
import { startServer, type ServerMode } from './servers.js';
import { fmt, summarize, table, type Summary } from './stats.js';
import { milterSession, sessionShape } from './workload.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const TARGET_RATIO = 2;
const TARGET_RATE = 5000;

interface ServerHandle {
  readonly mode: ServerMode;
  readonly path: string;
  /** CPU (user + system) the server has used so far in µs; undefined when it shares our process. */
  cpuUs(): Promise<number | undefined>;
  profileStart(): Promise<void>;
  profileStop(file: string): Promise<void>;
  stop(): Promise<void>;
}

/** A milter or raw server in its own process (the headline layout). */
class ForkedServer implements ServerHandle {
  private constructor(
    readonly mode: ServerMode,
    readonly path: string,
    private readonly proc: BenchProcess,
  ) {}

  static async start(mode: ServerMode, path: string, cpu?: number): Promise<ForkedServer> {
    const proc = await BenchProcess.start(`${mode} server`, join(HERE, 'server-proc.js'), [mode, path], (child) => {
      if (cpu !== undefined && child.pid !== undefined) pin(child.pid, cpu);
    });
    return new ForkedServer(mode, path, proc);
  }

  cpuUs(): Promise<number> {
    return this.proc.cpuUs();
  }

  profileStart(): Promise<void> {
    return this.proc.profileStart();
  }

  profileStop(file: string): Promise<void> {
    return this.proc.profileStop(file);
  }

  stop(): Promise<void> {
    return this.proc.stop();
  }
}

/** Diagnostic only (--pin): binds a process to one CPU with taskset(1). */
function pin(pid: number, cpu: number): void {
  execFileSync('taskset', ['-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

async function inProcessServer(mode: ServerMode, path: string): Promise<ServerHandle> {
  const server = await startServer(mode, path);
  return {
    mode,
    path,
    cpuUs: () => Promise.resolve(undefined),
    profileStart: () => Promise.resolve(),
    profileStop: () => Promise.resolve(),
    stop: () => server.close(),
  };
}

interface Row {
  readonly layout: string;
  readonly workload: string;
  readonly load: string;
  readonly summary: Summary;
  /** µs of CPU per session: this process (the client, plus the server when in-process). */
  readonly clientCpuUs: number;
  readonly serverCpuUs: number | undefined;
  /** CPU used by other processes during the phase, in % of all cores. */
  readonly otherPct: number;
}

/** Busy CPU time of the whole machine so far, µs (all cores). */
function machineBusyUs(): number {
  let ms = 0;
  for (const c of cpus()) ms += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  return ms * 1000;
}

interface Options {
  readonly seq: number;
  readonly conc: number;
  readonly par: number;
  readonly warmup: number;
  readonly inproc: boolean;
  readonly profileDir: string | undefined;
  /** Pin the client to CPU 0 and forked servers to CPU 1 (diagnostic, not the headline layout). */
  readonly pin: boolean;
}

function options(): Options {
  const o = benchOptions('bench:milter', {
    seq: count(2000, 'sequential sessions'),
    conc: count(10000, 'concurrent sessions in total'),
    par: count(50, 'concurrent sessions in flight'),
    warmup: count(500, 'warm-up sessions before each phase'),
    'no-inproc': flag('skip the same-process variant'),
    profile: dir('write V8 CPU profiles of both ends for every measured phase (figures are then perturbed)'),
    pin: flag('diagnostic: client on CPU 0, forked servers on CPU 1'),
  });
  return { seq: o.seq, conc: o.conc, par: o.par, warmup: o.warmup, inproc: !o['no-inproc'], profileDir: o.profile, pin: o.pin };
}

async function main(): Promise<void> {
  const opts = options();
  const dir = await mkdtemp(join(tmpdir(), 'mailgate-bench-'));
  const shape = sessionShape();
  const script = pingPongScript(shape);
  const requestBytes = script.requests.reduce((n, b) => n + b.length, 0) + script.quit.length;
  const replyBytes = shape.replies.reduce((n, b) => n + b, 0);
  const clientProfiler = new PhaseProfiler();
  if (opts.profileDir) await mkdir(opts.profileDir, { recursive: true });
  const rows: Row[] = [];
  const started = performance.now();

  const sessionFor = (server: ServerHandle): SessionFn => {
    if (server.mode === 'raw') return () => pingPongSession(server.path, script);
    const client = new MilterClient({ spec: `unix:${server.path}` });
    return () => milterSession(client);
  };

  /** One measured run; `tag` names its profile files. */
  const measure = async (server: ServerHandle, load: 'sequential' | 'concurrent', n: number, tag: string) => {
    const session = sessionFor(server);
    const profile = opts.profileDir !== undefined;
    if (profile) await Promise.all([clientProfiler.start(), server.profileStart()]);
    const serverCpu0 = await server.cpuUs();
    const cpu0 = process.cpuUsage();
    const machine0 = machineBusyUs();
    const r: LoadResult = load === 'sequential' ? await runSequential(n, session) : await runConcurrent(n, opts.par, session);
    const machine = machineBusyUs() - machine0;
    const cpu = process.cpuUsage(cpu0);
    const serverCpu1 = await server.cpuUs();
    if (profile) {
      await Promise.all([
        clientProfiler.stop(join(opts.profileDir!, `client-${tag}.cpuprofile`)),
        server.profileStop(join(opts.profileDir!, `server-${tag}.cpuprofile`)),
      ]);
    }
    const serverCpuUs = serverCpu0 === undefined || serverCpu1 === undefined ? undefined : serverCpu1 - serverCpu0;
    const ours = cpu.user + cpu.system + (serverCpuUs ?? 0);
    return { ...r, clientCpuUs: cpu.user + cpu.system, serverCpuUs, otherUs: Math.max(0, machine - ours) };
  };
  type Measured = Awaited<ReturnType<typeof measure>>;

  const record = (layout: string, mode: ServerMode, load: string, parts: Measured[]) => {
    const n = parts.reduce((k, p) => k + p.latenciesMs.length, 0);
    const lat = new Float64Array(n);
    let at = 0;
    for (const p of parts) {
      lat.set(p.latenciesMs, at);
      at += p.latenciesMs.length;
    }
    const sum = (f: (p: Measured) => number | undefined) => parts.reduce<number | undefined>((k, p) => {
      const v = f(p);
      return k === undefined || v === undefined ? undefined : k + v;
    }, 0);
    const row: Row = {
      layout,
      workload: mode === 'raw' ? 'raw ping-pong' : 'milter',
      load,
      summary: summarize(lat, sum((p) => p.elapsedMs)!),
      clientCpuUs: sum((p) => p.clientCpuUs)! / n,
      otherPct: (100 * sum((p) => p.otherUs)!) / (sum((p) => p.elapsedMs)! * 1000 * cpus().length),
      serverCpuUs: (() => {
        const s = sum((p) => p.serverCpuUs);
        return s === undefined ? undefined : s / n;
      })(),
    };
    rows.push(row);
    process.stderr.write(
      `  ${layout} / ${row.workload} / ${load}: ${fmt(row.summary.perSec, 0)} sessions/s, p50 ${fmt(row.summary.p50Ms, 3)} ms\n`,
    );
  };

  const warm = async (server: ServerHandle) => {
    const session = sessionFor(server);
    await runSequential(opts.warmup, session);
    await runConcurrent(opts.warmup * 2, opts.par, session);
  };

  const runLayout = async (layout: string, start: (mode: ServerMode, path: string) => Promise<ServerHandle>, scale: number) => {
    const tag = layout === 'separate processes' ? 'fork' : 'inproc';
    const raw = await start('raw', join(dir, `${tag}-raw.sock`));
    const milter = await start('milter', join(dir, `${tag}-milter.sock`));
    try {
      process.stderr.write(`${layout}: warming up\n`);
      await warm(raw);
      await warm(milter);
      const seq = Math.max(1, Math.round(opts.seq * scale));
      const conc = Math.max(1, Math.round(opts.conc * scale));
      // Sequential runs alternate in halves so drift (CPU frequency, other load) hits both alike.
      const half = Math.ceil(seq / 2);
      const rawSeq = [await measure(raw, 'sequential', half, `${tag}-raw-seq`)];
      const milterSeq = [await measure(milter, 'sequential', half, `${tag}-milter-seq`)];
      rawSeq.push(await measure(raw, 'sequential', seq - half, `${tag}-raw-seq2`));
      milterSeq.push(await measure(milter, 'sequential', seq - half, `${tag}-milter-seq2`));
      record(layout, 'raw', 'sequential', rawSeq);
      record(layout, 'milter', 'sequential', milterSeq);
      const concLoad = `concurrent x${opts.par}`;
      record(layout, 'raw', concLoad, [await measure(raw, 'concurrent', conc, `${tag}-raw-conc`)]);
      record(layout, 'milter', concLoad, [await measure(milter, 'concurrent', conc, `${tag}-milter-conc`)]);
    } finally {
      await raw.stop();
      await milter.stop();
    }
  };

  try {
    if (opts.pin) pin(process.pid, 0);
    await runLayout('separate processes', (mode, path) => ForkedServer.start(mode, path, opts.pin ? 1 : undefined), 1);
    if (opts.inproc) await runLayout('same process', inProcessServer, 0.5);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const find = (layout: string, workload: string, load: string) =>
    rows.find((r) => r.layout === layout && r.workload === workload && r.load.startsWith(load));
  const print = (r: Row) => [
    r.layout,
    r.workload,
    r.load,
    fmt(r.summary.sessions, 0),
    fmt(r.summary.perSec, 0),
    fmt(r.summary.meanMs, 3),
    fmt(r.summary.p50Ms, 3),
    fmt(r.summary.p99Ms, 3),
    fmt(r.clientCpuUs, 0),
    r.serverCpuUs === undefined ? '(in client)' : fmt(r.serverCpuUs, 0),
    fmt(1e6 / Math.max(r.clientCpuUs, r.serverCpuUs ?? 0), 0),
    `${fmt(r.otherPct, 0)}%`,
  ];
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log('');
  console.log(`Mailgate milter benchmark: node ${process.version}, ${availableParallelism()} CPUs (${cpu})`);
  console.log(
    `one session = connect + ${shape.requests.length} round trips + close; ` +
      `${fmt(requestBytes, 0)} bytes MTA→milter, ${fmt(replyBytes, 0)} bytes back (raw ping-pong: same sizes)`,
  );
  console.log('');
  console.log(
    table(
      [
        'layout',
        'workload',
        'load',
        'sessions',
        'sessions/s',
        'mean ms',
        'p50 ms',
        'p99 ms',
        'client CPU µs/sess',
        'server CPU µs/sess',
        'CPU-bound max/s',
        'other procs CPU',
      ],
      rows.map(print),
    ),
  );
  console.log('');
  const lines: string[] = [];
  let headline = '';
  for (const layout of ['separate processes', 'same process']) {
    const rawSeq = find(layout, 'raw ping-pong', 'sequential');
    const milSeq = find(layout, 'milter', 'sequential');
    const rawConc = find(layout, 'raw ping-pong', 'concurrent');
    const milConc = find(layout, 'milter', 'concurrent');
    if (!rawSeq || !milSeq || !rawConc || !milConc) continue;
    const ratio = milSeq.summary.p50Ms / rawSeq.summary.p50Ms;
    const meanRatio = milSeq.summary.meanMs / rawSeq.summary.meanMs;
    const rate = milConc.summary.perSec;
    lines.push(
      `${layout}: sequential latency milter/raw = ${fmt(ratio, 2)}x at p50, ${fmt(meanRatio, 2)}x mean ` +
        `(target <= ${TARGET_RATIO}x: ${ratio <= TARGET_RATIO ? 'met' : 'MISSED'})`,
      `${layout}: concurrent milter ${fmt(rate, 0)} sessions/s (target >= ${fmt(TARGET_RATE, 0)}/s: ` +
        `${rate >= TARGET_RATE ? 'met' : 'MISSED'}); raw ping-pong ${fmt(rawConc.summary.perSec, 0)}/s ` +
        `(milter = ${fmt((100 * rate) / rawConc.summary.perSec, 0)}% of raw)`,
    );
    if (layout === 'separate processes') headline = `bench:milter sequential-ratio=${fmt(ratio, 2)} concurrent=${Math.round(rate)}/s`;
  }
  for (const l of lines) console.log(l);
  const noisy = rows.filter((r) => r.otherPct >= 5);
  if (noisy.length > 0) {
    console.log(
      `warning: other processes used >= 5% of the CPUs during ${noisy.length} phase(s) (up to ` +
        `${fmt(Math.max(...noisy.map((r) => r.otherPct)), 0)}%): wall-clock figures are disturbed; CPU µs/session less so`,
    );
  }
  console.log(`(total bench time ${fmt((performance.now() - started) / 1000, 1)} s)`);
  if (opts.profileDir) console.log(`CPU profiles of the milter phases in ${opts.profileDir} (figures perturbed by profiling)`);
  console.log(headline);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
