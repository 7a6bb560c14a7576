/**
 * `npm run bench:imap` — the IMAP server against Dovecot on this machine (issue 11, "Performance"). A
 * seeded corpus of N messages (bench/imap/corpus.ts, cached in .tmp/bench-imap/) is hard-linked into a
 * private Dovecot's Maildir and into `mailgate start`'s; each server in turn (never both at once) answers
 * the same script from the same minimal pipelining client (bench/imap/measure.ts): SELECT cold and warm,
 * UID FETCH 1:* (FLAGS), FETCH 1:1000 (ENVELOPE BODYSTRUCTURE) cold and warm, SEARCH on a header and on
 * body text, APPEND of 1,000 messages, 50 concurrent clients in login-select-fetch-logout loops, and the
 * memory of 500 idle authenticated connections. Prints each figure with the ratio Mailgate/Dovecot and a
 * ✗ where Mailgate is more than 1.5x slower (memory: more than 0.1x Dovecot's). A benchmark, exit 0.
 * Needs root (Dovecot as in the interop tests) and, for Mailgate, `npm run build`.
 * Options: `npm run bench:imap -- --help`.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { benchOptions, choice, count, dir } from './options.js';
import { ensureCorpus } from './imap/corpus.js';
import { sha512CryptHash, startDovecotUnderTest } from './imap/dovecot.js';
import { startMailgateUnderTest } from './imap/mailgate.js';
import { runScript, type Figure } from './imap/measure.js';
import { BENCH_USER, type ImapUnderTest } from './imap/target.js';
import { fmt, table } from './stats.js';

const o = benchOptions('bench:imap', {
  messages: count(100_000, 'messages in the mailbox'),
  seed: count(1, 'corpus seed (a corpus is cached per seed and size)'),
  repeat: count(3, 'runs per warm figure (the median is printed)'),
  append: count(1000, 'messages APPENDed'),
  clients: count(50, 'concurrent clients'),
  loops: count(10, 'login-select-fetch-logout loops per concurrent client'),
  idle: count(500, 'idle authenticated connections for the memory figure'),
  only: choice(['dovecot', 'mailgate'], 'measure one side only'),
  hash: choice(['own', 'sha512-crypt'], "password storage: each server's default (Mailgate's user add: scrypt; Dovecot: doveadm pw's SHA512-CRYPT), or that SHA512-CRYPT hash for both (user import)", 'own'),
  profile: dir("write a V8 CPU profile of Mailgate's process into DIR (figures are then perturbed)"),
});

/** Issue 11's targets: within 1.5x of Dovecot on every timed line; memory a tenth of Dovecot's. */
const TARGET_RATIO = 1.5;
const TARGET_MEMORY = 0.1;

const say = (s: string): void => void process.stderr.write(`bench:imap: ${s}\n`);

/** Reads every corpus file once, so neither server pays for disk reads the other does not. */
async function warmPageCache(dirPath: string): Promise<void> {
  await promisify(execFile)('/bin/sh', ['-c', 'find "$0" -type f -exec cat {} + > /dev/null', dirPath], { maxBuffer: 1 << 20 });
}

async function runSide(name: string, start: () => Promise<ImapUnderTest>, corpusDir: string): Promise<Figure[] | string> {
  await warmPageCache(corpusDir);
  say(`${name}: starting`);
  let t: ImapUnderTest;
  try {
    t = await start();
  } catch (err) {
    return `did not start: ${(err as Error).message.split('\n').slice(0, 4).join(' / ')}`;
  }
  try {
    return await runScript(t, { repeat: o.repeat, appendCount: o.append, clients: o.clients, loops: o.loops, idle: o.idle, seed: o.seed, say });
  } catch (err) {
    return `failed: ${(err as Error).message.split('\n').slice(0, 4).join(' / ')}`;
  } finally {
    await t.stop();
  }
}

