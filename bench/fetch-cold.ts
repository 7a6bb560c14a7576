/**
 * `npm run bench:build && node [--cpu-prof] .tmp/bench-build/bench/fetch-cold.js [--messages N]`: the cold
 * `FETCH 1:N (ENVELOPE BODYSTRUCTURE)` of bench:imap alone, in this process, on the bench:imap corpus
 * (.tmp/bench-imap/corpus-s1-n100000): each run on a fresh hard-linked copy whose index is built first (as
 * the bench's SELECT does), then the texts of the first N UIDs loaded as FETCH's writeTextsOnly does (batches
 * of 256, one response string each; the texts saved per batch, where FETCH saves them after its reply). The
 * measured part is the first parse of the process's life, as in the bench: JIT warm-up included; then the
 * next N UIDs (index cold, JIT warm). Prints wall time, the process's CPU and each thread's CPU over the
 * phase (the main thread, V8's workers, libuv's pool), so work off the main thread shows. `--profile DIR`:
 * a CPU profile of the first phase alone (bench:profile-top reads it); FETCH_COLD_MARK=1 prints markers
 * around the phases (for --trace-gc / --trace-opt output). Figures, not assertions.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { loadFetchTexts } from '../src/imap/fetch/text-cache.js';
import { INDEX_FILE } from '../src/store/mailbox/index-db.js';
import { openMaildirMailboxStore } from '../src/store/mailbox/open.js';
import { Session } from 'node:inspector/promises';
import { benchOptions, count, dir } from './options.js';

const o = benchOptions('bench:fetch-cold', {
  messages: count(1000, 'messages fetched (UIDs 1:N)'),
  seed: count(1, 'corpus seed'),
  corpus: count(100_000, 'corpus size (the cached bench:imap corpus of that size)'),
  profile: dir('write a V8 CPU profile of the measured phase alone into DIR (fetch-cold-PID.cpuprofile)'),
});

const run = promisify(execFile);

/** CPU ms of each thread of this process, by thread name (/proc/self/task/TID/stat utime+stime). */
async function threadCpu(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const tid of await readdir('/proc/self/task')) {
    const stat = await readFile(`/proc/self/task/${tid}/stat`, 'utf8').catch(() => '');
    if (stat === '') continue;
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (Number(f[11]) + Number(f[12])) * 10;
    const key = tid === String(process.pid) ? 'main' : `${name}#${tid}`;
    out.set(key, (out.get(key) ?? 0) + ms);
  }
  return out;
}

const corpus = resolve('.tmp', 'bench-imap', `corpus-s${o.seed}-n${o.corpus}`);
const base = resolve('.tmp', 'fetch-cold', `base-s${o.seed}-n${o.corpus}`);
const options = { hostname: 'bench' };

// Once: a linked copy of the corpus with its index built (the bench's cold SELECT), kept for later runs.
if ((await readdir(base).catch(() => [])).length === 0) {
  await mkdir(resolve(base, '..'), { recursive: true });
  await run('cp', ['-al', corpus, base]);
  const store = openMaildirMailboxStore({ ...options, maildirOf: () => base });
  const user = await store.openUser('bench');
  const box = await user.open('INBOX', 'read-write');
  await box.snapshot();
  await box.close();
  await user.release();
  await store.close();
}

// This run: a fresh linked copy, the index copied (not linked: it is written).
const maildir = resolve('.tmp', 'fetch-cold', `run-${process.pid}`);
await run('cp', ['-al', base, maildir]);
for (const name of await readdir(base)) {
  if (!name.startsWith(INDEX_FILE)) continue;
  await rm(join(maildir, name));
  await copyFile(join(base, name), join(maildir, name));
}
try {
  const store = openMaildirMailboxStore({ ...options, maildirOf: () => maildir });
  const user = await store.openUser('bench');
  const box = await user.open('INBOX', 'read-write');
  const snap = await box.snapshot();
  const all = snap.records.map((r) => r.uid);
  const uids = all.slice(0, o.messages);

  /** The texts of `list` as writeTextsOnly loads them; wall, CPU and per-thread CPU printed. */
  const phase = async (label: string, list: readonly number[], profile: string | undefined): Promise<void> => {
    const inspector = profile === undefined ? undefined : new Session();
    if (inspector !== undefined) {
      inspector.connect();
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.setSamplingInterval', { interval: 100 });
      await inspector.post('Profiler.start');
    }
    const threads0 = await threadCpu();
    if (process.env['FETCH_COLD_MARK'] !== undefined) console.log(`--- ${label} start`);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let bytes = 0;
    for (let b = 0; b < list.length; b += 256) {
      const batch = list.slice(b, b + 256);
      const texts = await loadFetchTexts(box, batch);
      let lines = '';
      for (const [i, uid] of batch.entries()) {
        const t = texts.get(uid);
        if (t !== undefined) lines += `* ${b + i + 1} FETCH (ENVELOPE ${t.envelope} BODYSTRUCTURE ${t.bodystructure})\r\n`;
      }
      bytes += Buffer.from(lines, 'latin1').length;
      await new Promise<void>((r) => setImmediate(r));
    }
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (process.env['FETCH_COLD_MARK'] !== undefined) console.log(`--- ${label} end`);
    const threads1 = await threadCpu();
    if (inspector !== undefined && profile !== undefined) {
      const { profile: data } = await inspector.post('Profiler.stop');
      const file = join(profile, `fetch-cold-${process.pid}.cpuprofile`);
      await mkdir(profile, { recursive: true });
      await writeFile(file, JSON.stringify(data));
      console.log(`  profile: ${file}`);
      inspector.disconnect();
    }
    const main = (threads1.get('main') ?? 0) - (threads0.get('main') ?? 0);
    const others = [...threads1].filter(([k]) => k !== 'main').reduce((n, [k, v]) => n + v - (threads0.get(k) ?? 0), 0);
    console.log(
      `${label} (${list.length} messages): ${wall.toFixed(1)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU ` +
        `(user ${(cpu.user / 1000).toFixed(0)}, sys ${(cpu.system / 1000).toFixed(0)}; main thread ${main}, other threads ${others}, 10 ms ticks), ${bytes} bytes of responses`,
    );
  };
  await phase('cold FETCH (ENVELOPE BODYSTRUCTURE), first of the process', uids, o.profile);
  await phase('cold FETCH of the next ones, JIT warm', all.slice(o.messages, 2 * o.messages), undefined);
  const warm0 = performance.now();
  await loadFetchTexts(box, uids);
  console.log(`  warm (texts cached): ${(performance.now() - warm0).toFixed(1)} ms`);
  await box.close();
  await user.release();
  await store.close();
} finally {
  await rm(maildir, { recursive: true, force: true });
}
