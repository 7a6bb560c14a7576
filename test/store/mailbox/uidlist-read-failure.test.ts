/**
 * dovecot-uidlist that cannot be read for a moment (EMFILE, EIO, EACCES) under its lock, where UIDs are
 * given (index-sync.ts's indexAndRecord): nothing may be given then, or a first scan gives every file a new
 * UID under the same UIDVALIDITY and an APPEND gives again a UID Dovecot gave. The operation fails instead
 * (the APPEND answers NO, the sync runs again) and the next one, reading the file, gets it right. Only a
 * broken file (UidlistError) counts as none. The read is failed through a mock of open().
 */
import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import type { MailboxStore } from '../../../src/store/mailbox/mailbox-store.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { parseUidlist } from '../../../src/store/maildir/uidlist.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';
import { message } from './contract.js';

/** How many of the next read-only opens of a dovecot-uidlist fail, and with what. */
const failing = vi.hoisted(() => ({ count: 0, code: 'EMFILE' }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const { isUidlistRead } = await import('./uidlist-open-mock.js');
  return {
    ...real,
    open: (path: string, flags?: string | number, mode?: number) => {
      if (failing.count > 0 && isUidlistRead(path, flags)) {
        failing.count--;
        return Promise.reject(Object.assign(new Error(`${failing.code}: open ${String(path)}`), { code: failing.code }));
      }
      return real.open(path, flags, mode);
    },
  };
});

let tmp: TempDir | undefined;
let store: MailboxStore | undefined;
afterEach(async () => {
  failing.count = 0;
  await store?.close();
  await tmp?.remove();
  store = tmp = undefined;
});

function openStore(maildir: string): MailboxStore {
  store = openMaildirMailboxStore({ maildirOf: () => maildir, hostname: 'mx.example.org' });
  return store;
}

async function uidsOf(user: Awaited<ReturnType<MailboxStore['openUser']>>): Promise<readonly number[]> {
  const box = await user.open('INBOX', 'read-only');
  try {
    return (await box.snapshot()).list.uids;
  } finally {
    await box.close();
  }
}

it("a first scan (index lost) whose uidlist read fails gives no UID; the next one keeps the uidlist's", async () => {
  tmp = await makeTempDir('uidlist-read-failure');
  const maildir = join(await tmp.sub('mail'), 'alice');
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(maildir, sub), { recursive: true });
  const bases = ['1700000001.M1P1.host', '1700000002.M2P1.host', '1700000003.M3P1.host'];
  for (const base of bases) await writeFile(join(maildir, 'cur', `${base}:2,S`), message(base));
  await writeFile(join(maildir, 'dovecot-uidlist'), `3 V1234 N13 G0123456789abcdef0123456789abcdef\n10 :${bases[0]}\n11 :${bases[1]}\n12 :${bases[2]}\n`);
  const user = await openStore(maildir).openUser('alice');
  failing.count = 1;
  await expect(user.status('INBOX')).rejects.toMatchObject({ code: 'EMFILE' });
  const st = await user.status('INBOX');
  expect(st.messages).toBe(3);
  expect(st.uidValidity).toBe(1234);
  expect(st.uidNext).toBe(13);
  expect(await uidsOf(user)).toEqual([10, 11, 12]);
  const list = parseUidlist(await readFile(join(maildir, 'dovecot-uidlist'), 'utf8'));
  expect(list.records.map((r) => [r.uid, r.base])).toEqual(bases.map((b, i) => [10 + i, b]));
});

it('an APPEND whose uidlist read fails answers NO rather than give again a UID Dovecot appended, its file removed first', async () => {
  tmp = await makeTempDir('uidlist-read-failure');
  const maildir = join(await tmp.sub('mail'), 'alice');
  const user = await openStore(maildir).openUser('alice');
  for (const s of ['one', 'two', 'three']) await user.append('INBOX', { content: message(s) });
  // Dovecot's LDA: the file into new/, its line with the next UID appended (N left as it is).
  await writeFile(join(maildir, 'new', '1700000000.M1P1.dovecot'), message('from dovecot'));
  await appendFile(join(maildir, 'dovecot-uidlist'), '4 :1700000000.M1P1.dovecot\n');
  for (const code of ['EMFILE', 'EIO', 'EACCES']) {
    failing.code = code;
    failing.count = 1;
    await expect(user.append('INBOX', { content: message('four') })).rejects.toMatchObject({ code });
  }
  expect((await user.append('INBOX', { content: message('four') })).uid).toBe(5);
  const list = parseUidlist(await readFile(join(maildir, 'dovecot-uidlist'), 'utf8'));
  expect(list.records.filter((r) => r.uid === 4).map((r) => r.base)).toEqual(['1700000000.M1P1.dovecot']);
  // The failed APPENDs' files were removed before the NO: the client's retry left the message once.
  expect(await uidsOf(user)).toEqual([1, 2, 3, 4, 5]);
  const cur = await readdir(join(maildir, 'cur'));
  const fours = await Promise.all(cur.map(async (f) => (await readFile(join(maildir, 'cur', f), 'utf8')).includes('four')));
  expect(fours.filter(Boolean).length).toBe(1);
});

it('a broken uidlist (no version-3 header) still does not fail an APPEND: it is rewritten', async () => {
  tmp = await makeTempDir('uidlist-read-failure');
  const maildir = join(await tmp.sub('mail'), 'alice');
  const user = await openStore(maildir).openUser('alice');
  await user.append('INBOX', { content: message('one') });
  await writeFile(join(maildir, 'dovecot-uidlist'), 'not a uidlist\n');
  expect((await user.append('INBOX', { content: message('two') })).uid).toBe(2);
  expect(parseUidlist(await readFile(join(maildir, 'dovecot-uidlist'), 'utf8')).records.map((r) => r.uid)).toEqual([1, 2]);
});
