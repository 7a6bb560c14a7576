/**
 * bench:filters — the greylist part: decisions per second with 1 million tuples in the store, for
 * SQLite and Redis, and the memory the tuples take.
 *
 * A decision is what one SMTP connection costs the greylist filter at RCPT time, through its public
 * API: open a session, negotiate, connect, HELO, MAIL, RCPT, close — with the configuration of
 * issue 4 (subnetmatch /24, greylist 10m, autowhite 1w, the trusted_domain/SPF ACLs; SPF answers
 * "none" at once, as from a warm cache). Workloads:
 *   new tuple     → unknown: a pending entry is written, 451 (get + put)
 *   pending early → retry before the delay: 451 with the time left (get)
 *   autowhite     → accepted, its period extended (get + put)
 *   mix           → 70 % new, 20 % pending, 10 % autowhite, 32 sessions at once
 * plus the bare store operations a decision needs (get + put), to show the filter's own share.
 * SQLite is filled in one transaction, Redis (a private redis-server on 127.0.0.1 started here,
 * nothing persisted) with RedisGreylistStore.putMany's batches. Tuples are spread over 65,536 /24 networks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GreylistOptions } from '../../src/config/builtins/greylist.js';
import { createGreylistFilter } from '../../src/filters/greylist/index.js';
import { FULL_OFFER } from '../../src/mail/capabilities.js';
import type { Filter, SessionContext } from '../../src/mail/filter.js';
import { silentLogger } from '../../src/mail/logger.js';
import { NO_MACROS } from '../../src/mail/macros.js';
import { RedisGreylistStore } from '../../src/store/greylist/redis.js';
import { SqliteGreylistStore } from '../../src/store/greylist/sqlite.js';
import type { GreylistEntry, GreylistStore } from '../../src/store/greylist/store.js';
import { fmt, summarize, table } from '../stats.js';

/** What bench:filters' options set for this part (bench/filters.ts). */
export interface GreylistBenchSettings {
  /** Tuples stored before measuring. */
  readonly tuples: number;
  /** Seconds per measured row. */
  readonly seconds: number;
  /** Which stores to measure. */
  readonly stores: readonly ('sqlite' | 'redis')[];
}
const CONCURRENCY = 32;
const REDIS_SERVER = '/usr/bin/redis-server';
const MIN = 60_000;
const DAY = 24 * 60 * MIN;

const CONF = `subnetmatch /24
greylist 10m
autowhite 1w
sm_macro "trusted_domain" "{trusted_domain}" "yes"
racl whitelist sm_macro "trusted_domain" spf pass
racl greylist sm_macro "trusted_domain" not spf pass
racl greylist default
`;

/** Tuple i: client 10.A.B.7 (its /24 is the stored address), sender s<i>, one of 1000 recipients. */
const client = (i: number): string => `10.${(i >> 8) & 255}.${i & 255}.7`;
const sender = (i: number): string => `s${i}@example.com`;
const recipient = (i: number): string => `r${i % 1000}@example.org`;
/** Every fifth stored tuple is auto-whitelisted, the rest pending (mostly spam that never retries). */
const isAutowhite = (i: number): boolean => i % 5 === 0;

/** The stored tuples, grouped by address (tuples i, i + 65,536, ... share one /24) for a faster load. */
function* fillEntries(now: number, tuples: number): Generator<GreylistEntry> {
  for (let a = 0; a < Math.min(tuples, 65_536); a++) {
    for (let i = a; i < tuples; i += 65_536) {
      const base = { address: `10.${(i >> 8) & 255}.${i & 255}.0/24`, sender: sender(i), recipient: recipient(i) };
      yield isAutowhite(i)
        ? { ...base, kind: 'autowhite', created: now - DAY, acceptAfter: now - DAY + 10 * MIN, expires: now + 7 * DAY, hits: 3 }
        : // Accepted only in 9 minutes: "pending early" stays early for the whole run.
          { ...base, kind: 'pending', created: now - MIN, acceptAfter: now + 9 * MIN, expires: now + 9 * MIN + 5 * DAY, hits: 0 };
    }
  }
}

interface Row {
  readonly store: string;
  readonly workload: string;
  readonly concurrency: number;
  readonly decisions: number;
  readonly perSec: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly outcome: string;
}

type Pick = () => { ip: string; from: string; to: string };

