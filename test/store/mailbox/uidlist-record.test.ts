/**
 * A dovecot-uidlist that cannot be appended to after the index has committed (review finding, issue 11):
 * the operation succeeds — the message is in, with its UID — and the file is rewritten from the index,
 * at once or, when that fails too, at the folder's next sync (also after a restart).
 */
import { copyFile, mkdir, readFile, rm, symlink, unlink, writeFile, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MailboxStore } from '../../../src/store/mailbox/mailbox-store.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { parseUidlist } from '../../../src/store/maildir/uidlist.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';
import { dovecotSession, fetchedFlags, requireDovecot } from '../maildir/dovecot-preauth.js';
import { message } from './contract.js';

const USER = 'alice@example.org';
let tmp: TempDir | undefined;
let store: MailboxStore | undefined;
afterEach(async () => {
  await store?.close();
  await tmp?.remove();
  store = tmp = undefined;
});

function openStore(root: string, warnings: string[] = []): MailboxStore {
  store = openMaildirMailboxStore({
    maildirOf: (user) => join(root, encodeURIComponent(user)),
    hostname: 'mx.example.org',
    logger: { warn: (line: string) => warnings.push(line), info: () => undefined, error: () => undefined, debug: () => undefined } as never,
  });
  return store;
}

describe('dovecot-uidlist appends that fail after the index commit', () => {
  it('rewrites a uidlist it cannot append to and answers the APPEND with its UID', async () => {
    tmp = await makeTempDir('uidlist-record');
    const warnings: string[] = [];
    const user = await openStore(tmp.path, warnings).openUser(USER);
    await user.append('INBOX', { content: message('one') });
    const file = join(tmp.path, encodeURIComponent(USER), 'dovecot-uidlist');
    const before = parseUidlist(await readFile(file, 'utf8'));
    // A symlink: the append's O_NOFOLLOW refuses it (ELOOP), as it would any file it cannot write.
    await copyFile(file, `${file}.real`);
    await unlink(file);
    await symlink(`${file}.real`, file);

    const second = await user.append('INBOX', { content: message('two') });
    expect(second.uid).toBe(2);
    expect((await lstat(file)).isFile()).toBe(true);
    const after = parseUidlist(await readFile(file, 'utf8'));
    expect(after.records.map((r) => r.uid)).toEqual([1, 2]);
    expect(after.header.guid).toBe(before.header.guid);
    expect(after.header.uidValidity).toBe(before.header.uidValidity);
    expect(warnings.some((w) => w.includes('dovecot-uidlist') && w.includes('rewriting'))).toBe(true);
  });

  it('keeps next_uid above a UID another process wrote that the index does not know', async () => {
    tmp = await makeTempDir('uidlist-record');
    const user = await openStore(tmp.path).openUser(USER);
    await user.append('INBOX', { content: message('one') });
    const file = join(tmp.path, encodeURIComponent(USER), 'dovecot-uidlist');
    // another writer's record (UID 7) above the index's next UID, then a file the append cannot write
    await writeFile(`${file}.real`, `${await readFile(file, 'utf8')}7 1700000000.M1P1.elsewhere\n`);
    await unlink(file);
    await symlink(`${file}.real`, file);
    // The uidlist is the authority for the next UID (Dovecot's rule): never one below a UID it lists.
    expect((await user.append('INBOX', { content: message('two') })).uid).toBe(8);
    const after = parseUidlist(await readFile(file, 'utf8'));
    expect(after.records.map((r) => r.uid)).toEqual([1, 7, 8]);
    expect(after.header.nextUid).toBe(9);
  });

  it('Dovecot reads the rewritten uidlist with the UIDs the index gave', async () => {
    await requireDovecot();
    tmp = await makeTempDir('uidlist-record');
    const maildir = join(await tmp.sub('mail'), 'alice');
    store = openMaildirMailboxStore({ maildirOf: () => maildir, hostname: 'mx.example.org' });
    const user = await store.openUser('alice');
    await user.append('INBOX', { content: message('one'), flags: ['\\Seen'] });
    const file = join(maildir, 'dovecot-uidlist');
    await copyFile(file, `${file}.real`);
    await unlink(file);
    await symlink(`${file}.real`, file);
    expect((await user.append('INBOX', { content: message('two'), flags: ['\\Flagged'] })).uid).toBe(2);
    expect((await user.append('INBOX', { content: message('three'), flags: ['\\Draft'] })).uid).toBe(3);
    await store.close();
    store = undefined;
    const transcript = await dovecotSession(await tmp.sub('dovecot'), maildir, ['SELECT INBOX', 'UID FETCH 1:* (UID FLAGS)']);
    expect(transcript, transcript).toContain('zz OK');
    expect(fetchedFlags(transcript)).toEqual(
      new Map([
        [1, ['\\Seen']],
        [2, ['\\Flagged']],
        [3, ['\\Draft']],
      ]),
    );
  });

  it('when the rewrite fails too, still succeeds and repairs the file at the next sync after a restart', async () => {
    tmp = await makeTempDir('uidlist-record');
    const root = tmp.path;
    const user = await openStore(root).openUser(USER);
    await user.append('INBOX', { content: message('one') });
    const file = join(root, encodeURIComponent(USER), 'dovecot-uidlist');
    // A non-empty directory in its place: neither an append nor a rename over it works.
    await unlink(file);
    await mkdir(file);
    await writeFile(join(file, 'x'), 'x');

    const second = await user.append('INBOX', { content: message('two') });
    expect(second.uid).toBe(2);
    await store?.close();
    await rm(file, { recursive: true });
    await writeFile(file, '3 V1 N2 G0123456789abcdef0123456789abcdef\n1 :stale\n');
    const again = await openStore(root).openUser(USER);
    expect((await again.status('INBOX')).messages).toBe(2); // a sync
    const list = parseUidlist(await readFile(file, 'utf8'));
    expect(list.records.map((r) => r.uid)).toEqual([1, 2]);
    expect(list.records.every((r) => r.base !== 'stale')).toBe(true);
    expect(list.nextUid).toBe(3);
  });
});
