/**
 * readUidlistFrom over a file whose reads return less than asked (allowed by read(2): a network file
 * system, a signal): the bytes not read must not be parsed (its buffers are allocated uninitialised). Every
 * read of a dovecot-uidlist handle is cut to a few bytes through a mock of open().
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { formatUidlist, newMailboxGuid, readUidlist, readUidlistFrom, type UidlistRecord } from '../../../src/store/maildir/uidlist.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

const CUT = 100; // more than the header line, less than any read asked for
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    open: async (path: string, flags?: string | number, mode?: number) => {
      const handle = await real.open(path, flags, mode);
      if (!String(path).endsWith('/dovecot-uidlist')) return handle;
      return new Proxy(handle, {
        get(target, key) {
          if (key === 'read') {
            return (buf: Buffer, offset: number, length: number, position: number) => target.read(buf, offset, Math.min(length, CUT), position);
          }
          const value = Reflect.get(target, key) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };
});

let tmp: TempDir;
beforeEach(async () => {
  tmp = await makeTempDir('uidlist-short-reads');
});
afterEach(async () => {
  await tmp.remove();
});

it('reads short reads to the end: the same lines as the whole file read', async () => {
  const header = { uidValidity: 7, nextUid: 1, guid: newMailboxGuid(), extra: [] };
  const records: UidlistRecord[] = Array.from({ length: 3000 }, (_, i) => ({ uid: 2 * i + 1, extensions: [], base: `${1_700_000_000 + i}.M${i}P1.host` }));
  await writeFile(join(tmp.path, 'dovecot-uidlist'), formatUidlist({ header, records }));
  const whole = (await readUidlist(tmp.path))!;
  for (const from of [1, 5000, 5990, 7000]) {
    const tail = (await readUidlistFrom(tmp.path, from))!;
    expect(tail.nextUid).toBe(whole.nextUid);
    expect(tail.records).toEqual(whole.records.filter((r) => r.uid >= from));
  }
});