let fresh = 0;
/** The tuples each workload asks about, drawn from the `tuples` stored ones (or new ones). */
const picksFor = (tuples: number): Record<string, Pick> => ({
  'new tuple': () => {
    const n = ++fresh;
    return { ip: `172.16.${(n >> 8) & 255}.${n & 255}`, from: `new${n}@example.net`, to: recipient(n) };
  },
  'pending early': () => {
    let i = Math.floor(Math.random() * tuples);
    if (isAutowhite(i)) i = (i + 1) % tuples;
    return { ip: client(i), from: sender(i), to: recipient(i) };
  },
  autowhite: () => {
    const i = Math.floor(Math.random() * Math.floor(tuples / 5)) * 5;
    return { ip: client(i), from: sender(i), to: recipient(i) };
  },
});
const mixOf = (picks: Record<string, Pick>): Pick => () => {
  const r = Math.random();
  return (r < 0.7 ? picks['new tuple'] : r < 0.9 ? picks['pending early'] : picks['autowhite'])!();
};

const CTX: SessionContext = { macros: NO_MACROS, progress: async () => undefined };

/** One connection's RCPT-time decision through the filter; returns the RCPT reply's status and code. */
async function decide(filter: Filter, t: { ip: string; from: string; to: string }): Promise<string> {
  const s = await filter.open();
  await s.negotiate(FULL_OFFER);
  await s.connect?.({ hostname: `[${t.ip}]`, family: 'inet', address: t.ip, port: 40000 }, CTX);
  await s.helo?.('mail.example.net', CTX);
  await s.mail?.(`<${t.from}>`, [], CTX);
  const r = await s.rcpt?.(`<${t.to}>`, [], CTX);
  await s.abort?.(CTX);
  await s.close?.();
  return r === undefined ? 'continue' : `${r.status}${r.code === undefined ? '' : ` ${r.code}`}`;
}

/** Runs `one` from `concurrency` loops for `seconds`; latencies per call and outcome counts. */
async function measure(seconds: number, store: string, workload: string, concurrency: number, one: () => Promise<string>): Promise<Row> {
  for (let i = 0; i < 200; i++) await one(); // warm-up: JIT, statement caches, connections
  const latencies: number[] = [];
  const outcomes = new Map<string, number>();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const s = performance.now();
        const outcome = await one();
        latencies.push(performance.now() - s);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    }),
  );
  const sum = summarize(Float64Array.from(latencies), performance.now() - t0);
  const outcome = [...outcomes]
    .sort((a, b) => b[1] - a[1])
    .map(([o, n]) => `${o} ${fmt((100 * n) / latencies.length, 0)}%`)
    .join(', ');
  return { store, workload, concurrency, decisions: sum.sessions, perSec: sum.perSec, meanMs: sum.meanMs, p50Ms: sum.p50Ms, p99Ms: sum.p99Ms, outcome };
}

async function benchStore(settings: GreylistBenchSettings, name: string, store: GreylistStore): Promise<Row[]> {
  const picks = picksFor(settings.tuples);
  const options: GreylistOptions = {
    conf: { text: CONF, file: 'bench greylist.conf', lineOffset: 0 },
    store: 'memory', // ignored: the store is given below
    redisUrl: '',
    redisPrefix: '',
  };
  const filter = createGreylistFilter('greylist', options, {
    logger: silentLogger,
    dataDir: tmpdir(),
    now: Date.now,
    resolver: async () => {
      throw new Error('no DNS in the benchmark');
    },
    spf: async () => ({ result: 'none', receivedSpf: '', domain: 'example.com' }),
  }, { store });
  const rows: Row[] = [];
  for (const workload of ['new tuple', 'pending early', 'autowhite'] as const) {
    const pick = picks[workload]!;
    rows.push(await measure(settings.seconds, name, workload, 1, () => decide(filter, pick())));
  }
  rows.push(await measure(settings.seconds, name, 'mix 70/20/10', CONCURRENCY, () => decide(filter, mixOf(picks)())));
  // The bare store work of an autowhite decision (the heaviest): get, then put the extended entry.
  const now = Date.now();
  rows.push(
    await measure(settings.seconds, name, 'store only: get + put', 1, async () => {
      const t = picks['autowhite']!();
      const i = Number(t.from.slice(1, t.from.indexOf('@')));
      const tuple = { address: `10.${(i >> 8) & 255}.${i & 255}.0/24`, sender: t.from, recipient: t.to };
      const e = await store.get(tuple, now);
      if (e === undefined) return 'miss';
      await store.put({ ...e, expires: now + 7 * DAY, hits: e.hits + 1 });
      return 'hit';
    }),
  );
  await filter.close?.(); // closes the store
  return rows;
}

const mb = (bytes: number): string => `${fmt(bytes / 1024 / 1024, 1)} MB`;

async function fileSize(path: string): Promise<number> {
  return stat(path).then((s) => s.size, () => 0);
}

