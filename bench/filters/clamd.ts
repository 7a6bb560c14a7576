/**
 * bench:filters — the clamd part: what the clamav filter adds per message over calling clamd
 * directly (target: under 5 %). A private clamd (one EICAR .ndb signature, offline, unix socket) is
 * started for the run. On the same messages:
 *   raw           — calling clamd directly as clamdscan --stream and clamav-milter do: a new
 *                   connection per message, zINSTREAM, the verdict;
 *   raw session   — a direct client that keeps one clamd session (zIDSESSION) open and sends
 *                   zINSTREAM after zINSTREAM on it: the cheapest way to call clamd;
 *   filter        — a clamav filter session driven as the chain drives a built-in child (with its
 *                   stage timeouts): negotiate, headers, body chunks, end of message with its
 *                   X-Virus-* headers; keep_alive on (the default);
 *   filter, new connection each — the same with keep_alive = false.
 * Every message goes through all four, the order rotating, so load swings on a shared machine hit
 * each alike; an overhead is the median paired difference over the reference's median time. The
 * node process's CPU per message is shown too: the filter's own work, whatever clamd's speed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { withStageTimeouts } from '../../src/chain/stage-timeouts.js';
import type { ClamavOptions } from '../../src/config/builtins/clamav.js';
import { DEFAULT_BUILTIN_TIMEOUTS } from '../../src/config/defaults.js';
import { createClamavFilter } from '../../src/filters/clamav/index.js';
import { MBOX_FROM_LINE } from '../../src/filters/clamav/message-scan.js';
import { encodeInstream, takeReply, ZIDSESSION, ZPING } from '../../src/filters/clamav/protocol.js';
import { createDnsResolver } from '../../src/filters/shared/dns.js';
import { createSpfChecker } from '../../src/filters/shared/spf.js';
import { FULL_OFFER } from '../../src/mail/capabilities.js';
import type { Filter, SessionContext } from '../../src/mail/filter.js';
import { silentLogger } from '../../src/mail/logger.js';
import { NO_MACROS } from '../../src/mail/macros.js';
import { fmt, table } from '../stats.js';

const CLAMD = '/usr/sbin/clamd';
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const WARMUP = 100;

interface Workload {
  readonly name: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
}

interface PrivateClamd {
  readonly socketPath: string;
  stop(): Promise<void>;
}

/** `pairs`: messages per size through every path (bench:filters --pairs). */
export async function runClamdBench(pairs: number): Promise<void> {
  process.stdout.write('clamd: per-message overhead of the clamav filter over calling clamd directly\n');
  const clamd = await startPrivateClamd();
  const filters = { keepAlive: benchFilter(clamd.socketPath, true), perMessage: benchFilter(clamd.socketPath, false) };
  const session = new RawSession(clamd.socketPath);
  try {
    const times: string[][] = [];
    const overheads: string[][] = [];
    for (const w of [workload('4 KiB', 4 * 1024), workload('256 KiB', 256 * 1024)]) {
      const r = await measure(pairs, w, clamd.socketPath, filters, session);
      for (const v of VARIANTS) times.push([w.name, LABELS[v], fmt(r.p50Ms[v], 3), fmt(r.cpuMs[v], 3)]);
      for (const [label, filter, reference] of COMPARISONS) {
        const pct = r.overheadPct(filter, reference);
        overheads.push([w.name, label, fmt(r.diffMs(filter, reference), 3), `${fmt(pct, 1)} %`, pct < 5 ? 'yes' : 'NO']);
      }
    }
    process.stdout.write(
      `${table(['message', 'path', 'p50 ms', 'node cpu ms/msg'], times)}\n\n` +
        `${table(['message', 'overhead of', 'paired diff ms', 'overhead', '< 5 %'], overheads)}\n` +
        `(${pairs} messages per size through every path, sequential, order rotating; overhead = median(filter − reference) / median(reference); ` +
        `load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} CPUs)\n` +
        'The first line per size is the target as the issue states it (against calling clamd as its usual clients do); ' +
        'the other two compare like with like: the filter against a direct client with the same kind of connection.\n',
    );
  } finally {
    session.close();
    for (const f of Object.values(filters)) await f.close?.();
    await clamd.stop();
  }
}

const VARIANTS = ['raw', 'rawSession', 'filter', 'filterPerMessage'] as const;
type Variant = (typeof VARIANTS)[number];
const LABELS: Record<Variant, string> = {
  raw: 'raw: new connection per message (clamdscan, clamav-milter)',
  rawSession: 'raw session: one IDSESSION connection kept',
  filter: 'filter, keep_alive = true (default)',
  filterPerMessage: 'filter, keep_alive = false',
};
const COMPARISONS: ReadonlyArray<readonly [string, Variant, Variant]> = [
  ['filter (default) over raw', 'filter', 'raw'],
  ['filter (default) over raw session', 'filter', 'rawSession'],
  ['filter keep_alive = false over raw', 'filterPerMessage', 'raw'],
];

