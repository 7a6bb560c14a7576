/**
 * A large folder's first SELECT (first-fill.ts, first-scan.ts): the answer comes once the UIDs are in
 * dovecot-uidlist (fsynced) and the index's counters, before the rows; the rows and the moves to cur/ follow
 * before any later step. The UIDs are the usual ones (arrival order, cur/ winning a base found twice,
 * dot-files and symlinks skipped, a name without S=/W= measured), a crash between the answer and the rows
 * loses nothing (the next open gets the same UIDs back from the uidlist, \Recent is not given again), and
 * a second process SELECTing meanwhile gets the same UIDs.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { lstat, mkdir, readdir, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DEFER_FILL_FROM } from '../../../src/store/mailbox/first-fill.js';
import type { MailboxStore } from '../../../src/store/mailbox/mailbox-store.js';
import { toFlags } from '../../../src/store/mailbox/message-flags.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { parseUidlist } from '../../../src/store/maildir/uidlist.js';
import { builtModule } from '../../dist.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

const CHILD = fileURLToPath(new URL('./fixtures/first-select-child.mjs', import.meta.url));
const N = DEFER_FILL_FROM + 300;
const IN_NEW = 200;

let tmp: TempDir;
let root: string;
const stores: MailboxStore[] = [];

function open(): MailboxStore {
  const store = openMaildirMailboxStore({ maildirOf: () => root, hostname: 'mx.test' });
  stores.push(store);
  return store;
}

beforeEach(async () => {
  tmp = await makeTempDir('first-fill');
  root = join(tmp.path, 'alice');
});
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await tmp.remove();
});

interface Expected {
  /** Bases in the order they get UIDs 1, 2, ... */
  bases: string[];
  /** The new/ copy of the base found twice: left where it is (the old sync leaves it too). */
  stale: string;
  flags: Map<string, string[]>;
}

/**
 * N messages with shuffled arrival times, IN_NEW of them in new/ (no info part), flags and a keyword in
 * cur/ names; a base in both new/ and cur/; a name without S=/W=; a dot-file and a symlink (never
 * messages); with `foreign`, a name without `<secs>.M<usecs>` (sorted by name, after none in particular).
 */
async function makeMaildir(foreign: boolean): Promise<Expected> {
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(root, sub), { recursive: true });
  await writeFile(join(root, 'dovecot-keywords'), '0 todo\n');
  const all: { secs: number; usecs: number; base: string; flags: string[] }[] = [];
  for (let i = 0; i < N; i++) {
    const body = `Subject: ${i}\n\n${i}\n`;
    const size = Buffer.byteLength(body);
    const secs = 1_700_000_000 + ((i * 7919) % N);
    const base = `${secs}.M${i}P1.host,S=${size},W=${size + 3}`;
    if (i < IN_NEW) {
      await writeFile(join(root, 'new', base), body);
      all.push({ secs, usecs: i, base, flags: [] });
      continue;
    }
    const letters = `${i % 3 === 0 ? 'S' : ''}${i % 5 === 0 ? 'a' : ''}`;
    await writeFile(join(root, 'cur', `${base}:2,${letters}`), body);
    all.push({ secs, usecs: i, base, flags: [...(i % 3 === 0 ? ['\\Seen'] : []), ...(i % 5 === 0 ? ['todo'] : [])] });
  }
  // Moved to cur/ by another process during the scan: found in both, cur/'s name (with \Flagged) wins.
  const twice = `${1_700_000_000 + N}.M1P2.host,S=2,W=3`;
  await writeFile(join(root, 'new', twice), 'x\n');
  await writeFile(join(root, 'cur', `${twice}:2,F`), 'x\n');
  all.push({ secs: 1_700_000_000 + N, usecs: 1, base: twice, flags: ['\\Flagged'] });
  // Dropped by another program: no sizes in the name, read once (4 bytes, 6 with CRLF).
  const bare = `${1_700_000_000 + N + 1}.M1P3.other`;
  await writeFile(join(root, 'cur', `${bare}:2,S`), 'x\ny\n');
  all.push({ secs: 1_700_000_000 + N + 1, usecs: 1, base: bare, flags: ['\\Seen'] });
  await writeFile(join(root, 'cur', '.hidden:2,S'), 'x\n');
  await symlink(join(root, 'cur', `${bare}:2,S`), join(root, 'cur', `${1_700_000_000 + N + 2}.M1P4.link,S=4,W=6:2,`));
  all.sort((a, b) => a.secs - b.secs || a.usecs - b.usecs);
  const bases = all.map((m) => m.base);
  if (foreign) {
    await writeFile(join(root, 'cur', 'zz-foreign,S=2,W=3:2,'), 'x\n');
    bases.push('zz-foreign,S=2,W=3');
  }
  const flags = new Map(all.map((m) => [m.base, m.flags] as const));
  if (foreign) flags.set('zz-foreign,S=2,W=3', []);
  return { bases, flags, stale: twice };
}

