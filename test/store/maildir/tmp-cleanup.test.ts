/**
 * tmp/ leftovers (review finding, issue 11): files and staged folders an interrupted write left in tmp/
 * are removed once 36 hours old (the Maildir rule, Dovecot's and Postfix's), by a sweep that runs as a
 * user's index is opened; anything younger — and an APPEND's file dated back by utimes — stays.
 */
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MailboxStore } from '../../../src/store/mailbox/mailbox-store.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { cleanTmp, TMP_MAX_AGE_MS } from '../../../src/store/maildir/tmp-cleanup.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

let tmp: TempDir | undefined;
let store: MailboxStore | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await store?.close();
  await tmp?.remove();
  store = tmp = undefined;
});

const HOUR = 3600_000;

describe('cleanTmp', () => {
  it('removes files and directories 36 hours old, keeps younger ones and a file whose mtime was set back', async () => {
    tmp = await makeTempDir('tmp-cleanup');
    const folder = tmp.path;
    await mkdir(join(folder, 'tmp', '.deleted.1.abc', 'cur'), { recursive: true });
    await writeFile(join(folder, 'tmp', '.deleted.1.abc', 'cur', 'm'), 'x');
    await writeFile(join(folder, 'tmp', '1700000000.M1P1.host'), 'x');
    await writeFile(join(folder, 'tmp', 'appending'), 'x');
    await utimes(join(folder, 'tmp', 'appending'), new Date('2001-01-01'), new Date('2001-01-01'));

    expect(await cleanTmp(folder)).toBe(0); // all just touched (the utimes, too, set ctime to now)
    expect((await readdir(join(folder, 'tmp'))).sort()).toEqual(['.deleted.1.abc', '1700000000.M1P1.host', 'appending']);
    expect(await cleanTmp(folder, Date.now() + TMP_MAX_AGE_MS - HOUR)).toBe(0);
    expect(await cleanTmp(folder, Date.now() + TMP_MAX_AGE_MS + HOUR)).toBe(3);
    expect(await readdir(join(folder, 'tmp'))).toEqual([]);
  });

  it('is quiet about a folder without tmp/', async () => {
    tmp = await makeTempDir('tmp-cleanup');
    expect(await cleanTmp(join(tmp.path, 'nothing-here'))).toBe(0);
  });
});

describe('the sweep at user open', () => {
  it('cleans the root\'s and every folder\'s tmp/ of old leftovers when the user is opened', async () => {
    tmp = await makeTempDir('tmp-cleanup');
    const root = tmp.path;
    const maildir = join(root, 'alice');
    const s = (store = openMaildirMailboxStore({ maildirOf: () => maildir, hostname: 'mx.example.org' }));
    const user = await s.openUser('alice');
    await user.create('Work');
    await s.close();
    await writeFile(join(maildir, 'tmp', 'left-by-a-crash'), 'x');
    await mkdir(join(maildir, 'tmp', '.folder.1.abc'));
    await writeFile(join(maildir, '.Work', 'tmp', 'left-too'), 'x');

    // 37 hours later (only Date is faked: file times are real, so the leftovers look 37 hours old).
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + TMP_MAX_AGE_MS + HOUR);
    const later = (store = openMaildirMailboxStore({ maildirOf: () => maildir, hostname: 'mx.example.org' }));
    await later.openUser('alice');
    const deadline = performance.now() + 5000;
    const left = async (): Promise<string[]> => [...(await readdir(join(maildir, 'tmp'))), ...(await readdir(join(maildir, '.Work', 'tmp')))];
    while ((await left()).length > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(await left()).toEqual([]);
  });
});
