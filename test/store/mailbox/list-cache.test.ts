/**
 * The Maildir store's per-folder message list (src/store/mailbox/list-cache.ts), shared by every handle of
 * a user in one process: it follows changes made by another process (a second store on the same Maildir),
 * by Dovecot-style renames of the files themselves, and never changes a list already handed out.
 */
import { readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { MailboxStore } from '../../../src/store/mailbox/mailbox-store.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

let tmp: TempDir;
const stores: MailboxStore[] = [];

function open(): MailboxStore {
  const store = openMaildirMailboxStore({ maildirOf: (u) => join(tmp.path, 'mail', u), hostname: 'mx.test' });
  stores.push(store);
  return store;
}

beforeEach(async () => {
  tmp = await makeTempDir('list-cache');
});
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await tmp.remove();
});

const body = (n: number): Buffer => Buffer.from(`Subject: ${n}\r\n\r\n${n}\r\n`);

it('follows another process\'s flag changes, expunges and new messages, and leaves a list handed out as it was', async () => {
  const here = await open().openUser('alice');
  const there = await open().openUser('alice');
  for (let i = 1; i <= 5; i++) await here.append('INBOX', { content: body(i), ...(i % 2 === 0 ? { flags: ['\\Seen'] } : {}) });
  const box = await here.open('INBOX', 'read-write');
  const first = await box.snapshot();
  expect(first.list.uids).toEqual([1, 2, 3, 4, 5]);
  expect(first.status).toMatchObject({ messages: 5, unseen: 3 });
  // A second SELECT of the unchanged folder gets the very same arrays.
  const again = await (await here.open('INBOX', 'read-only')).snapshot();
  expect(again.list.uids).toBe(first.list.uids);

  const other = await there.open('INBOX', 'read-write');
  await other.setFlags([1, 3], { mode: 'add', flags: ['\\Seen', 'done'] });
  await other.setFlags([5], { mode: 'add', flags: ['\\Deleted'] });
  await other.expunge();
  await there.append('INBOX', { content: body(6) });

  const later = await box.snapshot();
  expect(later.list.uids).toEqual([1, 2, 3, 4, 6]);
  expect(later.list.flags[0]).toEqual(['\\Seen', 'done']);
  expect(later.status).toMatchObject({ messages: 5, unseen: 1 });
  expect(later.list.firstUnseen).toBe(4);
  const picked = await box.records([1, 2, 3, 4, 6]);
  expect(later.records).toEqual(picked.uids.map((uid, i) => ({ uid, flags: picked.flags[i], modseq: picked.modseqs[i], vsize: picked.vsizes[i] })));
  // The first snapshot is untouched.
  expect(first.list.uids).toEqual([1, 2, 3, 4, 5]);
  expect(first.list.flags[0]).toEqual([]);
  expect(first.list.firstUnseen).toBe(0);
});

it('follows renames and removals of the files by another program', async () => {
  const user = await open().openUser('alice');
  for (let i = 1; i <= 3; i++) await user.append('INBOX', { content: body(i) });
  const box = await user.open('INBOX', 'read-write');
  expect((await box.snapshot()).status.unseen).toBe(3);
  const cur = join(tmp.path, 'mail', 'alice', 'cur');
  // UID order from dovecot-uidlist (`<uid> [fields] :<base>`): the names' M<usecs> has no leading zeros,
  // so a text sort puts M99000 after M100000 within one second
  const listed = (await readFile(join(tmp.path, 'mail', 'alice', 'dovecot-uidlist'), 'utf8')).split('\n').slice(1).filter((l) => l !== '');
  const bases = listed.map((l) => l.slice(l.indexOf(':') + 1));
  const files = await readdir(cur);
  const names = bases.map((b) => files.find((f) => f === b || f.startsWith(`${b}:`))!);
  expect(names.every((n) => n !== undefined)).toBe(true);
  // mutt marks the first read and deletes the second; the next sync sees both (the directories are new,
  // so still in the 2-second dirty window: read again whatever their mtime).
  await rename(join(cur, names[0]!), join(cur, names[0]!.replace(/:2,.*$/, ':2,S')));
  await unlink(join(cur, names[1]!));
  await new Promise((resolve) => setTimeout(resolve, 20));
  const snap = await box.snapshot();
  expect(snap.list.uids).toEqual([1, 3]);
  expect(snap.list.flags[0]).toEqual(['\\Seen']);
  expect(snap.status).toMatchObject({ messages: 2, unseen: 1 });
});