function show(f: Figure | undefined): string {
  if (f === undefined) return '-';
  if (!Number.isFinite(f.value)) return 'failed';
  if (f.unit === 's') return `${fmt(f.value / 1000, 2)} s`;
  if (f.unit === 'kB') return `${fmt(f.value, 0)} kB`;
  return `${fmt(f.value, f.value < 100 ? 1 : 0)} ms`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    say('must run as root (a private Dovecot, as in the interop tests)');
    process.exit(2);
  }
  const started = performance.now();
  const load0 = loadavg();
  const corpus = await ensureCorpus(join(process.cwd(), '.tmp', 'bench-imap'), o.seed, o.messages, BENCH_USER, say);
  say(`corpus: ${fmt(corpus.messages, 0)} messages, ${fmt(corpus.bytes / 1e6, 0)} MB in ${corpus.dir}`);
  const hash = sha512CryptHash();
  const results = new Map<string, Figure[] | string>();
  if (o.only !== 'mailgate') results.set('dovecot', await runSide('dovecot', () => startDovecotUnderTest(corpus.dir, hash), corpus.dir));
  if (o.only !== 'dovecot') results.set('mailgate', await runSide('mailgate', () => startMailgateUnderTest(corpus.dir, o.hash === 'own' ? undefined : hash, o.profile), corpus.dir));
  const load1 = loadavg();

  const dov = results.get('dovecot');
  const mg = results.get('mailgate');
  const byKey = (r: Figure[] | string | undefined, key: string): Figure | undefined => (Array.isArray(r) ? r.find((f) => f.key === key) : undefined);
  const keys = (Array.isArray(dov) ? dov : Array.isArray(mg) ? mg : []).map((f) => f);
  const rows: string[][] = [];
  for (const f of keys) {
    const d = byKey(dov, f.key);
    const m = byKey(mg, f.key);
    const ratio = d !== undefined && m !== undefined && d.value > 0 ? m.value / d.value : NaN;
    const limit = f.unit === 'kB' ? TARGET_MEMORY : TARGET_RATIO;
    const cpuRatio = d !== undefined && m !== undefined && d.cpuMs > 0 ? m.cpuMs / d.cpuMs : NaN;
    rows.push([
      f.label,
      show(m),
      show(d),
      Number.isFinite(ratio) ? `${fmt(ratio, 2)}x` : '-',
      Number.isFinite(ratio) && ratio > limit ? '✗' : '',
      m !== undefined && Number.isFinite(m.cpuMs) ? fmt(m.cpuMs, 0) : '-',
      d !== undefined && Number.isFinite(d.cpuMs) ? fmt(d.cpuMs, 0) : '-',
      Number.isFinite(cpuRatio) ? `${fmt(cpuRatio, 2)}x` : '-',
      [m?.note && `M: ${m.note}`, d?.note && `D: ${d.note}`].filter(Boolean).join('; '),
    ]);
  }
  console.log('');
  console.log(`Mailgate IMAP benchmark: node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown CPU'})`);
  console.log(
    `${fmt(corpus.messages, 0)} messages (${fmt(corpus.bytes / 1e6, 0)} MB, seed ${o.seed}), warm figures median of ${o.repeat}, ` +
      `passwords: ${o.hash === 'own' ? 'Mailgate scrypt (user add), Dovecot SHA512-CRYPT' : 'SHA512-CRYPT for both'}; ` +
      `load average ${load0.map((l) => l.toFixed(2)).join(' ')} at start, ${load1.map((l) => l.toFixed(2)).join(' ')} at end`,
  );
  console.log('');
  console.log(table(['figure', 'Mailgate', 'Dovecot', 'ratio', '', 'M CPU ms', 'D CPU ms', 'CPU ratio', 'answers'], rows));
  for (const [name, r] of results) if (typeof r === 'string') console.log(`${name}: ${r}`);
  console.log(`(ratio: Mailgate / Dovecot; ✗: over ${TARGET_RATIO}x, or for memory over ${TARGET_MEMORY}x. CPU: the server's own, its process tree for Dovecot)`);
  console.log(`(total bench time ${fmt((performance.now() - started) / 1000, 1)} s)`);
}

await main();
