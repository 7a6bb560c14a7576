// The dotlock on a file system without hard links (link() refused with EPERM, as vfat or some FUSE mounts
// do): it falls back to O_EXCL and still excludes, names its holder and leaves no temp file.
import { readdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { acquireDotlock } from '../../../src/store/maildir/dotlock.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

vi.mock('node:fs/promises', async (importOriginal) => ({
  ...(await importOriginal<typeof import('node:fs/promises')>()),
  link: () => Promise.reject(Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' })),
}));

let tmp: TempDir;
beforeEach(async () => {
  tmp = await makeTempDir('dotlock-no-links');
});
afterEach(async () => {
  await tmp.remove();
});

it('takes the lock with O_EXCL when hard links are refused', async () => {
  const path = join(tmp.path, 'dovecot-uidlist');
  const held = await acquireDotlock(path);
  expect(await readFile(`${path}.lock`, 'latin1')).toBe(`${process.pid}:${hostname()}`);
  await expect(acquireDotlock(path, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'EAGAIN' });
  expect(await readdir(tmp.path)).toEqual(['dovecot-uidlist.lock']);
  await held.replace('3 V1 N1\n');
  expect(await readdir(tmp.path)).toEqual(['dovecot-uidlist']);
});
