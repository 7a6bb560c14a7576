/**
 * bench:filters — the spamd part: what the spamassassin filter adds per message over calling spamd
 * directly. Starts a private offline spamd (spamd -L on 127.0.0.1), then scans the same messages
 * two ways, interleaved so that spamd's own drift hits both alike:
 *   direct — a spamc-equivalent raw client: PROCESS SPAMC/1.5, half-close, read to the end;
 *   filter — a whole session through the built-in filter (negotiate, MAIL, RCPT, headers, body,
 *            end of message), which sends the same bytes and turns the answer into milter changes.
 * Prints the mean and median wall time per message of each, the overhead (mean ratio, and the
 * median of the per-pair ratios, which spamd's own noise disturbs least; target: under 5 %), and
 * this process's CPU per message in each mode (the filter's own cost, free of spamd's noise).
 */
import { withStageTimeouts } from '../../src/chain/stage-timeouts.js';
import { DEFAULT_BUILTIN_TIMEOUTS } from '../../src/config/defaults.js';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SPAMASSASSIN_DEFAULTS, type SpamAssassinOptions } from '../../src/config/builtins/spamassassin.js';
import { createSpamAssassinFilter } from '../../src/filters/spamassassin/index.js';
import type { FilterContext } from '../../src/filters/context.js';
import { FULL_OFFER } from '../../src/mail/capabilities.js';
import type { Filter, SessionContext } from '../../src/mail/filter.js';
import { silentLogger } from '../../src/mail/logger.js';
import { NO_MACROS } from '../../src/mail/macros.js';
import { fmt, percentile } from '../stats.js';

const SPAMD = '/usr/sbin/spamd';
const RULES_DIR = '/usr/share/spamassassin';
const SITE_DIR = '/etc/spamassassin';
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
const WARMUP_ROUNDS = 3;
/** Measuring stops after this long even if the rounds are not done, so the part stays under ~2 minutes. */
const TIME_BUDGET_MS = 90_000;

interface BenchMessage {
  readonly label: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
}

function benchMessages(): BenchMessage[] {
  const headers = (subject: string, id: string): [string, string][] => [
    ['Received', 'from client.example.net (client.example.net [192.0.2.10])\n\tby mx.example.org (Postfix) with ESMTP id 4ABCD1234;\n\tMon, 24 Nov 2025 10:00:00 +0000'],
    ['From', 'Alice <alice@example.net>'],
    ['To', 'Bob <bob@example.org>'],
    ['Subject', subject],
    ['Date', 'Mon, 24 Nov 2025 10:00:00 +0000'],
    ['Message-ID', `<${id}@example.net>`],
    ['MIME-Version', '1.0'],
    ['Content-Type', 'text/plain; charset=us-ascii'],
  ];
  const paragraph = 'The quarterly report is attached below; please review the figures before the meeting on Thursday.\r\n';
  return [
    { label: 'ham 0.5 KB', headers: headers('lunch', 'ham-small'), body: Buffer.from('Hello Bob,\r\n\r\nsee you at lunch tomorrow at noon.\r\n\r\nAlice\r\n') },
    { label: 'ham 5 KB', headers: headers('quarterly report', 'ham-large'), body: Buffer.from(paragraph.repeat(50)) },
    { label: 'GTUBE', headers: [...headers('offer', 'spam'), ['X-Spam-Flag', 'NO']], body: Buffer.from(`Buy now.\r\n\r\n${GTUBE}\r\n`) },
  ];
}

/** The message as the filter hands it to spamd: X-Spam-* withheld, values as given. */
function wireBytes(m: BenchMessage): Buffer {
  const head = m.headers
    .filter(([n]) => !n.toLowerCase().startsWith('x-spam-'))
    .map(([n, v]) => `${n}: ${v.replace(/\r?\n/g, '\r\n')}\r\n`)
    .join('');
  return Buffer.concat([Buffer.from(`${head}\r\n`), m.body]);
}

