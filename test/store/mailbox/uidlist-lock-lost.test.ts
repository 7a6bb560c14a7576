/**
 * A step whose uidlist lock was taken over (judged stale by another process while this one held it) gives
 * no UID (review finding): it appends nothing under a lock that is no longer its own and commits no rows,
 * since the new holder may be giving the same UIDs. The takeover happens while the step reads the uidlist
 * under its lock (a mock of open()): the lock file is replaced by another live process's.
 */
import { readFile, unlink as realUnlink, writeFile } from 'node:fs/promises';
import { unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { DotlockLostError } from '../../../src/store/maildir/dotlock.js';
import { openIndexDb, type IndexDb } from '../../../src/store/mailbox/index-db.js';
import { ensureMailboxRow, indexAndRecord } from '../../../src/store/mailbox/index-sync.js';
import type { MailboxStore } from '../../../src/store/mailbox/mailbox-store.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';
import { message } from './contract.js';

const takeover = vi.hoisted(() => ({ armed: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const { isUidlistRead } = await import('./uidlist-open-mock.js');
  return {
    ...real,
    open: (path: string, flags?: string | number, mode?: number) => {
      if (takeover.armed && isUidlistRead(path, flags)) {
        takeover.armed = false;
        const lockPath = `${String(path)}.lock`;
        unlinkSync(lockPath);
        writeFileSync(lockPath, `${process.ppid}:${hostname()}`);
      }
      return real.open(path, flags, mode);
    },
  };
});

let tmp: TempDir | undefined;
let store: MailboxStore | undefined;
let db: IndexDb | undefined;
afterEach(async () => {
  takeover.armed = false;
  db?.close();
  await store?.close();
  await tmp?.remove();
  tmp = store = db = undefined;
});

it('a sync or APPEND whose uidlist lock is taken over fails before giving a UID', async () => {
  tmp = await makeTempDir('uidlist-lock-lost');
  const maildir = join(await tmp.sub('mail'), 'alice');
  store = openMaildirMailboxStore({ maildirOf: () => maildir, hostname: 'mx.example.org' });
  expect((await (await store.openUser('alice')).append('INBOX', { content: message('one') })).uid).toBe(1);
  await store.close();
  store = undefined;
  const uidlistBefore = await readFile(join(maildir, 'dovecot-uidlist'), 'utf8');
  const base = '1700000000.M1P1.lost,S=6,W=7';
  await writeFile(join(maildir, 'cur', `${base}:2,`), 'hello\n');

  db = openIndexDb(maildir);
  const row = await ensureMailboxRow(db, maildir, 'INBOX');
  takeover.armed = true;
  const added = { base, fname: `${base}:2,`, inNew: false, bits: 0, keywords: '', vsize: 7, size: 6, idate: null, itz: null };
  await expect(indexAndRecord(db, row!.id, maildir, [added])).rejects.toBeInstanceOf(DotlockLostError);
  expect(db.messageByBase.get(row!.id, base)).toBeUndefined();
  expect(db.mailboxById.get(row!.id)?.uidnext).toBe(2);
  expect(await readFile(join(maildir, 'dovecot-uidlist'), 'utf8')).toBe(uidlistBefore);
  // The new holder's lock is left to it.
  expect(await readFile(join(maildir, 'dovecot-uidlist.lock'), 'latin1')).toBe(`${process.ppid}:${hostname()}`);
  await realUnlink(join(maildir, 'dovecot-uidlist.lock'));
});
