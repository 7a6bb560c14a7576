/**
 * A failed APPEND answers NO with its file gone, so the client's retry stores the message once (review
 * findings): when the index's commit fails after the APPEND wrote its own uidlist line (that line is not
 * a UID someone else gave the file), and when the uidlist's lock cannot be had at all (a holder that keeps
 * it; the undo then checks without it).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { IndexDb } from '../../../src/store/mailbox/index-db.js';
import type { MailboxStore } from '../../../src/store/mailbox/mailbox-store.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';
import { message } from './contract.js';

const hooks = vi.hoisted(() => ({ lockFails: 0 }));
vi.mock('../../../src/store/maildir/uidlist.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/store/maildir/uidlist.js')>();
  return {
    ...real,
    lockUidlist: (...args: Parameters<typeof real.lockUidlist>) => {
      if (hooks.lockFails > 0) {
        hooks.lockFails--;
        return Promise.reject(Object.assign(new Error('EAGAIN: dovecot-uidlist.lock held'), { code: 'EAGAIN' }));
      }
      return real.lockUidlist(...args);
    },
  };
});

let tmp: TempDir | undefined;
let store: MailboxStore | undefined;
afterEach(async () => {
  hooks.lockFails = 0;
  vi.restoreAllMocks();
  await store?.close();
  await tmp?.remove();
  store = tmp = undefined;
});

async function aliceWithOne(): Promise<{ maildir: string; user: Awaited<ReturnType<MailboxStore['openUser']>>; before: string[] }> {
  tmp = await makeTempDir('append-undo-failures');
  const maildir = join(await tmp.sub('mail'), 'alice');
  store = openMaildirMailboxStore({ maildirOf: () => maildir, hostname: 'mx.example.org' });
  const user = await store.openUser('alice');
  expect((await user.append('INBOX', { content: message('one') })).uid).toBe(1);
  return { maildir, user, before: await readdir(join(maildir, 'cur')) };
}

it("a commit refused after the APPEND's own uidlist line removes the file; the retry is the only copy", async () => {
  const { maildir, user, before } = await aliceWithOne();
  const write = IndexDb.prototype.write;
  let fail = 1;
  vi.spyOn(IndexDb.prototype, 'write').mockImplementation(function (this: IndexDb, step) {
    if (fail > 0 && /commitPlanned/.test(new Error().stack ?? '')) {
      fail--;
      throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    }
    return write.call(this, step);
  } as typeof write);
  await expect(user.append('INBOX', { content: message('two') })).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
  expect(fail).toBe(0);
  expect(await readdir(join(maildir, 'cur'))).toEqual(before);
  // its line stays (a UID never given again); the retry gets the next one
  expect(await readFile(join(maildir, 'dovecot-uidlist'), 'utf8')).toMatch(/\n2 :/);
  expect((await user.append('INBOX', { content: message('two') })).uid).toBe(3);
  expect((await user.status('INBOX')).messages).toBe(2);
});

it('an APPEND that cannot have the uidlist lock removes its file without it', async () => {
  const { maildir, user, before } = await aliceWithOne();
  hooks.lockFails = 2; // the APPEND's and the undo's
  await expect(user.append('INBOX', { content: message('two') })).rejects.toMatchObject({ code: 'EAGAIN' });
  expect(hooks.lockFails).toBe(0);
  expect(await readdir(join(maildir, 'cur'))).toEqual(before);
  expect((await user.append('INBOX', { content: message('two') })).uid).toBe(2);
  expect((await user.status('INBOX')).messages).toBe(2);
});
