/**
 * An APPEND whose indexing fails removes its file before the NO, but only under the uidlist's lock (review
 * finding): checked and removed outside it, the file could be given a UID by another process's sync (or by
 * Dovecot) between the check and the unlink, leaving a UID for a removed file. Here the uidlist read fails
 * once (a mock of open()), and as the APPEND lets the lock go another process takes it (a lock file made by
 * the test, through a mock of unlink()) and lists the file in dovecot-uidlist before letting it go.
 */
import { appendFile, readdir, readFile, unlink as realUnlink } from 'node:fs/promises';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it, vi } from 'vitest';
import type { MailboxStore } from '../../../src/store/mailbox/mailbox-store.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { parseUidlist } from '../../../src/store/maildir/uidlist.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';
import { message } from './contract.js';

const hooks = vi.hoisted(() => ({
  /** Read-only opens of a dovecot-uidlist still to fail with EMFILE. */
  failReads: 0,
  /** Set: the next unlink of a uidlist lock is followed by this (the other process taking the lock). */
  afterLockRemoved: undefined as ((lockPath: string) => void) | undefined,
}));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const { isUidlistRead } = await import('./uidlist-open-mock.js');
  return {
    ...real,
    open: (path: string, flags?: string | number, mode?: number) => {
      if (hooks.failReads > 0 && isUidlistRead(path, flags)) {
        hooks.failReads--;
        return Promise.reject(Object.assign(new Error(`EMFILE: open ${String(path)}`), { code: 'EMFILE' }));
      }
      return real.open(path, flags, mode);
    },
    unlink: async (path: string) => {
      await real.unlink(path);
      const then = hooks.afterLockRemoved;
      if (then !== undefined && String(path).endsWith('/dovecot-uidlist.lock')) {
        hooks.afterLockRemoved = undefined;
        then(String(path));
      }
    },
  };
});

let tmp: TempDir | undefined;
let store: MailboxStore | undefined;
afterEach(async () => {
  hooks.failReads = 0;
  hooks.afterLockRemoved = undefined;
  await store?.close();
  await tmp?.remove();
  store = tmp = undefined;
});

it('a failed APPEND leaves its file when another process lists it while the APPEND waits for the lock', async () => {
  tmp = await makeTempDir('append-undo');
  const maildir = join(await tmp.sub('mail'), 'alice');
  store = openMaildirMailboxStore({ maildirOf: () => maildir, hostname: 'mx.example.org' });
  const user = await store.openUser('alice');
  expect((await user.append('INBOX', { content: message('one') })).uid).toBe(1);
  const before = new Set(await readdir(join(maildir, 'cur')));

  let otherDone: Promise<void> | undefined;
  let appended: string | undefined;
  hooks.afterLockRemoved = (lockPath) => {
    // The other process takes the lock at once (a fresh lock of another host: waited for, never broken).
    writeFileSync(lockPath, '4242:other.example.org');
    appended = readdirSync(join(maildir, 'cur')).find((f) => !before.has(f));
    otherDone = (async () => {
      await sleep(300);
      // Its sync gives the file the next UID and lets the lock go.
      await appendFile(join(maildir, 'dovecot-uidlist'), `2 :${appended!.split(':')[0]!}\n`);
      await realUnlink(lockPath);
    })();
  };
  hooks.failReads = 1;
  await expect(user.append('INBOX', { content: message('two') })).rejects.toMatchObject({ code: 'EMFILE' });
  await otherDone;
  expect(appended).toBeDefined();
  // Listed in the uidlist, it stays; the next sync indexes it with that UID.
  expect(await readdir(join(maildir, 'cur'))).toContain(appended);
  expect((await user.status('INBOX')).messages).toBe(2);
  const list = parseUidlist(await readFile(join(maildir, 'dovecot-uidlist'), 'utf8'));
  expect(list.records.map((r) => r.uid)).toEqual([1, 2]);
});

it('a failed APPEND whose file nobody indexed removes it, under the lock', async () => {
  tmp = await makeTempDir('append-undo');
  const maildir = join(await tmp.sub('mail'), 'alice');
  store = openMaildirMailboxStore({ maildirOf: () => maildir, hostname: 'mx.example.org' });
  const user = await store.openUser('alice');
  await user.append('INBOX', { content: message('one') });
  const before = await readdir(join(maildir, 'cur'));
  hooks.failReads = 1;
  await expect(user.append('INBOX', { content: message('two') })).rejects.toMatchObject({ code: 'EMFILE' });
  expect(await readdir(join(maildir, 'cur'))).toEqual(before);
  await expect(readdir(maildir)).resolves.not.toContain('dovecot-uidlist.lock');
});