async function sqlitePart(settings: GreylistBenchSettings, dir: string, notes: string[]): Promise<Row[]> {
  const tuples = settings.tuples;
  const file = join(dir, 'greylist.sqlite');
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const filling = new SqliteGreylistStore(file);
  filling.putMany(fillEntries(Date.now(), tuples));
  await filling.close(); // checkpoints the WAL into the database file
  notes.push(`SQLite: ${fmt(tuples, 0)} tuples written in ${fmt((performance.now() - t0) / 1000, 1)} s (one transaction)`);
  const size = await fileSize(file);
  const store = new SqliteGreylistStore(file);
  const rows = await benchStore(settings, 'sqlite', store);
  notes.push(
    `SQLite memory: database file ${mb(size)} (${fmt(size / tuples, 0)} bytes/tuple, indexes included); ` +
      `this process's RSS +${mb(Math.max(0, process.memoryUsage().rss - rss0))} (page cache 2 MB by default: the tuples stay on disk)`,
  );
  return rows;
}

async function redisPart(settings: GreylistBenchSettings, dir: string, notes: string[]): Promise<Row[]> {
  const tuples = settings.tuples;
  const server = await startRedisServer(dir);
  try {
    const fillStore = new RedisGreylistStore({ url: server.url, prefix: 'bench:' });
    const before = await fillStore.usedMemory();
    const t0 = performance.now();
    await fillStore.putMany(fillEntries(Date.now(), tuples));
    notes.push(`Redis: ${fmt(tuples, 0)} tuples written in ${fmt((performance.now() - t0) / 1000, 1)} s (batches of 2,000 through one server-side script each)`);
    const after = await fillStore.usedMemory();
    notes.push(`Redis memory: used_memory +${mb(after - before)} (${fmt((after - before) / tuples, 0)} bytes/tuple, index sets included)`);
    await fillStore.close();
    return await benchStore(settings, 'redis', new RedisGreylistStore({ url: server.url, prefix: 'bench:' }));
  } finally {
    await server.stop();
  }
}

export async function runGreylistBench(settings: GreylistBenchSettings): Promise<void> {
  const tuples = settings.tuples;
  const dir = await mkdtemp(join(tmpdir(), 'mailgate-greylist-bench-'));
  const notes: string[] = [];
  const started = performance.now();
  try {
    const rows = [
      ...(settings.stores.includes('sqlite') ? await sqlitePart(settings, dir, notes) : []),
      ...(settings.stores.includes('redis') ? await redisPart(settings, dir, notes) : []),
    ];
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    console.log('');
    console.log(`Greylist benchmark: node ${process.version}, ${availableParallelism()} CPUs (${cpu})`);
    console.log(
      `${fmt(tuples, 0)} tuples in the store (${fmt(tuples / 5, 0)} autowhite, the rest pending, over 65,536 /24 networks); ` +
        'decision = one connection through the greylist filter: connect, HELO, MAIL, RCPT (issue 4 configuration)',
    );
    console.log('');
    console.log(
      table(
        ['store', 'workload', 'sessions at once', 'decisions', 'decisions/s', 'mean ms', 'p50 ms', 'p99 ms', 'RCPT outcome'],
        rows.map((r) => [r.store, r.workload, String(r.concurrency), fmt(r.decisions, 0), fmt(r.perSec, 0), fmt(r.meanMs, 3), fmt(r.p50Ms, 3), fmt(r.p99Ms, 3), r.outcome]),
      ),
    );
    console.log('');
    for (const n of notes) console.log(n);
    console.log(`(greylist part: ${fmt((performance.now() - started) / 1000, 0)} s)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface RedisServerProcess {
  readonly url: string;
  stop(): Promise<void>;
}

/** A private redis-server on 127.0.0.1: a free port, nothing persisted, its dir in `dir`. */
async function startRedisServer(dir: string): Promise<RedisServerProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    REDIS_SERVER,
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--logfile', ''],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  let exited = false;
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const kill = (): void => {
    if (!exited) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const stop = async (): Promise<void> => {
    process.removeListener('exit', kill);
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(kill, 3_000);
    await exit;
    clearTimeout(timer);
  };
  const spawnError = new Promise<never>((_, reject) => child.once('error', (err) => reject(new Error(`cannot start ${REDIS_SERVER}: ${err.message} (install the redis-server package)`))));
  const deadline = Date.now() + 15_000;
  while (!/Ready to accept connections/.test(output)) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not start on 127.0.0.1:${port}:\n${output}`);
    }
    await Promise.race([spawnError, new Promise((r) => setTimeout(r, 25))]);
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
