/**
 * Dovecot's order for new UIDs (review finding): the lines go into dovecot-uidlist, fsynced, before the index
 * commits the rows. The index committed first, a crash before the append left rows whose UIDs the uidlist
 * lacked, and Dovecot, reading the uidlist, gave those UIDs again to other messages under the same
 * UIDVALIDITY. The crash is a throw from the index's write transaction, just after or just before its commit
 * (a proxy of the IndexDb handed to indexAndRecord): nothing of the step runs after it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { openIndexDb, type IndexDb } from '../../../src/store/mailbox/index-db.js';
import { ensureMailboxRow, indexAndRecord, type NewMessage } from '../../../src/store/mailbox/index-sync.js';
import type { MailboxStore } from '../../../src/store/mailbox/mailbox-store.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { parseUidlist } from '../../../src/store/maildir/uidlist.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';
import { message } from './contract.js';

class Crash extends Error {}

let tmp: TempDir | undefined;
let store: MailboxStore | undefined;
let db: IndexDb | undefined;
afterEach(async () => {
  db?.close();
  await store?.close();
  await tmp?.remove();
  tmp = store = db = undefined;
});

/** `index` whose write transactions end the step: right after their commit, or before they begin. */
function crashing(index: IndexDb, when: 'after-commit' | 'before-commit'): IndexDb {
  return new Proxy(index, {
    get(target, prop) {
      if (prop === 'write') {
        return (step: () => unknown) => {
          if (when === 'after-commit') target.write(step);
          throw new Crash('killed');
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A Maildir with one message appended by the store (UID 1), the store closed; a second file dropped in cur/. */
async function setUp(): Promise<{ maildir: string; added: NewMessage }> {
  tmp = await makeTempDir('uidlist-before-rows');
  const maildir = join(await tmp.sub('mail'), 'alice');
  store = openMaildirMailboxStore({ maildirOf: () => maildir, hostname: 'mx.example.org' });
  const user = await store.openUser('alice');
  expect((await user.append('INBOX', { content: message('one') })).uid).toBe(1);
  await store.close();
  store = undefined;
  const base = '1700000000.M1P1.crash,S=6,W=7';
  const fname = `${base}:2,`;
  await writeFile(join(maildir, 'cur', fname), 'hello\n');
  return { maildir, added: { base, fname, inNew: false, bits: 0, keywords: '', vsize: 7, size: 6, idate: null, itz: null } };
}

async function uidlistOf(maildir: string): Promise<ReturnType<typeof parseUidlist>> {
  return parseUidlist(await readFile(join(maildir, 'dovecot-uidlist'), 'utf8'));
}

it('a crash right after the rows commit leaves the uidlist with their UIDs already (Dovecot gives none again)', async () => {
  const { maildir, added } = await setUp();
  db = openIndexDb(maildir);
  const row = await ensureMailboxRow(db, maildir, 'INBOX');
  await expect(indexAndRecord(crashing(db, 'after-commit'), row!.id, maildir, [added])).rejects.toBeInstanceOf(Crash);

  const given = db.messageByBase.get(row!.id, added.base)?.uid;
  expect(given).toBe(2);
  const list = await uidlistOf(maildir);
  // What Dovecot reads: the line for the row, and a next UID above every UID the index gave.
  expect(list.records.find((r) => r.base === added.base)?.uid).toBe(given);
  expect(list.nextUid).toBeGreaterThan(given!);
});

it('a crash before the rows commit leaves a line that the next sync adopts: the file keeps that UID', async () => {
  const { maildir, added } = await setUp();
  db = openIndexDb(maildir);
  const row = await ensureMailboxRow(db, maildir, 'INBOX');
  await expect(indexAndRecord(crashing(db, 'before-commit'), row!.id, maildir, [added])).rejects.toBeInstanceOf(Crash);
  expect(db.messageByBase.get(row!.id, added.base)).toBeUndefined();
  expect((await uidlistOf(maildir)).records.find((r) => r.base === added.base)?.uid).toBe(2);
  db.close();
  db = undefined;

  store = openMaildirMailboxStore({ maildirOf: () => maildir, hostname: 'mx.example.org' });
  const user = await store.openUser('alice');
  expect((await user.status('INBOX')).messages).toBe(2);
  expect((await user.append('INBOX', { content: message('three') })).uid).toBe(3);
  const box = await user.open('INBOX', 'read-only');
  try {
    expect((await box.snapshot()).list.uids).toEqual([1, 2, 3]);
  } finally {
    await box.close();
  }
  const list = await uidlistOf(maildir);
  expect(list.records.map((r) => [r.uid, r.base === added.base])).toEqual([
    [1, false],
    [2, true],
    [3, false],
  ]);
});
