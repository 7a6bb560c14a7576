/** dovecot-uidlist v3: parsing what Dovecot writes, formatting, properties, and the dotlock writers. */
import fc from 'fast-check';
import { mkdir, readdir, readFile, rmdir, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { execFileSync, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireDotlock, DotlockLostError } from '../../../src/store/maildir/dotlock.js';
import {
  formatUidlistLines,
  formatUidlist,
  formatUidlistRecord,
  lockUidlist,
  newMailboxGuid,
  parseUidlist,
  readUidlist,
  readUidlistFrom,
  UidlistError,
  type UidlistRecord,
} from '../../../src/store/maildir/uidlist.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

/** As Dovecot 2.3 wrote it: the header's N was not raised when the two lines were appended. */
const DOVECOT =
  '3 V1796312218 N1 G99f63914998c116b5732000083ecc375\n' +
  '1 :1796312217.M348973P12887.vm,S=10,W=10\n' +
  '2 :1796312217.M350851P12887.vm,S=10,W=10\n';

describe('uidlist parsing', () => {
  it('reads a file Dovecot wrote, next UID past the last line', () => {
    const list = parseUidlist(DOVECOT);
    expect(list.header).toEqual({ uidValidity: 1796312218, nextUid: 1, guid: '99f63914998c116b5732000083ecc375', extra: [] });
    expect(list.records.map((r) => [r.uid, r.base])).toEqual([
      [1, '1796312217.M348973P12887.vm,S=10,W=10'],
      [2, '1796312217.M350851P12887.vm,S=10,W=10'],
    ]);
    expect(list.nextUid).toBe(3);
  });

  it('keeps unknown header fields and record extensions', () => {
    const text = '3 V5 N10 Xfoo Zbar\n3 W120 P<abc> :base with space\n7 :b\n';
    const list = parseUidlist(text);
    expect(list.header.extra).toEqual(['Xfoo', 'Zbar']);
    expect(list.header.guid).toBeUndefined();
    expect(list.records[0]).toEqual({ uid: 3, extensions: ['W120', 'P<abc>'], base: 'base with space' });
    expect(list.nextUid).toBe(10);
    expect(formatUidlist(list)).toBe(text);
  });

  it('a base listed twice keeps its later UID', () => {
    const list = parseUidlist('3 V5 N1\n1 :a\n2 :b\n3 :a\n');
    expect(list.records.map((r) => [r.uid, r.base])).toEqual([
      [2, 'b'],
      [3, 'a'],
    ]);
  });

  it('refuses broken files', () => {
    for (const bad of ['', '1 5 6\n', '3 V0 N1\n', '3 N1\n', '3 V1 N1 Gzz\n', '3 V1 N1\n2 :a\n2 :b\n', '3 V1 N1\n0 :a\n', '3 V1 N1\nx :a\n', '3 V1 N1\n1 :a/b\n', '3 V1 N1\n1 :\n', '3 V1 N1\n4294967295 :a\n']) {
      expect(() => parseUidlist(bad), JSON.stringify(bad)).toThrow(UidlistError);
    }
  });

  it('refuses to format what would not read back', () => {
    expect(() => formatUidlistRecord({ uid: 0, extensions: [], base: 'a' })).toThrow();
    expect(() => formatUidlistRecord({ uid: 1, extensions: [], base: 'a:2,S' })).toThrow();
    expect(() => formatUidlistRecord({ uid: 1, extensions: ['w1'], base: 'a' })).toThrow();
  });

  it('format and parse round-trip', () => {
    const base = fc.string({ unit: fc.constantFrom(...'0123456789.MPQRS=W,abc vh\\'.split('')), minLength: 1, maxLength: 30 }).filter((b) => b.trim() === b && !b.startsWith(':'));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.integer({ min: 1, max: 1000 }),
        fc.uniqueArray(base, { maxLength: 20 }),
        fc.array(fc.constantFrom('W10', 'S5', 'Pabc', 'O3'), { maxLength: 2 }),
        (uidValidity, nextUid, bases, extensions) => {
          let uid = 0;
          const records: UidlistRecord[] = bases.map((b) => ({ uid: (uid += 1 + (b.length % 3)), extensions, base: b }));
          const header = { uidValidity, nextUid, guid: newMailboxGuid(), extra: ['Xq'] };
          const list = parseUidlist(formatUidlist({ header, records }));
          expect(list.records).toEqual(records);
          expect(list.header.uidValidity).toBe(uidValidity);
          expect(list.header.guid).toBe(header.guid);
          expect(list.nextUid).toBe(Math.max(nextUid, uid + 1));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('parse of any text returns or throws UidlistError, nothing else', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('3', ' ', 'V', 'N', 'G', '1', '2', ':', '\n', 'a', '/', '0', 'f') }), (text) => {
        try {
          parseUidlist(text);
        } catch (err) {
          expect(err).toBeInstanceOf(UidlistError);
        }
      }),
      { numRuns: 5000 },
    );
  });
});