function workload(name: string, bodyBytes: number): Workload {
  const headers: Array<[string, string]> = [
    ['Received', 'from client.example.com (client.example.com [192.0.2.1]) by mx.example.org (Postfix) with ESMTP id 4AbCdE'],
    ['From', 'Sender <sender@example.com>'],
    ['To', 'Recipient <rcpt@example.org>'],
    ['Subject', 'quarterly report'],
    ['Date', 'Mon, 21 Jul 2025 08:00:00 +0000'],
    ['Message-ID', '<20250721080000.1234@example.com>'],
    ['MIME-Version', '1.0'],
    ['Content-Type', 'text/plain; charset=us-ascii'],
    ['Content-Transfer-Encoding', '7bit'],
    ['X-Mailer', 'bench'],
  ];
  const line = 'The quick brown fox jumps over the lazy dog, again and again, 0123456789.\r\n';
  const body = Buffer.from(line.repeat(Math.ceil(bodyBytes / line.length))).subarray(0, bodyBytes);
  return { name, headers, body };
}

function benchFilter(socketPath: string, keepAlive: boolean): Filter {
  const options: ClamavOptions = {
    clamd: [{ type: 'unix', path: socketPath }],
    onInfected: 'reject',
    onFail: 'defer',
    addHeader: 'replace',
    rejectMsg: 'Virus found: %v',
    maxFileSize: 25 * 1024 * 1024,
    localNet: [],
    skipAuthenticated: undefined,
    reportHostname: 'bench.example',
    connectTimeout: 5,
    readTimeout: 30,
    keepAlive,
  };
  const resolver = createDnsResolver(['127.0.0.1']);
  // Wrapped as the manager runs a built-in child, with its stage timeouts.
  return withStageTimeouts(createClamavFilter('clamav', options, { logger: silentLogger, dataDir: tmpdir(), now: Date.now, resolver, spf: createSpfChecker(resolver) }), DEFAULT_BUILTIN_TIMEOUTS);
}

const CTX: SessionContext = { macros: NO_MACROS, progress: () => Promise.resolve() };

/** One message through a filter session, as the chain drives an in-process child. */
async function viaFilter(filter: Filter, w: Workload): Promise<void> {
  const s = await filter.open();
  await s.negotiate(FULL_OFFER);
  for (const [n, v] of w.headers) await s.header?.(n, v, CTX);
  for (let at = 0; at < w.body.length; at += 65535) await s.body?.(w.body.subarray(at, at + 65535), CTX);
  const eom = await s.endOfMessage!(CTX);
  await s.close?.();
  if (eom.reply.status !== 'continue' || eom.changes.length !== 2) throw new Error(`filter: unexpected result ${JSON.stringify(eom.reply)}`);
}

/** The same message bytes straight to clamd: one connection, zINSTREAM, one reply. */
function viaRaw(socketPath: string, message: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path: socketPath });
    let received = Buffer.alloc(0);
    socket.once('connect', () => {
      socket.cork();
      for (const b of encodeInstream([message])) socket.write(b);
      socket.uncork();
    });
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      const reply = takeReply(received);
      if (reply === undefined) return;
      socket.destroy();
      if (reply === 'stream: OK') resolve();
      else reject(new Error(`raw: unexpected reply ${reply}`));
    });
    socket.on('error', reject);
  });
}

/**
 * A direct client on one clamd session: zIDSESSION once, then for each message zINSTREAM on the
 * same connection and the numbered reply.
 */
class RawSession {
  private socket: Socket | undefined;
  private received: Buffer = Buffer.alloc(0);
  private waiter: ((reply: string) => void) | undefined;
  private count = 0;

  constructor(private readonly socketPath: string) {}

  scan(message: Buffer): Promise<void> {
    if (this.socket === undefined) {
      this.socket = connect({ path: this.socketPath });
      this.socket.write(ZIDSESSION);
      this.socket.on('data', (d: Buffer) => this.onData(d));
      this.socket.on('error', (err) => process.stderr.write(`raw session: ${err.message}\n`));
    }
    const id = `${++this.count}: `;
    return new Promise<void>((resolve, reject) => {
      this.waiter = (reply) => (reply === `${id}stream: OK` ? resolve() : reject(new Error(`raw session: unexpected reply ${reply}`)));
      const socket = this.socket!;
      socket.cork();
      for (const b of encodeInstream([message])) socket.write(b);
      socket.uncork();
    });
  }