/** What spamc does: one connection, the request, half-close, everything spamd says until it closes. */
function spamcProcess(port: number, message: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.end(Buffer.concat([Buffer.from(`PROCESS SPAMC/1.5\r\nContent-length: ${message.length}\r\n\r\n`), message]));
    });
    socket.setTimeout(60_000, () => socket.destroy(new Error('spamd: no answer within 60 s')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('error', reject);
    socket.once('end', () => {
      const reply = Buffer.concat(chunks);
      if (!reply.subarray(0, 18).toString('latin1').startsWith('SPAMD/1.1 0 EX_OK')) reject(new Error(`spamd: ${reply.subarray(0, 80).toString('latin1')}`));
      else resolve(reply);
      socket.destroy();
    });
  });
}

const SESSION_CONTEXT: SessionContext = { macros: NO_MACROS, progress: () => Promise.resolve() };

/** One message through a filter session, as the chain or the milter server drives it. */
async function filterSession(filter: Filter, m: BenchMessage): Promise<void> {
  const s = await filter.open();
  await s.negotiate(FULL_OFFER);
  await s.connect?.({ hostname: 'client.example.net', family: 'inet', address: '192.0.2.10', port: 40000 }, SESSION_CONTEXT);
  await s.mail?.('<alice@example.net>', [], SESSION_CONTEXT);
  await s.rcpt?.('<bob@example.org>', [], SESSION_CONTEXT);
  for (const [n, v] of m.headers) await s.header?.(n, v, SESSION_CONTEXT);
  await s.body?.(m.body, SESSION_CONTEXT);
  const eom = await s.endOfMessage?.(SESSION_CONTEXT);
  if (eom === undefined || eom.reply.status !== 'continue') throw new Error(`filter answered ${eom?.reply.status ?? 'nothing'} (spamd failed?)`);
  await s.close?.();
}

interface PrivateSpamd {
  readonly port: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((res) => server.close(() => res()));
  return port;
}