function indexRows(): { uid: number; base: string; fname: string; in_new: number; flags: number; keywords: string; vsize: number }[] {
  const db = new Database(join(root, 'mailgate-index.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT uid, base, fname, in_new, flags, keywords, vsize FROM message ORDER BY uid').all() as ReturnType<typeof indexRows>;
  } finally {
    db.close();
  }
}

function uidlistBases(): Map<string, number> {
  return new Map(parseUidlist(readFileSync(join(root, 'dovecot-uidlist'), 'latin1')).records.map((r) => [r.base, r.uid] as const));
}

it('answers with the UIDs in the uidlist and the rows still to write; the rows and the moves to cur/ come before the next step', async () => {
  const expected = await makeMaildir(false);
  const n = expected.bases.length;
  const box = await (await open().openUser('alice')).open('INBOX', 'read-write');
  const snap = await box.snapshot();
  // At the answer (the fill waits for the next turn of the event loop).
  const listed = uidlistBases();
  const rowsAtAnswer = indexRows().length;
  expect(rowsAtAnswer).toBe(0);
  expect([...listed.keys()]).toEqual(expected.bases);
  expect([...listed.values()]).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  expect(snap.list.uids).toEqual([...listed.values()]);
  expect(snap.recent).toEqual(snap.list.uids);
  expect(snap.status.uidNext).toBe(n + 1);
  expect(snap.status.messages).toBe(n);
  expect(snap.status.keywords).toEqual(['todo']);
  snap.list.uids.forEach((uid, i) => expect([...snap.list.flags[i]!].sort(), `UID ${uid}`).toEqual([...expected.flags.get(expected.bases[i]!)!].sort()));

  // The next step waits for the fill.
  expect((await box.records([1])).uids).toEqual([1]);
  const rows = indexRows();
  expect(rows.map((r) => r.base)).toEqual(expected.bases);
  expect(rows.map((r) => r.uid)).toEqual(snap.list.uids);
  expect(rows.every((r) => r.in_new === 0)).toBe(true);
  expect(await readdir(join(root, 'new'))).toEqual([expected.stale]);
  const cur = new Set(await readdir(join(root, 'cur')));
  for (const r of rows) expect(cur.has(r.fname), r.fname).toBe(true);
  rows.forEach((r, i) => expect(toFlags(r.flags, r.keywords)).toEqual([...snap.list.flags[i]!]));
  expect(rows.find((r) => r.base.endsWith('.other'))?.vsize).toBe(6);

  // A fresh process state: the same UIDs from the rows, nothing \Recent any more.
  const again = await (await open().openUser('alice')).open('INBOX', 'read-write');
  const later = await again.snapshot();
  expect(later.list.uids).toEqual(snap.list.uids);
  expect(later.recent).toEqual([]);
  expect(later.status.highestModseq).toBe(snap.status.highestModseq);
});

it('EXAMINE fills without moving; names without arrival times sort by name; a later SELECT keeps every UID', async () => {
  const expected = await makeMaildir(true);
  const user = await open().openUser('alice');
  const examined = await (await user.open('INBOX', 'read-only')).snapshot();
  expect(examined.recent).toEqual([]);
  const ordered = [...uidlistBases().keys()];
  expect(new Set(ordered)).toEqual(new Set(expected.bases));
  expect(ordered.length).toBe(expected.bases.length);
  const box = await user.open('INBOX', 'read-write');
  const selected = await box.snapshot();
  expect(selected.list.uids).toEqual(examined.list.uids);
  const rows = indexRows();
  expect(rows.map((r) => r.base)).toEqual(ordered);
  expect(await readdir(join(root, 'new'))).toEqual([expected.stale]);
  // The numeric names keep their arrival order among themselves.
  expect(ordered.filter((b) => b !== 'zz-foreign,S=2,W=3')).toEqual(expected.bases.filter((b) => b !== 'zz-foreign,S=2,W=3'));
});

