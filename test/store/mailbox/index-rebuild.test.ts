/**
 * A lost or broken index is rebuilt from the files: with dovecot-uidlist the UIDVALIDITY and every UID come
 * back as they were (flags from the names, MODSEQ never lower than before); without it the folder gets a new
 * UIDVALIDITY strictly greater than before; a truncated or overwritten index file is set aside and rebuilt.
 */
import { readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { MailboxStore, MailboxStatus, MessageRecord } from '../../../src/store/mailbox/mailbox-store.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

let tmp: TempDir;
let root: string;
const stores: MailboxStore[] = [];

function open(): MailboxStore {
  const store = openMaildirMailboxStore({ maildirOf: (u) => join(tmp.path, 'mail', u), hostname: 'mx.test' });
  stores.push(store);
  return store;
}

beforeEach(async () => {
  tmp = await makeTempDir('index-rebuild');
  root = join(tmp.path, 'mail', 'alice');
});
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await tmp.remove();
});

const body = (n: number): Buffer => Buffer.from(`Subject: ${n}\r\n\r\n${n}\r\n`);

/** A mailbox with expunged holes in its UIDs, flags and keywords, in INBOX and a folder. */
async function populate(): Promise<{ inbox: State; work: State }> {
  const store = open();
  const user = await store.openUser('alice');
  await user.create('Work');
  for (let i = 1; i <= 5; i++) await user.append('INBOX', { content: body(i), flags: i % 2 === 0 ? ['\\Seen', 'todo'] : [] });
  await user.append('Work', { content: body(9), flags: ['\\Flagged'] });
  const box = await user.open('INBOX', 'read-write');
  await box.snapshot();
  await box.setFlags([3], { mode: 'add', flags: ['\\Deleted'] });
  await box.expunge();
  await box.close();
  const inbox = await state(store, 'INBOX');
  const work = await state(store, 'Work');
  await user.release();
  await store.close();
  return { inbox, work };
}

interface State {
  status: MailboxStatus;
  records: { uid: number; flags: string[] }[];
}

async function state(store: MailboxStore, name: string): Promise<State> {
  const user = await store.openUser('alice');
  const box = await user.open(name, 'read-only');
  const snap = await box.snapshot();
  await box.close();
  await user.release();
  return { status: snap.status, records: snap.records.map((r: MessageRecord) => ({ uid: r.uid, flags: [...r.flags].sort() })) };
}

async function dropIndex(): Promise<void> {
  for (const suffix of ['', '-wal', '-shm']) await rm(join(root, `mailgate-index.sqlite${suffix}`), { force: true });
}

it('index deleted: the same UIDVALIDITY, UIDs and flags from dovecot-uidlist and the names; MODSEQ not lower', async () => {
  const before = await populate();
  await dropIndex();
  const store = open();
  for (const [name, was] of [
    ['INBOX', before.inbox],
    ['Work', before.work],
  ] as const) {
    const now = await state(store, name);
    expect(now.status.uidValidity).toBe(was.status.uidValidity);
    expect(now.status.uidNext).toBe(was.status.uidNext);
    expect(now.records.map((r) => [r.uid, r.flags.filter((f) => f.startsWith('\\'))])).toEqual(was.records.map((r) => [r.uid, r.flags.filter((f) => f.startsWith('\\'))]));
    expect(now.status.highestModseq).toBeGreaterThanOrEqual(was.status.highestModseq);
    // Messages the uidlist knew are not \Recent again.
    expect(now.status.recent).toBe(0);
  }
  // Keywords with a letter come back from dovecot-keywords.
  expect((await state(store, 'INBOX')).records.find((r) => r.uid === 2)?.flags).toEqual(['\\Seen', 'todo']);
  // The rebuild did not write the UIDs it took from the uidlist into it again.
  const lines = (await readFile(join(root, 'dovecot-uidlist'), 'utf8')).split('\n').slice(1).filter(Boolean);
  expect(new Set(lines.map((l) => l.split(' ')[0])).size).toBe(lines.length);
  // New mail after the rebuild continues the UIDs.
  const user = await store.openUser('alice');
  expect((await user.append('INBOX', { content: body(6) })).uid).toBe(before.inbox.status.uidNext);
  await user.release();
});

it('index and uidlist deleted: a new, strictly greater UIDVALIDITY', async () => {
  const before = await populate();
  await dropIndex();
  await unlink(join(root, '.Work', 'dovecot-uidlist'));
  const store = open();
  const work = await state(store, 'Work');
  expect(work.status.uidValidity).toBeGreaterThan(before.work.status.uidValidity);
  expect(work.status.uidValidity).toBeGreaterThan(before.inbox.status.uidValidity);
  expect(work.records.map((r) => r.uid)).toEqual([1]);
  expect((await readFile(join(root, '.Work', 'dovecot-uidlist'), 'utf8')).split('\n')[0]).toContain(`V${work.status.uidValidity} `);
  // INBOX, whose uidlist is there, keeps its own.
  expect((await state(store, 'INBOX')).status.uidValidity).toBe(before.inbox.status.uidValidity);
});

it('a truncated or overwritten index file is set aside and rebuilt', async () => {
  const before = await populate();
  await rm(join(root, 'mailgate-index.sqlite-wal'), { force: true });
  await rm(join(root, 'mailgate-index.sqlite-shm'), { force: true });
  await truncate(join(root, 'mailgate-index.sqlite'), 1000);
  const rebuilt = await state(open(), 'INBOX');
  expect(rebuilt.status.uidValidity).toBe(before.inbox.status.uidValidity);
  expect(rebuilt.records.map((r) => r.uid)).toEqual(before.inbox.records.map((r) => r.uid));
  for (const s of stores.splice(0)) await s.close();

  await writeFile(join(root, 'mailgate-index.sqlite'), 'this is not a database, it only has its name '.repeat(200));
  const again = await state(open(), 'INBOX');
  expect(again.records.map((r) => r.uid)).toEqual(before.inbox.records.map((r) => r.uid));
  expect((await readFile(join(root, 'mailgate-index.sqlite.broken'))).length).toBeGreaterThan(0);
});