/** spamd -L (no network tests), private rules/site dirs and home in a temp dir, loopback only. */
async function startSpamd(): Promise<PrivateSpamd> {
  const dir = await mkdtemp(join(tmpdir(), 'mailgate-bench-spamd-'));
  await chmod(dir, 0o755); // spamd's children run as nobody and read the site dir
  const site = join(dir, 'site');
  const home = join(dir, 'home');
  await mkdir(site, { mode: 0o755 });
  await mkdir(home, { mode: 0o755 });
  for (const f of await readdir(SITE_DIR)) if (f.endsWith('.pre')) await copyFile(join(SITE_DIR, f), join(site, f));
  await writeFile(join(site, 'local.cf'), 'use_bayes 0\nbayes_auto_learn 0\n', { mode: 0o644 });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }).trim());
    await chown(home, id('-u'), id('-g'));
  }
  const port = await freePort();
  const child: ChildProcess = spawn(
    SPAMD,
    [
      '-L',
      '-x',
      ...(asRoot ? ['-u', 'nobody'] : []),
      `--configpath=${RULES_DIR}`,
      `--siteconfigpath=${site}`,
      `--helper-home-dir=${home}`,
      `--listen=127.0.0.1:${port}`,
      '--allowed-ips=127.0.0.1',
      '--max-children=1',
      '--min-children=1',
      `--pidfile=${join(dir, 'spamd.pid')}`,
      '--syslog=stderr',
    ],
    { env: { ...process.env, HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let output = '';
  child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const started = new RegExp(`server started on .*:${port}\\b`);
  const deadline = Date.now() + 60_000;
  while (!started.test(output)) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`spamd did not start on 127.0.0.1:${port}:\n${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, stop };
}

interface ModeStats {
  readonly ms: number[];
  cpuUs: number;
}

function describeMode(name: string, s: ModeStats): string {
  const sorted = Float64Array.from(s.ms).sort();
  const mean = s.ms.reduce((a, b) => a + b, 0) / s.ms.length;
  return `${name.padEnd(8)} ${fmt(mean, 2).padStart(8)} ${fmt(percentile(sorted, 50), 2).padStart(8)} ${fmt(percentile(sorted, 90), 2).padStart(8)} ${fmt(s.cpuUs / s.ms.length / 1000, 3).padStart(10)}`;
}

/** `maxRounds`: rounds of (every message × both modes), bench:filters --rounds: 60–350 ms per scan depending on the machine's load. */
export async function runSpamdBench(maxRounds: number): Promise<void> {
  process.stdout.write('\n== spamd: spamassassin filter vs a direct spamc-equivalent call ==\n');
  let spamd: PrivateSpamd;
  try {
    spamd = await startSpamd();
  } catch (err) {
    process.stdout.write(`spamd: not run: ${(err as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  try {
    const options: SpamAssassinOptions = { ...SPAMASSASSIN_DEFAULTS, skipNetworks: [], spamd: `inet:${spamd.port}@127.0.0.1`, timeout: 60 };
    const unused = (): never => {
      throw new Error('unused');
    };
    const ctx: FilterContext = { logger: silentLogger, dataDir: tmpdir(), now: Date.now, resolver: unused as unknown as FilterContext['resolver'], spf: unused as unknown as FilterContext['spf'] };
    // Wrapped as the manager runs a built-in child, with its stage timeouts.
    const filter = withStageTimeouts(createSpamAssassinFilter('spamassassin', options, ctx), DEFAULT_BUILTIN_TIMEOUTS);
    const messages = benchMessages().map((m) => ({ m, wire: wireBytes(m) }));
    const direct: ModeStats = { ms: [], cpuUs: 0 };
    const viaFilter: ModeStats = { ms: [], cpuUs: 0 };
    const measure = async (stats: ModeStats | undefined, run: () => Promise<unknown>): Promise<void> => {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await run();
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      if (stats === undefined) return;
      stats.ms.push(ms);
      stats.cpuUs += cpu.user + cpu.system;
    };
    const t0 = performance.now();
    let measureStart = t0;
    let rounds = 0;
    for (let round = 0; round < WARMUP_ROUNDS + maxRounds; round++) {
      const warm = round < WARMUP_ROUNDS;
      if (round === WARMUP_ROUNDS) measureStart = performance.now();
      if (!warm && performance.now() - measureStart > TIME_BUDGET_MS) break;
      if (!warm) rounds++;
      for (const { m, wire } of messages) {
        // Alternate which mode goes first, so neither always follows the other.
        const pair = [
          () => measure(warm ? undefined : direct, () => spamcProcess(spamd.port, wire)),
          () => measure(warm ? undefined : viaFilter, () => filterSession(filter, m)),
        ];
        if (round % 2 === 1) pair.reverse();
        for (const step of pair) await step();
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const mean = (s: ModeStats) => s.ms.reduce((a, b) => a + b, 0) / s.ms.length;
    // Same message, same round: the pair shares spamd's state and the machine's load at that moment.
    const pairRatios = Float64Array.from(viaFilter.ms.map((f, i) => f / direct.ms[i]!)).sort();
    process.stdout.write(`${rounds} rounds × ${messages.length} messages (${messages.map((x) => x.m.label).join(', ')}) per mode, ${fmt(seconds, 1)} s with warm-up\n`);
    process.stdout.write(`${'mode'.padEnd(8)} ${'mean ms'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p90 ms'.padStart(8)} ${'cpu ms/msg'.padStart(10)}\n`);
    process.stdout.write(`${describeMode('direct', direct)}\n${describeMode('filter', viaFilter)}\n`);
    const ratio = mean(viaFilter) / mean(direct);
    const medianRatio = percentile(pairRatios, 50);
    const cpuExtra = (viaFilter.cpuUs - direct.cpuUs) / viaFilter.ms.length / 1000;
    process.stdout.write(
      `filter/direct: mean ${fmt(ratio, 4)} (${fmt((ratio - 1) * 100, 2)} % overhead), median of paired ratios ${fmt(medianRatio, 4)} (${fmt((medianRatio - 1) * 100, 2)} %); ` +
        `filter CPU in this process: ${cpuExtra >= 0 ? '+' : ''}${fmt(cpuExtra, 3)} ms/message (${fmt((cpuExtra / mean(direct)) * 100, 2)} % of a direct scan)\n`,
    );
    process.stdout.write(`target: under 5 % (median of paired ratios) — ${medianRatio < 1.05 ? 'met' : 'NOT met'}\n`);
  } finally {
    await spamd.stop();
  }
}