describe('uidlist files and the dotlock', () => {
  let tmp: TempDir;
  beforeEach(async () => {
    tmp = await makeTempDir('uidlist');
  });
  afterEach(async () => {
    await tmp.remove();
  });

  it('rewrites atomically, appends under the lock, and reads back', async () => {
    const dir = tmp.path;
    expect(await readUidlist(dir)).toBeUndefined();
    const header = { uidValidity: 1700000000, nextUid: 1, guid: newMailboxGuid(), extra: [] };
    let lock = await lockUidlist(dir);
    await expect(lock.append([{ uid: 1, extensions: [], base: 'x' }])).rejects.toThrow(); // no file yet: no headerless lines
    await lock.rewrite({ header, records: [{ uid: 1, extensions: [], base: 'a' }] });
    expect((await stat(join(dir, 'dovecot-uidlist'))).mode & 0o777).toBe(0o600);
    await expect(stat(join(dir, 'dovecot-uidlist.lock'))).rejects.toThrow();
    lock = await lockUidlist(dir);
    await lock.append([
      { uid: 2, extensions: [], base: 'b' },
      { uid: 5, extensions: ['W9'], base: 'c' },
    ]);
    await lock.release();
    expect(await readFile(join(dir, 'dovecot-uidlist'), 'utf8')).toBe(`3 V1700000000 N2 G${header.guid}\n1 :a\n2 :b\n5 W9 :c\n`);
    const list = await readUidlist(dir);
    expect(list?.nextUid).toBe(6);
    expect(list?.records.map((r) => r.uid)).toEqual([1, 2, 5]);
  });

  it('waits for a held lock and times out with EAGAIN', async () => {
    const held = await acquireDotlock(join(tmp.path, 'f'));
    await expect(acquireDotlock(join(tmp.path, 'f'), { timeoutMs: 100 })).rejects.toMatchObject({ code: 'EAGAIN' });
    const waiting = acquireDotlock(join(tmp.path, 'f'), { timeoutMs: 5000 });
    setTimeout(() => void held.release(), 50);
    const second = await waiting;
    await second.replace('new');
    expect(await readFile(join(tmp.path, 'f'), 'utf8')).toBe('new');
  });

  it('removes a stale lock (older than 2 minutes) and takes it', async () => {
    await mkdir(tmp.path, { recursive: true });
    const lockPath = join(tmp.path, 'dovecot-uidlist.lock');
    await writeFile(lockPath, '');
    const old = new Date(Date.now() - 121_000);
    await utimes(lockPath, old, old);
    const lock = await lockUidlist(tmp.path, { timeoutMs: 1000 });
    await lock.rewrite({ header: { uidValidity: 1, nextUid: 1, guid: undefined, extra: [] }, records: [] });
    expect(await readFile(join(tmp.path, 'dovecot-uidlist'), 'utf8')).toBe('3 V1 N1\n');
  });

  it('takes a fresh lock at once when its holder (pid:host, as Dovecot writes) is a process of this host that is gone', async () => {
    const dir = tmp.path;
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const lockPath = join(dir, 'dovecot-uidlist.lock');
    await writeFile(lockPath, `${gone.stdout}:${hostname()}`);
    const started = Date.now();
    const lock = await acquireDotlock(join(dir, 'dovecot-uidlist'), { timeoutMs: 5_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await readFile(lockPath, 'latin1')).toBe(`${process.pid}:${hostname()}`);
    await lock.release();
    // A live holder (this process's parent) or another host's lock is waited for, not broken.
    for (const holder of [`${process.ppid}:${hostname()}`, `${gone.stdout}:elsewhere.example`]) {
      await writeFile(lockPath, holder);
      await expect(acquireDotlock(join(dir, 'dovecot-uidlist'), { timeoutMs: 300 })).rejects.toMatchObject({ code: 'EAGAIN' });
    }
  });

  it('waits for a lock naming a live process of this host past the stale time: Dovecot never breaks one (review finding)', async () => {
    const path = join(tmp.path, 'dovecot-uidlist');
    await writeFile(`${path}.lock`, `${process.ppid}:${hostname()}`);
    // Untouched for 10 minutes (Dovecot does not touch its lock while it works): not broken.
    const old = new Date(Date.now() - 600_000);
    await utimes(`${path}.lock`, old, old);
    await expect(acquireDotlock(path, { timeoutMs: 300 })).rejects.toMatchObject({ code: 'EAGAIN' });
    expect(await readFile(`${path}.lock`, 'latin1')).toBe(`${process.ppid}:${hostname()}`);
  });

  it('breaks a live local pid\'s lock once untouched for maxHoldMs plus the stale time (the pid reused after its holder crashed)', async () => {
    const path = join(tmp.path, 'dovecot-uidlist');
    await writeFile(`${path}.lock`, `${process.ppid}:${hostname()}`);
    const old = new Date(Date.now() - (15 * 120_000 + 120_000 + 60_000));
    await utimes(`${path}.lock`, old, old);
    const lock = await acquireDotlock(path, { timeoutMs: 5_000 });
    expect(await readFile(`${path}.lock`, 'latin1')).toBe(`${process.pid}:${hostname()}`);
    await lock.release();
    // Another host's (or an empty) lock is judged by the stale time alone, as before.
    await writeFile(`${path}.lock`, `${process.ppid}:elsewhere.example`);
    const stale = new Date(Date.now() - 121_000);
    await utimes(`${path}.lock`, stale, stale);
    await (await acquireDotlock(path, { timeoutMs: 5_000 })).release();
  });

  it('a holder whose lock was taken over appends nothing to the file under it (review finding)', async () => {
    const dir = tmp.path;
    const header = '3 V1 N1 G0123456789abcdef0123456789abcdef\n';
    await writeFile(join(dir, 'dovecot-uidlist'), header);
    const lock = await lockUidlist(dir);
    // Judged stale by another process and taken over: the lock file is now another holder's.
    await unlink(join(dir, 'dovecot-uidlist.lock'));
    await writeFile(join(dir, 'dovecot-uidlist.lock'), `${process.ppid}:${hostname()}`);
    await expect(lock.append([{ uid: 1, base: 'a', extensions: [] }])).rejects.toBeInstanceOf(DotlockLostError);
    await expect(lock.appendLines([1], ['a'], [1])).rejects.toBeInstanceOf(DotlockLostError);
    expect(await readFile(join(dir, 'dovecot-uidlist'), 'utf8')).toBe(header);
    await lock.release();
    expect(await readFile(join(dir, 'dovecot-uidlist.lock'), 'latin1')).toBe(`${process.ppid}:${hostname()}`);
  });

  it('a held lock is kept fresh (touched every quarter of the stale time), so a long holder is not taken for dead', async () => {
    const path = join(tmp.path, 'dovecot-uidlist');
    const held = await acquireDotlock(path, { staleMs: 4000 });
    const old = new Date(Date.now() - 600_000);
    await utimes(`${path}.lock`, old, old);
    await untilTrue(async () => Date.now() - (await stat(`${path}.lock`)).mtimeMs < 4000);
    await expect(acquireDotlock(path, { staleMs: 4000, timeoutMs: 300 })).rejects.toMatchObject({ code: 'EAGAIN' });
    await held.release();
    await expect(stat(`${path}.lock`)).rejects.toThrow();
  });

  it('a lock held past maxHoldMs (leaked) is no longer touched, so it goes stale', async () => {
    const path = join(tmp.path, 'dovecot-uidlist');
    let clock = Date.now();
    const held = await acquireDotlock(path, { staleMs: 4000, maxHoldMs: 10_000, now: () => clock });
    const old = new Date(Date.now() - 600_000);
    await utimes(`${path}.lock`, old, old);
    await untilTrue(async () => Date.now() - (await stat(`${path}.lock`)).mtimeMs < 4000); // still touched
    clock += 20_000;
    await utimes(`${path}.lock`, old, old);
    // The next tick stops the timer instead of touching: the lock is then taken by age.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(Date.now() - (await stat(`${path}.lock`)).mtimeMs).toBeGreaterThan(4000);
    const taker = await acquireDotlock(path, { staleMs: 4000, timeoutMs: 1000 });
    await held.release();
    await expect(stat(`${path}.lock`)).resolves.toBeDefined();
    await taker.release();
  });

  it('a holder whose lock was taken over touches only its own old file, never the new holder\'s lock', async () => {
    const path = join(tmp.path, 'f');
    let clock = Date.now();
    const first = await acquireDotlock(path);
    clock += 200_000;
    const second = await acquireDotlock(path, { now: () => clock, timeoutMs: 1000 });
    const old = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    await utimes(`${path}.lock`, old, old);
    await first.touch();
    expect(Math.round((await stat(`${path}.lock`)).mtimeMs)).toBe(old.getTime());
    await first.release();
    await first.touch(); // let go: nothing
    expect(Math.round((await stat(`${path}.lock`)).mtimeMs)).toBe(old.getTime());
    await second.release();
  });

  it('three waiters taking over a dead holder\'s lock never hold it at the same time (the review saw 16 in 300)', async () => {
    const path = join(tmp.path, 'dovecot-uidlist');
    for (let round = 0; round < 60; round++) {
      await writeFile(`${path}.lock`, `999999999:${hostname()}`);
      let holders = 0;
      let most = 0;
      const waiter = async (): Promise<void> => {
        const lock = await acquireDotlock(path, { timeoutMs: 5_000 });
        holders++;
        most = Math.max(most, holders);
        await new Promise((resolve) => setTimeout(resolve, 2));
        holders--;
        await lock.release();
      };
      await Promise.all([waiter(), waiter(), waiter()]);
      expect(most, `round ${round}`).toBe(1);
    }
  });

  it('a lock names its holder from the moment it exists, so a SIGKILL never leaves an empty one (judged by age alone: 2 minutes)', async () => {
    const path = join(tmp.path, 'dovecot-uidlist');
    const seen = new Set<string>();
    let running = true;
    const watcher = (async () => {
      while (running) seen.add(await readFile(`${path}.lock`, 'latin1').catch(() => 'none'));
    })();
    for (let i = 0; i < 300; i++) await (await acquireDotlock(path)).release();
    running = false;
    await watcher;
    seen.delete('none');
    expect([...seen]).toEqual([`${process.pid}:${hostname()}`]);
    // the hard-linked temp file does not stay
    expect(await readdir(tmp.path)).toEqual([]);
    const held = await acquireDotlock(path);
    await expect(acquireDotlock(path, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'EAGAIN' });
    expect(await readdir(tmp.path)).toEqual(['dovecot-uidlist.lock']);
    await held.release();
  });

  it('a holder whose stale lock was taken over does not remove the new holder\'s lock', async () => {
    const path = join(tmp.path, 'f');
    let clock = Date.now();
    const first = await acquireDotlock(path);
    clock += 200_000;
    const second = await acquireDotlock(path, { now: () => clock, timeoutMs: 1000 });
    await first.release();
    await expect(stat(`${path}.lock`)).resolves.toBeDefined();
    await expect(first.replace('x')).rejects.toThrow();
    await second.release();
    await expect(stat(`${path}.lock`)).rejects.toThrow();
  });
});

describe('formatUidlistLines', () => {
  it('writes the lines formatUidlistRecord writes, the base cut at the end given, ASCII or not', () => {
    const names = ['1.M1P1.host,S=3,W=4:2,S', '2.M2P1.hôst,S=3,W=4:2,', '3.M3P1.host,S=3,W=4', 'ünïcode-名前:2,F'];
    const ends = names.map((n) => (n.includes(':') ? n.indexOf(':') : n.length));
    const uids = [1, 20, 300, 4_000_000_000];
    const expected = names.map((n, i) => formatUidlistRecord({ uid: uids[i]!, base: n.slice(0, ends[i]), extensions: [] })).join('');
    expect(formatUidlistLines(uids, names, ends).toString('utf8')).toBe(expected);
    expect(formatUidlistLines(uids.slice(0, 1), names.slice(0, 1), ends.slice(0, 1)).toString('utf8')).toBe(expected.split('\n')[0] + '\n');
  });

  it('refuses what a record may not hold: a newline or a colon in the base, a bad UID', () => {
    expect(() => formatUidlistLines([1], ['a\nb'], [3])).toThrow(/bad uidlist file name/);
    expect(() => formatUidlistLines([1], ['a:b'], [3])).toThrow(/bad uidlist file name/);
    expect(() => formatUidlistLines([0], ['ab'], [2])).toThrow(/bad UID/);
    expect(formatUidlistLines([1], ['a\nb:2,S'], [1]).toString()).toBe('1 :a\n');
  });
});

describe('readUidlistFrom: the lines from a UID on, read from the end', () => {
  let tmp: TempDir;
  beforeEach(async () => {
    tmp = await makeTempDir('uidlist-from');
  });
  afterEach(async () => {
    await tmp.remove();
  });

  const header = { uidValidity: 7, nextUid: 1, guid: newMailboxGuid(), extra: ['Xfoo'] };

  it('equals the whole file read and filtered, for files of one chunk and of many, from any UID', async () => {
    for (const count of [0, 3, 20_000]) {
      // Every third UID, extension fields on some lines, N lagging behind (Dovecot appends without raising it).
      const records: UidlistRecord[] = Array.from({ length: count }, (_, i) => ({
        uid: 3 * i + 1,
        extensions: i % 7 === 0 ? [`W${i}`] : [],
        base: `${1_700_000_000 + i}.M${i}P1.host,S=${i},W=${i + 1}`,
      }));
      await writeFile(join(tmp.path, 'dovecot-uidlist'), formatUidlist({ header, records }).replace(/^3 V7 N\d+/, '3 V7 N2'));
      const whole = (await readUidlist(tmp.path))!;
      for (const from of [1, 2, 3 * count - 40, 3 * count - 2, 3 * count + 5, Math.floor(count / 2)]) {
        const tail = (await readUidlistFrom(tmp.path, from))!;
        expect(tail.header, `${count} from ${from}`).toEqual(whole.header);
        expect(tail.nextUid).toBe(whole.nextUid);
        expect(tail.records).toEqual(whole.records.filter((r) => r.uid >= from));
      }
    }
  });

  it("the header's N counts when it is past the last line; a last line without its newline counts as readUidlist reads it; a missing or empty file is none", async () => {
    const file = join(tmp.path, 'dovecot-uidlist');
    expect(await readUidlistFrom(tmp.path, 1)).toBeUndefined();
    await writeFile(file, '');
    expect(await readUidlistFrom(tmp.path, 1)).toBeUndefined();
    await writeFile(file, `${formatUidlist({ header: { ...header, nextUid: 90 }, records: [{ uid: 5, extensions: [], base: 'a' }] })}6 :b`);
    const list = (await readUidlistFrom(tmp.path, 2))!;
    expect(list.records.map((r) => r.uid)).toEqual([5, 6]);
    expect(list.nextUid).toBe(90);
    expect(list).toEqual(await readUidlist(tmp.path));
    // A header longer than the first read.
    const records = Array.from({ length: 300 }, (_, i) => ({ uid: i + 1, extensions: [], base: `m${i}` }));
    await writeFile(file, formatUidlist({ header: { ...header, extra: [`X${'a'.repeat(5000)}`] }, records }));
    expect(await readUidlistFrom(tmp.path, 250)).toEqual({ ...(await readUidlist(tmp.path))!, records: records.slice(249) });
    await writeFile(file, '3 V7 N1\n2 :x\n1 :y\n');
    await expect(readUidlistFrom(tmp.path, 1)).rejects.toBeInstanceOf(UidlistError);
  });

  it('a directory or FIFO in the file\'s place is a broken uidlist for both reads, the whole one too, and never hangs them', async () => {
    const file = join(tmp.path, 'dovecot-uidlist');
    await mkdir(file);
    await expect(readUidlist(tmp.path)).rejects.toBeInstanceOf(UidlistError);
    await expect(readUidlistFrom(tmp.path, 1)).rejects.toBeInstanceOf(UidlistError);
    await rmdir(file);
    execFileSync('mkfifo', [file]);
    await expect(readUidlist(tmp.path)).rejects.toBeInstanceOf(UidlistError);
    await expect(readUidlistFrom(tmp.path, 1)).rejects.toBeInstanceOf(UidlistError);
  });
});

/** Polls `check` every 20 ms until it holds (a hang guard, not a speed assertion: 10 s). */
async function untilTrue(check: () => Promise<boolean>): Promise<void> {
  for (const started = Date.now(); !(await check()); await new Promise((resolve) => setTimeout(resolve, 20))) {
    if (Date.now() - started > 10_000) throw new Error('condition never held');
  }
}
