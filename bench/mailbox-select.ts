/**
 * `npm run bench:build && node .tmp/bench-build/bench/mailbox-select.js [--messages N]`: what the Maildir
 * store costs on a large mailbox (100,000 messages by default) — the first indexing of a Maildir it has
 * never seen, SELECT (snapshot) once indexed in a fresh process state, NOOP (changesSince with nothing
 * new), SELECT after another program changed a directory (a full rescan), a STORE on 1,000 messages and
 * FETCH details of 1,000. Files in Dovecot's names (S=, W=) written straight into cur/; state in a
 * scratch directory under .tmp/ (a real disk). Figures, not assertions.
 */
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { openMaildirMailboxStore } from '../src/store/mailbox/open.js';
import { benchOptions, count } from './options.js';

const o = benchOptions('bench:mailbox-select', {
  messages: count(100_000, 'messages in the mailbox'),
});

async function timed<T>(label: string, step: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await step();
  console.log(`${label.padEnd(52)} ${(performance.now() - started).toFixed(0).padStart(7)} ms`);
  return result;
}

async function age(maildir: string): Promise<void> {
  const past = new Date(Date.now() - 60_000);
  for (const sub of ['new', 'cur']) await utimes(join(maildir, sub), past, past);
}

const base = resolve('.tmp');
await mkdir(base, { recursive: true });
const dir = await mkdtemp(join(base, 'bench-mailbox-'));
const maildir = join(dir, 'alice');
try {
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(maildir, sub), { recursive: true });
  await timed(`write ${o.messages} message files`, async () => {
    const body = `From: a@example.org\nSubject: bench\n\n${'x'.repeat(400)}\n`;
    const size = Buffer.byteLength(body);
    const vsize = size + 4;
    for (let i = 0; i < o.messages; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, o.messages - i) }, (_, k) => {
          const n = i + k;
          const flags = n % 3 === 0 ? 'S' : n % 7 === 0 ? 'FS' : '';
          return writeFile(join(maildir, 'cur', `${1_700_000_000 + Math.floor(n / 1000)}.M${n % 1000}P1.bench,S=${size},W=${vsize}:2,${flags}`), body);
        }),
      );
    }
  });
  await age(maildir);
  const options = { maildirOf: () => maildir, hostname: 'bench' };

  let store = openMaildirMailboxStore(options);
  let user = await store.openUser('alice');
  let box = await user.open('INBOX', 'read-write');
  const first = await timed('first SELECT (index built from the files)', () => box.snapshot());
  console.log(`  ${first.records.length} records, UIDNEXT ${first.status.uidNext}`);
  await box.close();
  await user.release();
  await store.close();

  store = openMaildirMailboxStore(options);
  user = await timed('openUser (index opened, quick_check)', () => store.openUser('alice'));
  box = await user.open('INBOX', 'read-write');
  const warm = await timed('SELECT once indexed (fresh process state)', () => box.snapshot());
  const db = (await import('../src/store/mailbox/index-db.js')).openIndexDb(maildir);
  await timed('  of which: the index query alone', () => Promise.resolve(db.records.all(1)));
  db.close();
  await timed('SELECT again', () => box.snapshot());
  await timed('NOOP (changesSince, nothing new)', () => box.changesSince(warm.status.highestModseq));
  await timed('STATUS', () => user.status('INBOX'));
  const some = warm.records.slice(0, 1000).map((r) => r.uid);
  await timed('STORE +FLAGS \\Flagged on 1,000 (renames)', () => box.setFlags(some, { mode: 'add', flags: ['\\Flagged'] }));
  await timed('FETCH details of 1,000 (first: stat for dates)', () => box.details(some));
  await timed('FETCH details of 1,000 (dates cached)', () => box.details(some));
  await writeFile(join(maildir, 'new', '1800000000.M1P2.other,S=3,W=4'), 'x\ny');
  await timed('NOOP after another program delivered (new/ read)', () => box.changesSince(warm.status.highestModseq));
  await age(maildir);
  await timed('NOOP after another program renamed in cur/ (rescan)', () => box.changesSince(warm.status.highestModseq));
  await box.close();
  await user.release();
  await store.close();
  const rss = process.memoryUsage().rss / 1024 / 1024;
  console.log(`RSS at the end: ${rss.toFixed(0)} MiB`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
