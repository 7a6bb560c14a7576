/**
 * A second process syncing a folder while the first fills it (first-fill.ts) and is then killed: the UIDs
 * the first handed out (in dovecot-uidlist, its answer) must be the ones the second indexes. The second
 * used to read the uidlist's UIDs before the first's append and mark the folder scanned before taking the
 * uidlist's lock, so after the kill it gave every message a new UID. The interleaving is made exact: this
 * process (the second) is held inside its scan, where it reads a file's size (a hook on measureMessageFile),
 * while a child process (the first) SELECTs, answers and kills itself with SIGKILL.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { DEFER_FILL_FROM } from '../../../src/store/mailbox/first-fill.js';
import type { MailboxStore } from '../../../src/store/mailbox/mailbox-store.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { lockUidlist, parseUidlist } from '../../../src/store/maildir/uidlist.js';
import { builtModule } from '../../dist.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

/** Holds this process's reads of one file's size (the file named `name`) until `release`. */
const gate = vi.hoisted(() => ({ name: '', entered: (): void => undefined, released: Promise.resolve() }));
vi.mock('../../../src/store/maildir/maildir-scan.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/store/maildir/maildir-scan.js')>();
  return {
    ...real,
    measureMessageFile: async (path: string) => {
      if (gate.name !== '' && path.includes(gate.name)) {
        gate.name = '';
        gate.entered();
        await gate.released;
      }
      return real.measureMessageFile(path);
    },
  };
});

const CHILD = fileURLToPath(new URL('./fixtures/first-select-child.mjs', import.meta.url));
const N = DEFER_FILL_FROM + 100;
/** A file without S=/W= in its name: its size is read, which is where this process is held. */
const BARE = '1800000000.M1P9.other';

let tmp: TempDir;
let root: string;
const stores: MailboxStore[] = [];

function open(): MailboxStore {
  const store = openMaildirMailboxStore({ maildirOf: () => root, hostname: 'mx.test' });
  stores.push(store);
  return store;
}

beforeEach(async () => {
  tmp = await makeTempDir('first-fill-race');
  root = join(tmp.path, 'alice');
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(root, sub), { recursive: true });
  for (let i = 0; i < N; i++) {
    const body = `Subject: ${i}\n\n${i}\n`;
    const size = Buffer.byteLength(body);
    await writeFile(join(root, 'cur', `${1_700_000_000 + i}.M${i}P1.host,S=${size},W=${size + 3}:2,S`), body);
  }
  await writeFile(join(root, 'cur', `${BARE}:2,`), 'x\ny\n');
});
afterEach(async () => {
  gate.name = '';
  for (const s of stores.splice(0)) await s.close();
  await tmp.remove();
});

/** Arms the gate; resolves once this process is held in it, with the function that lets it go. */
function hold(): { entered: Promise<void>; release: () => void } {
  let release = (): void => undefined;
  gate.released = new Promise<void>((resolve) => (release = resolve));
  const entered = new Promise<void>((resolve) => (gate.entered = resolve));
  gate.name = BARE;
  return { entered, release };
}