it('a second process SELECTing while the rows are still to write gets the same UIDs, each file once', async () => {
  const expected = await makeMaildir(false);
  const a = await (await open().openUser('alice')).open('INBOX', 'read-write');
  const b = await (await open().openUser('alice')).open('INBOX', 'read-write');
  const first = await a.snapshot();
  const second = await b.snapshot();
  expect(second.list.uids).toEqual(first.list.uids);
  expect(second.status.uidNext).toBe(first.status.uidNext);
  // Each message is \Recent to one session only.
  expect(second.recent).toEqual([]);
  const text = readFileSync(join(root, 'dovecot-uidlist'), 'latin1');
  expect(text.trimEnd().split('\n').length - 1).toBe(expected.bases.length);
  expect(indexRows().map((r) => r.base)).toEqual(expected.bases);
});

it('a crash between the answer and the rows loses nothing: the next open has the same UIDs and gives no \\Recent again', async () => {
  const expected = await makeMaildir(false);
  const child = spawn(process.execPath, [CHILD, builtModule('store/mailbox/open.js'), root], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
  expect(signal).toBe('SIGKILL');
  const answered = JSON.parse(out) as { uids: number[]; recent: number; uidNext: number };
  expect(answered.uids.length).toBe(expected.bases.length);
  expect(answered.recent).toBe(expected.bases.length);
  // What the crash left: every UID in the uidlist, no row, the uidlist's lock of a dead process.
  expect([...uidlistBases().values()]).toEqual(answered.uids);
  expect(indexRows()).toEqual([]);
  expect(existsSync(join(root, 'dovecot-uidlist.lock'))).toBe(true);

  const box = await (await open().openUser('alice')).open('INBOX', 'read-write');
  const snap = await box.snapshot();
  expect(snap.list.uids).toEqual(answered.uids);
  expect(snap.status.uidNext).toBe(answered.uidNext);
  expect(snap.recent).toEqual([]);
  await box.records([1]);
  const rows = indexRows();
  const listed = uidlistBases();
  expect(rows.length).toBe(expected.bases.length);
  for (const r of rows) expect(listed.get(r.base), r.base).toBe(r.uid);
  expect(listed.size).toBe(expected.bases.length);
});

it('only SELECT/EXAMINE defer the rows: a RENAME of a never-scanned INBOX and a STORE on one leave no uidlist lock and change what they say', async () => {
  await makeMaildir(false);
  const user = await open().openUser('alice');
  // RENAME INBOX syncs INBOX outside a handle's own step: nothing may be left pending there.
  await user.rename('INBOX', 'Old');
  expect(existsSync(join(root, 'dovecot-uidlist.lock'))).toBe(false);
  // Every indexed message moved; only the new/ copy of the base found twice (left where it is) remains.
  expect((await user.status('INBOX')).messages).toBe(1);
  expect((await user.status('Old')).messages).toBeGreaterThanOrEqual(N);
  // A handle whose first step is not SELECT: its STORE finds the rows it changes.
  const box = await user.open('Old', 'read-write');
  const result = await box.setFlags([1, 2, 3], { mode: 'add', flags: ['\\Flagged'] });
  expect(result.updated.map((r) => r.uid)).toEqual([1, 2, 3]);
  expect(existsSync(join(root, '.Old', 'dovecot-uidlist.lock'))).toBe(false);
});

it('a FIFO at dovecot-uidlist when a large folder is first filled is a broken uidlist: not waited on under the lock, written again from the index', async () => {
  // A folder row made (and scanned empty) by an earlier run, then marked not scanned: the next SELECT fills it.
  await mkdir(join(root, 'cur'), { recursive: true });
  const first = open();
  expect((await (await first.openUser('alice')).status('INBOX')).messages).toBe(0);
  await first.close();
  stores.splice(stores.indexOf(first), 1);
  const db = new Database(join(root, 'mailgate-index.sqlite'));
  db.prepare('UPDATE mailbox SET scanned_at = NULL').run();
  db.close();
  const expected = await makeMaildir(false);
  await unlink(join(root, 'dovecot-uidlist'));
  execFileSync('mkfifo', [join(root, 'dovecot-uidlist')]);
  const box = await (await open().openUser('alice')).open('INBOX', 'read-write');
  const snap = await box.snapshot();
  expect(snap.status.messages).toBe(expected.bases.length);
  await box.records([1]);
  expect((await lstat(join(root, 'dovecot-uidlist'))).isFile()).toBe(true);
  expect([...uidlistBases().values()]).toEqual(snap.list.uids);
  expect(indexRows().map((r) => r.uid)).toEqual(snap.list.uids);
  expect(existsSync(join(root, 'dovecot-uidlist.lock'))).toBe(false);
}, 30_000);
