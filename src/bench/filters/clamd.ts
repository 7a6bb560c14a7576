/**
 * bench:filters — the clamd part: what the clamav filter adds per message over calling clamd
 * directly (target: under 5 %). A private clamd (one EICAR .ndb signature, offline, unix socket) is
 * started for the run. On the same messages:
 *   raw    — a minimal zINSTREAM client: connect, send the message bytes, read the verdict;
 *   filter — a clamav filter session driven as the chain drives it: negotiate, headers, body
 *            chunks, end of message (collect, rebuild, stream, verdict, X-Virus-* headers).
 * Both run sequentially, message by message in pairs (order alternating) so load swings on a shared
 * machine hit both alike; the overhead is the median paired difference over the median raw time.
 * The node process's CPU per message is shown too: the filter's own work, whatever clamd's speed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClamavOptions } from '../../config/builtins/clamav.js';
import { createClamavFilter } from '../../filters/clamav/index.js';
import { encodeInstream, takeReply, ZPING } from '../../filters/clamav/protocol.js';
import { MBOX_FROM_LINE } from '../../filters/clamav/session.js';
import { createDnsResolver } from '../../filters/shared/dns.js';
import { createSpfChecker } from '../../filters/shared/spf.js';
import { FULL_OFFER } from '../../mail/capabilities.js';
import type { Filter, SessionContext } from '../../mail/filter.js';
import { silentLogger } from '../../mail/logger.js';
import { NO_MACROS } from '../../mail/macros.js';
import { fmt, summarize, table } from '../stats.js';

const CLAMD = '/usr/sbin/clamd';
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const PAIRS = 2000;
const BLOCK = 100;
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

export async function runClamdBench(): Promise<void> {
  process.stdout.write('clamd: per-message overhead of the clamav filter over calling clamd directly\n');
  const clamd = await startPrivateClamd();
  try {
    const filter = benchFilter(clamd.socketPath);
    const rows: string[][] = [];
    for (const w of [workload('4 KiB', 4 * 1024), workload('256 KiB', 256 * 1024)]) {
      const r = await measure(w, clamd.socketPath, filter);
      rows.push([
        w.name,
        fmt(r.raw.p50Ms, 3),
        fmt(r.filter.p50Ms, 3),
        fmt(r.medianDiffMs, 3),
        `${fmt(r.pairedPct, 1)} %`,
        `${fmt(r.bestBlockPct, 1)} %`,
        r.pairedPct < 5 ? 'yes' : 'NO',
        `${fmt(r.cpuRawMs, 3)} / ${fmt(r.cpuFilterMs, 3)}`,
      ]);
    }
    process.stdout.write(
      `${table(['message', 'raw p50 ms', 'filter p50 ms', 'paired diff ms', 'overhead', 'best-block overhead', '< 5 %', 'node cpu ms/msg raw / filter'], rows)}\n` +
        `(${PAIRS} pairs per size, sequential, order alternating; overhead = median(filter − raw) / median(raw); ` +
        `best-block = lowest ${BLOCK}-message mean, filter vs raw; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} CPUs)\n`,
    );
  } finally {
    await clamd.stop();
  }
}

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

function benchFilter(socketPath: string): Filter {
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
  };
  const resolver = createDnsResolver(['127.0.0.1']);
  return createClamavFilter('clamav', options, { logger: silentLogger, dataDir: tmpdir(), now: Date.now, resolver, spf: createSpfChecker(resolver) });
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

async function measure(w: Workload, socketPath: string, filter: Filter) {
  // The bytes the filter streams (mbox From line, rebuilt header block, body), so both scan the same.
  const headerBlock = Buffer.from(`${w.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`);
  const message = Buffer.concat([MBOX_FROM_LINE, headerBlock, w.body]);
  const raw = () => viaRaw(socketPath, message);
  const viaF = () => viaFilter(filter, w);
  for (let i = 0; i < WARMUP; i++) {
    await raw();
    await viaF();
  }
  // Pairs: each message once each way, the order alternating, so load swings on a shared machine hit
  // both sides of a pair alike; the overhead is the median paired difference over the median raw time.
  const rawMs = new Float64Array(PAIRS);
  const filterMs = new Float64Array(PAIRS);
  const diffs = new Float64Array(PAIRS);
  const cpu = { raw: 0, filter: 0 };
  const timed = async (which: 'raw' | 'filter'): Promise<number> => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await (which === 'raw' ? raw() : viaF());
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpu[which] += (c.user + c.system) / 1000;
    return ms;
  };
  const started = performance.now();
  for (let i = 0; i < PAIRS; i++) {
    if (i % 2 === 0) {
      rawMs[i] = await timed('raw');
      filterMs[i] = await timed('filter');
    } else {
      filterMs[i] = await timed('filter');
      rawMs[i] = await timed('raw');
    }
    diffs[i] = filterMs[i]! - rawMs[i]!;
  }
  const elapsed = performance.now() - started;
  const rawSummary = summarize(rawMs, elapsed / 2);
  const filterSummary = summarize(filterMs, elapsed / 2);
  return {
    raw: rawSummary,
    filter: filterSummary,
    medianDiffMs: median(diffs),
    pairedPct: (median(diffs) / rawSummary.p50Ms) * 100,
    bestBlockPct: (bestBlockMean(filterMs) / bestBlockMean(rawMs) - 1) * 100,
    /** This process's CPU per message (ms): what the filter's own work costs, independent of clamd. */
    cpuRawMs: cpu.raw / PAIRS,
    cpuFilterMs: cpu.filter / PAIRS,
  };
}

/** The lowest mean over blocks of BLOCK consecutive messages: the least disturbed stretch of the run. */
function bestBlockMean(ms: Float64Array): number {
  let best = Number.POSITIVE_INFINITY;
  for (let at = 0; at + BLOCK <= ms.length; at += BLOCK) {
    let sum = 0;
    for (let i = at; i < at + BLOCK; i++) sum += ms[i]!;
    best = Math.min(best, sum / BLOCK);
  }
  return best;
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
