/**
 * npm run bench:manager-cold — where an isolated session's extra time goes (issue 12's cold path). The
 * bench:manager processes (manager-proc.ts: children, manager with 3 of them), the same session, one
 * at a time, spaced out (--gap ms of idle before each) and back to back, through the manager and
 * directly to a child; prints the median time of each stage as the MTA side sees it, so a cost paid
 * once per session (connect, lookups, timers) shows in one stage and a slower machine in all of them.
 * --profile DIR adds one more pass of each load through the manager, profiled (read the files with
 * `npm run bench:profile-top`); --fresh N first runs N spaced sessions on the just-started processes
 * (no warm-up), by blocks, to show how long the JIT takes to reach its steady state.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { FULL_OFFER } from '../src/mail/capabilities.js';
import type { SessionContext } from '../src/mail/filter.js';
import { MilterClient } from '../src/milter/client.js';
import { Command } from '../src/milter/constants.js';
import { MacroStore } from '../src/milter/macro-store.js';
import { runSequential, runSpaced } from './load.js';
import type { ChildKind } from './manager-proc.js';
import { benchOptions, choice, count, dir } from './options.js';
import { BenchProcess } from './process.js';
import { fmt, summarize, table } from './stats.js';
import { BODY, CONNECTION, HEADERS, HELO, MACROS, MAIL_ARGS, RECIPIENTS, SENDER } from './workload.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const STAGES = ['connect + negotiate', 'connect', 'helo', 'mail', 'rcpt 1', 'rcpt 2', 'data', '10 headers', 'eoh', 'body', 'eom', 'close'];

/** workload.ts's milterSession (pass-through children), timing each stage into `laps[stage]`. */
async function timedSession(client: MilterClient, laps: number[][]): Promise<void> {
  let t = performance.now();
  let i = 0;
  const lap = () => {
    const now = performance.now();
    (laps[i++] ??= []).push(now - t);
    t = now;
  };
  const s = client.open();
  const store = new MacroStore();
  const ctx: SessionContext = { macros: store, progress: () => Promise.resolve() };
  try {
    await s.negotiate(FULL_OFFER);
    lap();
    store.set(Command.CONNECT, MACROS.connect);
    await s.connect(CONNECTION, ctx);
    lap();
    store.set(Command.HELO, MACROS.helo);
    await s.helo(HELO, ctx);
    lap();
    store.set(Command.MAIL, MACROS.mail);
    await s.mail(SENDER, MAIL_ARGS, ctx);
    lap();
    for (const r of RECIPIENTS) {
      store.set(Command.RCPT, r.macros);
      await s.rcpt(r.address, [], ctx);
      lap();
    }
    store.set(Command.DATA, MACROS.data);
    await s.data(ctx);
    lap();
    for (const [name, value] of HEADERS) await s.header(name, value, ctx);
    lap();
    store.set(Command.EOH, MACROS.endOfHeaders);
    await s.endOfHeaders(ctx);
    lap();
    await s.body(BODY, ctx);
    lap();
    store.set(Command.BODYEOB, MACROS.endOfMessage);
    await s.endOfMessage(ctx);
    lap();
  } finally {
    s.close();
  }
  lap();
}

const median = (a: readonly number[]) => Float64Array.from(a).sort()[a.length >> 1] ?? NaN;

async function main(): Promise<void> {
  const o = benchOptions('bench:manager-cold', {
    children: choice(['libmilter', 'all-stages'], 'which kind of pass-through children', 'all-stages'),
    sessions: count(200, 'sessions per load and target'),
    gap: count(100, 'idle ms before each spaced-out session'),
    warmup: count(1000, 'back-to-back sessions through the manager before measuring'),
    fresh: count(1, 'spaced sessions on the just-started processes before the warm-up, reported by blocks of 50 (1: none)'),
    profile: dir('write a V8 CPU profile of the manager for each load here'),
  });
  const kind: ChildKind = o.children;
  const tmp = await mkdtemp(join(tmpdir(), 'mailgate-bench-manager-cold-'));
  const childSocks = [0, 1, 2].map((i) => join(tmp, `child-${i}.sock`));
  const managerSock = join(tmp, 'manager.sock');
  const children = await BenchProcess.start('children', join(HERE, 'manager-proc.js'), ['children', kind, ...childSocks]);
  let manager: BenchProcess | undefined;
  try {
    manager = await BenchProcess.start('manager', join(HERE, 'manager-proc.js'), ['manager', `${managerSock}=${childSocks.join(',')}`]);
    const mgr = manager;
    const targets = [
      { label: 'manager + 3 children', client: new MilterClient({ spec: `unix:${managerSock}` }) },
      { label: 'child, direct', client: new MilterClient({ spec: `unix:${childSocks[0]!}` }) },
    ];
    const viaManager = targets[0]!.client;
    const blocks = o.fresh > 1 ? Math.ceil(o.fresh / 50) : 0;
    for (let b = 0; b < blocks; b++) {
      const n = Math.min(50, o.fresh - b * 50);
      const m0 = await mgr.cpuUs();
      const r = await runSpaced(n, o.gap, () => timedSession(viaManager, []));
      const m1 = await mgr.cpuUs();
      const s = summarize(r.latenciesMs, r.elapsedMs);
      console.log(`fresh processes, spaced sessions ${b * 50 + 1}-${b * 50 + n}: p50 ${fmt(s.p50Ms, 3)} ms, manager CPU ${fmt((m1 - m0) / n, 0)} µs/session`);
    }
    for (const t of targets) await runSequential(o.warmup, () => timedSession(t.client, []));

    const columns: string[] = [];
    const cells: string[][] = STAGES.map((s) => [s]);
    const totals: string[] = ['session (p50)'];
    const cpu: string[] = ['manager CPU µs/session'];
    for (const load of ['spaced', 'back to back'] as const) {
      for (const t of targets) {
        const laps: number[][] = [];
        const m0 = await mgr.cpuUs();
        const session = () => timedSession(t.client, laps);
        const r = load === 'spaced' ? await runSpaced(o.sessions, o.gap, session) : await runSequential(o.sessions, session);
        await sleep(10);
        const m1 = await mgr.cpuUs();
        columns.push(`${t.label}, ${load}`);
        STAGES.forEach((_, i) => cells[i]!.push(fmt(median(laps[i] ?? []) * 1000, 0)));
        totals.push(fmt(summarize(r.latenciesMs, r.elapsedMs).p50Ms * 1000, 0));
        cpu.push(t.label.startsWith('manager') ? fmt((m1 - m0) / o.sessions, 0) : '-');
      }
    }
    // Profiled apart from the measured passes: the sampling profiler costs the manager CPU of its own.
    if (o.profile !== undefined) {
      await mkdir(o.profile, { recursive: true });
      for (const load of ['spaced', 'back-to-back'] as const) {
        await mgr.profileStart();
        const session = () => timedSession(viaManager, []);
        if (load === 'spaced') await runSpaced(o.sessions, o.gap, session);
        else await runSequential(o.sessions, session);
        await mgr.profileStop(join(o.profile, `manager-${load}.cpuprofile`));
      }
    }
    console.log('');
    console.log(`bench:manager-cold, ${kind} children: median µs per stage, MTA side (${o.sessions} sessions each; spaced = ${o.gap} ms idle before each)`);
    console.log(table(['stage', ...columns], [...cells, totals, cpu]));
    console.log('(the stages\' medians need not add up to the session\'s median)');
    if (o.profile !== undefined) console.log(`manager profiles in ${o.profile}; read with npm run bench:profile-top -- FILE`);
  } finally {
    await manager?.stop();
    await children.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
