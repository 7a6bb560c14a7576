/**
 * A file Dovecot delivered and listed in dovecot-uidlist keeps that UID when a readdir misses it once
 * (review finding): a listing made while another process renames the file (new/ to cur/, or a flag change
 * in cur/) may show it in neither directory. Before such a file counts as gone, new/<base> is looked at and
 * cur/ read again; otherwise its line only raised the floor and the next sync gave it a new UID. The miss
 * is made by a mock of readdir() that hides the file from the next listings of new/ and cur/. A large
 * folder's deferred first fill, whose scan runs before the uidlist is read under its lock, looks for the
 * files of lines its scan did not list (delivered meanwhile) the same way.
 */
import { appendFile, mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { DEFER_FILL_FROM } from '../../../src/store/mailbox/first-fill.js';
import type { MailboxStore, UserMailboxes } from '../../../src/store/mailbox/mailbox-store.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { parseUidlist } from '../../../src/store/maildir/uidlist.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';
import { message } from './contract.js';

const hidden = vi.hoisted(() => ({ base: '', new: 0, cur: 0, afterListingNew: undefined as (() => void) | undefined }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const readdir = async (path: string, options?: unknown): Promise<unknown> => {
    const listed = (await real.readdir(path, options as never)) as unknown as ({ name: string } | string)[];
    const sub = String(path).endsWith('/new') ? 'new' : String(path).endsWith('/cur') ? 'cur' : undefined;
    if (sub === 'new' && hidden.afterListingNew !== undefined) {
      const then = hidden.afterListingNew;
      hidden.afterListingNew = undefined;
      then();
    }
    if (sub === undefined || hidden[sub] === 0 || hidden.base === '') return listed;
    hidden[sub]--;
    return listed.filter((d) => !(typeof d === 'string' ? d : d.name).startsWith(hidden.base));
  };
  return { ...real, readdir };
});

const DOVECOT_BASE = '1700000000.M1P1.dovecot';
let tmp: TempDir | undefined;
let store: MailboxStore | undefined;
afterEach(async () => {
  Object.assign(hidden, { base: '', new: 0, cur: 0, afterListingNew: undefined });
  await store?.close();
  await tmp?.remove();
  store = tmp = undefined;
});

/** A store with one message (UID 1) and Dovecot's delivery of a second, listed with UID 2. */
async function withDovecotDelivery(where: 'new' | 'cur'): Promise<{ maildir: string; user: UserMailboxes }> {
  tmp = await makeTempDir('listed-file-miss');
  const maildir = join(await tmp.sub('mail'), 'alice');
  store = openMaildirMailboxStore({ maildirOf: () => maildir, hostname: 'mx.example.org' });
  const user = await store.openUser('alice');
  expect((await user.append('INBOX', { content: message('one') })).uid).toBe(1);
  // Scanned once: from here on a sync reads only the uidlist's lines from the index's next UID on.
  expect((await user.status('INBOX')).messages).toBe(1);
  // In cur/: Dovecot's IMAP has moved it there (seen) since.
  await writeFile(join(maildir, where, where === 'new' ? DOVECOT_BASE : `${DOVECOT_BASE}:2,S`), message('from dovecot'));
  await appendFile(join(maildir, 'dovecot-uidlist'), `2 :${DOVECOT_BASE}\n`);
  return { maildir, user };
}

async function expectDovecotsUidKept(maildir: string, user: UserMailboxes): Promise<void> {
  // The APPEND read the line (above the index's next UID) and looked for its file.
  expect((await user.append('INBOX', { content: message('three') })).uid).toBe(3);
  const box = await user.open('INBOX', 'read-only');
  try {
    expect((await box.snapshot()).list.uids).toEqual([1, 2, 3]);
  } finally {
    await box.close();
  }
  const list = parseUidlist(await readFile(join(maildir, 'dovecot-uidlist'), 'utf8'));
  expect(list.records.map((r) => [r.uid, r.base === DOVECOT_BASE])).toEqual([
    [1, false],
    [2, true],
    [3, false],
  ]);
}

it('a listed file in new/ that both listings missed is found by its name in new/', async () => {
  const { maildir, user } = await withDovecotDelivery('new');
  Object.assign(hidden, { base: DOVECOT_BASE, new: 1, cur: 1 });
  await expectDovecotsUidKept(maildir, user);
});

it('a listed file moved to cur/ that both listings missed is found by reading cur/ again', async () => {
  const { maildir, user } = await withDovecotDelivery('cur');
  Object.assign(hidden, { base: DOVECOT_BASE, new: 1, cur: 1 });
  await expectDovecotsUidKept(maildir, user);
});

it("a large folder's deferred first fill keeps the uidlist's UID for a file delivered after its scan", async () => {
  tmp = await makeTempDir('listed-file-miss');
  const maildir = join(await tmp.sub('mail'), 'alice');
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(maildir, sub), { recursive: true });
  const n = DEFER_FILL_FROM + 10;
  for (let i = 0; i < n; i++) await writeFile(join(maildir, 'cur', `${1_600_000_000 + i}.M${i}P1.host,S=2,W=3:2,S`), 'x\n');
  await writeFile(join(maildir, 'dovecot-uidlist'), `3 V1234 N1 G0123456789abcdef0123456789abcdef\n`);
  // out of the 2-second window in which a directory's mtime is not trusted: only the delivery moves it
  const past = new Date(Date.now() - 10_000);
  for (const sub of ['cur', 'new']) await utimes(join(maildir, sub), past, past);
  // Dovecot delivers one more while the scan runs, just after it listed new/: the file in new/ (whose
  // mtime moves then, as a real delivery's does), listed with UID 1.
  hidden.afterListingNew = () => {
    writeFileSync(join(maildir, 'new', DOVECOT_BASE), message('from dovecot'));
    appendFileSync(join(maildir, 'dovecot-uidlist'), `1 :${DOVECOT_BASE}\n`);
  };
  store = openMaildirMailboxStore({ maildirOf: () => maildir, hostname: 'mx.example.org' });
  const user = await store.openUser('alice');
  const box = await user.open('INBOX', 'read-write');
  try {
    const uids = (await box.snapshot()).list.uids;
    expect(uids.length).toBe(n + 1);
    expect(uids[0]).toBe(1);
    expect(uids[n]).toBe(n + 1);
  } finally {
    await box.close();
  }
  // Every later step agrees: UID 1 is Dovecot's file, in the uidlist and the index alike.
  expect((await user.status('INBOX')).uidNext).toBe(n + 2);
  const list = parseUidlist(await readFile(join(maildir, 'dovecot-uidlist'), 'utf8'));
  expect(list.records.filter((r) => r.base === DOVECOT_BASE).map((r) => r.uid)).toEqual([1]);
  expect(list.records.length).toBe(n + 1);
});