/** The child: SELECT (a deferred first fill), print the answer, SIGKILL itself before the rows are in. */
async function selectAndDie(): Promise<{ uids: number[]; uidNext: number }> {
  const child = spawn(process.execPath, [CHILD, builtModule('store/mailbox/open.js'), root], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
  expect(signal).toBe('SIGKILL');
  return JSON.parse(out) as { uids: number[]; uidNext: number };
}

function uidlist(): Map<string, number> {
  const list = parseUidlist(readFileSync(join(root, 'dovecot-uidlist'), 'latin1'));
  expect(new Set(list.records.map((r) => r.base)).size).toBe(list.records.length);
  return new Map(list.records.map((r) => [r.base, r.uid] as const));
}

function indexRows(): Map<string, number> {
  const db = new Database(join(root, 'mailgate-index.sqlite'), { readonly: true });
  try {
    const rows = db.prepare('SELECT uid, base FROM message ORDER BY uid').all() as { uid: number; base: string }[];
    return new Map(rows.map((r) => [r.base, r.uid] as const));
  } finally {
    db.close();
  }
}

/** This process holds the folder's uidlist lock (the dotlock names its holder's pid). */
function lockIsOurs(): boolean {
  const path = join(root, 'dovecot-uidlist.lock');
  return existsSync(path) && readFileSync(path, 'utf8').startsWith(`${process.pid}:`);
}

it("a sync (STATUS) during another process's first fill, which is killed after its answer, keeps that fill's UIDs", async () => {
  const user = await open().openUser('alice');
  const gated = hold();
  const status = user.status('INBOX');
  await gated.entered;
  // Held mid-scan (before the uidlist's lock): the other process fills the folder, answers and dies.
  const answered = await selectAndDie();
  expect(answered.uids.length).toBe(N + 1);
  const given = uidlist();
  expect([...given.values()]).toEqual(answered.uids);
  gated.release();
  const st = await status;
  expect(st.messages).toBe(N + 1);
  expect(st.uidNext).toBe(answered.uidNext);
  // Every message has the UID the dead process answered with; the uidlist lists each once.
  expect(indexRows()).toEqual(given);
  expect(uidlist()).toEqual(given);
  const again = await (await open().openUser('alice')).open('INBOX', 'read-write');
  expect((await again.snapshot()).list.uids).toEqual(answered.uids);
});

it("a SELECT during another process's first fill, which is killed after its answer, keeps that fill's UIDs", async () => {
  const user = await open().openUser('alice');
  const gated = hold();
  const box = user.open('INBOX', 'read-write').then((b) => b.snapshot().then((snap) => ({ b, snap })));
  await gated.entered;
  // Held inside the scan, which reads files outside the uidlist's lock (others wait for it only 30 s): the
  // other process fills and dies meanwhile; this one then reads the uidlist under the lock and keeps its UIDs.
  expect(lockIsOurs()).toBe(false);
  const answered = await selectAndDie();
  gated.release();
  const { b, snap } = await box;
  const given = uidlist();
  expect([...given.values()]).toEqual(answered.uids);
  expect(snap.list.uids).toEqual(answered.uids);
  await b.records([1]);
  expect(indexRows()).toEqual(given);
});

it('a file delivered while a first fill scans (its UID given under the lock, after the scan began) keeps that UID: the fill looks for the files of lines its scan did not list', async () => {
  const user = await open().openUser('alice');
  const gated = hold();
  const box = user.open('INBOX', 'read-write').then((b) => b.snapshot().then((snap) => ({ b, snap })));
  await gated.entered;
  // Dovecot's LDA during the scan: the file into new/, its UID appended under the lock (which is free).
  const base = '1900000000.M1P1.dovecot';
  await writeFile(join(root, 'new', base), 'Subject: late\n\nlate\n');
  const lock = await lockUidlist(root, { timeoutMs: 5_000 });
  const given = parseUidlist(readFileSync(join(root, 'dovecot-uidlist'), 'latin1')).nextUid;
  await lock.append([{ uid: given, base, extensions: [] }]);
  await lock.release();
  gated.release();
  const { b, snap } = await box;
  // Found under the lock (new/<base>), it is in the answer with the UID Dovecot gave it.
  expect(snap.list.uids.length).toBe(N + 2);
  expect(snap.list.uids).toContain(given);
  expect(snap.status.uidNext).toBeGreaterThan(given);
  await b.records([snap.list.uids[0]!]); // the next step: the fill's rows are in
  await b.close();
  expect((await user.status('INBOX')).messages).toBe(N + 2);
  const rows = indexRows();
  expect(rows.get(base)).toBe(given);
  expect(new Set(rows.values()).size).toBe(rows.size);
  expect(uidlist().get(base)).toBe(given);
  expect(uidlistAscending()).toBe(true);
});

/** Whether the uidlist's lines (all of them, a base's stale earlier line too) have ascending UIDs. */
function uidlistAscending(): boolean {
  const uids = readFileSync(join(root, 'dovecot-uidlist'), 'latin1').split('\n').slice(1).filter((l) => l !== '').map((l) => Number(l.split(' ')[0]));
  return uids.every((u, i) => i === 0 || u > uids[i - 1]!);
}