  close(): void {
    this.socket?.destroy();
  }

  private onData(d: Buffer): void {
    this.received = this.received.length === 0 ? d : Buffer.concat([this.received, d]);
    const reply = takeReply(this.received);
    if (reply === undefined) return;
    this.received = this.received.subarray(reply.length + 1);
    const w = this.waiter;
    this.waiter = undefined;
    w?.(reply);
  }
}

async function measure(pairs: number, w: Workload, socketPath: string, filters: { keepAlive: Filter; perMessage: Filter }, session: RawSession) {
  // The bytes the filter streams (mbox From line, rebuilt header block, body), so every path scans the same.
  const headerBlock = Buffer.from(`${w.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`);
  const message = Buffer.concat([Buffer.from(MBOX_FROM_LINE, 'latin1'), headerBlock, w.body]);
  const run: Record<Variant, () => Promise<void>> = {
    raw: () => viaRaw(socketPath, message),
    rawSession: () => session.scan(message),
    filter: () => viaFilter(filters.keepAlive, w),
    filterPerMessage: () => viaFilter(filters.perMessage, w),
  };
  for (let i = 0; i < WARMUP; i++) for (const v of VARIANTS) await run[v]();
  const ms = Object.fromEntries(VARIANTS.map((v) => [v, new Float64Array(pairs)])) as Record<Variant, Float64Array>;
  const cpu = Object.fromEntries(VARIANTS.map((v) => [v, 0])) as Record<Variant, number>;
  for (let i = 0; i < pairs; i++) {
    for (let k = 0; k < VARIANTS.length; k++) {
      const v = VARIANTS[(i + k) % VARIANTS.length]!;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await run[v]();
      ms[v][i] = performance.now() - t0;
      const c = process.cpuUsage(c0);
      cpu[v] += (c.user + c.system) / 1000;
    }
  }
  const diffMs = (a: Variant, b: Variant): number => median(ms[a].map((x, i) => x - ms[b][i]!));
  return {
    p50Ms: Object.fromEntries(VARIANTS.map((v) => [v, median(ms[v])])) as Record<Variant, number>,
    /** This process's CPU per message (ms): what each path costs here, independent of clamd. */
    cpuMs: Object.fromEntries(VARIANTS.map((v) => [v, cpu[v] / pairs])) as Record<Variant, number>,
    diffMs,
    overheadPct: (a: Variant, b: Variant): number => (diffMs(a, b) / median(ms[b])) * 100,
  };
}

function median(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  return (sorted[(sorted.length - 1) >> 1]! + sorted[sorted.length >> 1]!) / 2;
}

/** clamd with a one-signature database in a temporary directory, on a unix socket; ready when it answers PING. */
async function startPrivateClamd(): Promise<PrivateClamd> {
  const dir = await mkdtemp(join(tmpdir(), 'mailgate-bench-clamd-'));
  const db = join(dir, 'db');
  await mkdir(db);
  await writeFile(join(db, 'eicar.ndb'), `Eicar-Test-Signature:0:*:${Buffer.from(EICAR, 'latin1').toString('hex')}\n`);
  const socketPath = join(dir, 'clamd.sock');
  const conf = join(dir, 'clamd.conf');
  await writeFile(
    conf,
    [`DatabaseDirectory ${db}`, `LocalSocket ${socketPath}`, 'LocalSocketMode 600', 'Foreground true', `LogFile ${join(dir, 'clamd.log')}`, `PidFile ${join(dir, 'clamd.pid')}`, 'SelfCheck 0', 'Bytecode false', ''].join('\n'),
  );
  const child: ChildProcess = spawn(CLAMD, [`--config-file=${conf}`], { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => (exited = true));
  const spawnError = new Promise<never>((_, reject) => child.once('error', (err) => reject(new Error(`cannot start ${CLAMD}: ${err.message}`))));
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(3000)]);
      if (!exited) child.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  try {
    for (;;) {
      if (exited) throw new Error(`clamd exited during start (see ${join(dir, 'clamd.log')})`);
      if (await Promise.race([ping(socketPath), spawnError])) break;
      if (Date.now() > deadline) throw new Error('clamd did not answer PING within 30 s');
      await sleep(50);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { socketPath, stop };
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ path: socketPath });
    let received = Buffer.alloc(0);
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => socket.write(ZPING));
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      if (received.includes(0)) done(received.toString('latin1', 0, received.indexOf(0)) === 'PONG');
    });
    socket.on('error', () => done(false));
  });
}
