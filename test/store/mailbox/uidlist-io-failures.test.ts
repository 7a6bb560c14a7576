/**
 * Two I/O failures around recording UIDs (review findings, minor): a rewrite of dovecot-uidlist whose read of
 * the old file fails (EMFILE, EIO) must not count the old file as none — it may hold lines Dovecot gave, and a
 * rewrite without them would let Dovecot give those UIDs again — so the folder stays marked and is rewritten
 * at its next sync; and a uidlist lock that cannot be removed after the rows are committed is logged, not
 * turned into a NO for a message that is stored. Failures come from mocks of open() and unlink().
 */
import { readFile, symlink, unlink as realUnlink, writeFile, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import type { MailboxStore } from '../../../src/store/mailbox/mailbox-store.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { parseUidlist } from '../../../src/store/maildir/uidlist.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';
import { message } from './contract.js';

const failing = vi.hoisted(() => ({ readsToPass: 0, reads: 0, lockUnlinks: 0 }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const { isUidlistRead } = await import('./uidlist-open-mock.js');
  return {
    ...real,
    open: (path: string, flags?: string | number, mode?: number) => {
      if (failing.reads > 0 && isUidlistRead(path, flags)) {
        if (failing.readsToPass > 0) failing.readsToPass--;
        else {
          failing.reads--;
          return Promise.reject(Object.assign(new Error(`EMFILE: open ${String(path)}`), { code: 'EMFILE' }));
        }
      }
      return real.open(path, flags, mode);
    },
    unlink: (path: string) => {
      if (failing.lockUnlinks > 0 && String(path).endsWith('/dovecot-uidlist.lock')) {
        failing.lockUnlinks--;
        return Promise.reject(Object.assign(new Error(`EIO: unlink ${String(path)}`), { code: 'EIO' }));
      }
      return real.unlink(path);
    },
  };
});

let tmp: TempDir | undefined;
let store: MailboxStore | undefined;
afterEach(async () => {
  Object.assign(failing, { readsToPass: 0, reads: 0, lockUnlinks: 0 });
  await store?.close();
  await tmp?.remove();
  store = tmp = undefined;
});

function openStore(maildir: string, warnings: string[] = []): MailboxStore {
  store = openMaildirMailboxStore({
    maildirOf: () => maildir,
    hostname: 'mx.example.org',
    logger: { warn: (line: string) => warnings.push(line), info: () => undefined, error: () => undefined, debug: () => undefined } as never,
  });
  return store;
}

it("a rewrite whose read of the old uidlist fails keeps Dovecot's lines: the file is left for the next sync's rewrite", async () => {
  tmp = await makeTempDir('uidlist-io-failures');
  const maildir = join(await tmp.sub('mail'), 'alice');
  const user = await openStore(maildir).openUser('alice');
  await user.append('INBOX', { content: message('one') });
  const file = join(maildir, 'dovecot-uidlist');
  // Dovecot's line (UID 7, its file not seen by this index), then a file the append cannot write (a symlink).
  await writeFile(`${file}.real`, `${await readFile(file, 'utf8')}7 :1700000000.M1P1.elsewhere\n`);
  await realUnlink(file);
  await symlink(`${file}.real`, file);
  // The read under the lock passes; the rewrite's read of the old file fails.
  Object.assign(failing, { readsToPass: 1, reads: 1 });
  expect((await user.append('INBOX', { content: message('two') })).uid).toBe(8);
  const kept = parseUidlist(await readFile(file, 'utf8'));
  expect(kept.records.map((r) => r.uid)).toContain(7);
  // The next sync rewrites it whole, Dovecot's line kept.
  expect((await user.status('INBOX')).messages).toBe(2);
  expect((await lstat(file)).isFile()).toBe(true);
  expect(parseUidlist(await readFile(file, 'utf8')).records.map((r) => r.uid)).toEqual([1, 7, 8]);
});

it('a uidlist lock that cannot be removed after the commit is logged; the APPEND answers with its UID', async () => {
  tmp = await makeTempDir('uidlist-io-failures');
  const maildir = join(await tmp.sub('mail'), 'alice');
  const warnings: string[] = [];
  const user = await openStore(maildir, warnings).openUser('alice');
  await user.append('INBOX', { content: message('one') });
  failing.lockUnlinks = 1;
  expect((await user.append('INBOX', { content: message('two') })).uid).toBe(2);
  expect(warnings.some((w) => w.includes('dovecot-uidlist') && w.includes('lock'))).toBe(true);
  expect(parseUidlist(await readFile(join(maildir, 'dovecot-uidlist'), 'utf8')).records.map((r) => r.uid)).toEqual([1, 2]);
  await realUnlink(join(maildir, 'dovecot-uidlist.lock'));
});
