/** Scanning new/ and cur/: entries from names, foreign files, skipped non-files, mtimes and the dirty rule. */
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FLAG_BITS } from '../../../src/store/maildir/maildir-info.js';
import { dirState, isDirty, maildirEntryOf, measureMessageFile, scanMaildir } from '../../../src/store/maildir/maildir-scan.js';
import { ensureMaildir } from '../../../src/store/maildir/maildir-writer.js';
import { isDirectChild, messageFilePath, openMessageFile } from '../../../src/store/maildir/safe-fs.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

let tmp: TempDir;
let box: string;
beforeEach(async () => {
  tmp = await makeTempDir('scan');
  box = join(tmp.path, 'alice');
  await ensureMaildir(box);
});
afterEach(async () => {
  await tmp.remove();
});

describe('maildir scan', () => {
  it('one entry per message name, ours and foreign', () => {
    expect(maildirEntryOf('1700000000.M1Q4AB12R0a1b2c3d4e5f.mx,S=10,W=12', 'new')).toEqual({
      base: '1700000000.M1Q4AB12R0a1b2c3d4e5f.mx,S=10,W=12',
      info: undefined,
      flags: { system: 0, keywords: '', other: '' },
      size: 10,
      vsize: 12,
      dir: 'new',
      fileName: '1700000000.M1Q4AB12R0a1b2c3d4e5f.mx,S=10,W=12',
    });
    expect(maildirEntryOf('1234.courier.host:2,RS', 'cur')).toMatchObject({ base: '1234.courier.host', size: undefined, vsize: undefined, flags: { system: FLAG_BITS['\\Answered'] | FLAG_BITS['\\Seen'] } });
    expect(maildirEntryOf('.hidden', 'cur')).toBeUndefined();
    expect(maildirEntryOf(':2,S', 'cur')).toBeUndefined();
  });

  it('reads both directories, skipping dot-files, symlinks, FIFOs and directories', async () => {
    await writeFile(join(box, 'new', 'a,S=1,W=1'), 'x');
    await writeFile(join(box, 'cur', 'b:2,S'), 'y');
    await writeFile(join(box, 'cur', 'no-info'), 'z');
    await writeFile(join(box, 'cur', '.tmpfile'), '');
    await mkdir(join(box, 'cur', 'adir'));
    await symlink('/etc/passwd', join(box, 'cur', 'evil:2,S'));
    execFileSync('mkfifo', [join(box, 'new', 'fifo')]);
    const skipped: string[] = [];
    const result = await scanMaildir(box, { onSkip: (d, f, r) => skipped.push(`${d}/${f}: ${r}`) });
    expect(result.entries.map((e) => `${e.dir}/${e.fileName}`).sort()).toEqual(['cur/b:2,S', 'cur/no-info', 'new/a,S=1,W=1']);
    expect(skipped.sort()).toEqual(['cur/adir: not a regular file', 'cur/evil:2,S: a symlink', 'new/fifo: not a regular file']);
    expect(result.read).toEqual({ new: true, cur: true });
  });

  it('skips a directory whose mtime has not moved and was not dirty', async () => {
    const old = new Date(Date.now() - 60_000);
    await writeFile(join(box, 'cur', 'm:2,'), 'x');
    await utimes(join(box, 'cur'), old, old);
    await utimes(join(box, 'new'), old, old);
    const first = await scanMaildir(box);
    expect(first.cur?.dirty).toBe(false);
    const second = await scanMaildir(box, { since: { new: first.new, cur: first.cur } });
    expect(second.read).toEqual({ new: false, cur: false });
    expect(second.entries).toEqual([]);
    await writeFile(join(box, 'new', 'n'), 'y');
    const third = await scanMaildir(box, { since: { new: first.new, cur: first.cur } });
    expect(third.read).toEqual({ new: true, cur: false });
    expect(third.entries.map((e) => e.fileName)).toEqual(['n']);
    // A directory changed just now is dirty: the same mtime later does not prove it unchanged.
    const fourth = await scanMaildir(box);
    expect(fourth.new?.dirty).toBe(true);
    expect((await scanMaildir(box, { since: { new: fourth.new, cur: fourth.cur } })).read.new).toBe(true);
  });

  it('the dirty rule: within 2 s of now, or in the future', async () => {
    const now = 1_700_000_000_000;
    expect(isDirty(BigInt(now - 2500) * 1_000_000n, now)).toBe(false);
    expect(isDirty(BigInt(now - 1500) * 1_000_000n, now)).toBe(true);
    expect(isDirty(BigInt(now + 5000) * 1_000_000n, now)).toBe(true);
    expect(await dirState(join(tmp.path, 'missing'), 'cur')).toBeUndefined();
    expect(typeof (await dirState(box, 'cur'))?.mtimeNs).toBe('bigint');
  });

  it('measures foreign files: LF, CRLF and mixed', async () => {
    await writeFile(join(box, 'cur', 'lf'), 'a\nb\n');
    await writeFile(join(box, 'cur', 'crlf'), 'a\r\nb\r\n');
    await writeFile(join(box, 'cur', 'mixed'), 'a\r\nb\nc');
    expect(await measureMessageFile(join(box, 'cur', 'lf'))).toEqual({ size: 4, vsize: 6 });
    expect(await measureMessageFile(join(box, 'cur', 'crlf'))).toEqual({ size: 6, vsize: 6 });
    expect(await measureMessageFile(join(box, 'cur', 'mixed'))).toEqual({ size: 6, vsize: 7 });
    await symlink(join(box, 'cur', 'lf'), join(box, 'cur', 'link'));
    expect(await measureMessageFile(join(box, 'cur', 'link'))).toBeUndefined();
  });
});

describe('safe-fs', () => {
  it('opens regular files only, never through a symlink, never blocking on a FIFO', async () => {
    await writeFile(join(box, 'cur', 'm'), 'hello');
    const opened = await openMessageFile(join(box, 'cur', 'm'));
    expect(opened?.stat.size).toBe(5);
    await opened?.handle.close();
    await symlink(join(box, 'cur', 'm'), join(box, 'cur', 'l'));
    expect(await openMessageFile(join(box, 'cur', 'l'))).toBeUndefined();
    execFileSync('mkfifo', [join(box, 'cur', 'f')]);
    expect(await openMessageFile(join(box, 'cur', 'f'))).toBeUndefined();
    expect(await openMessageFile(join(box, 'cur'))).toBeUndefined();
    expect(await openMessageFile(join(box, 'cur', 'gone'))).toBeUndefined();
  });

  it('direct children only', () => {
    expect(isDirectChild('/m/alice', '/m/alice/.Sent')).toBe(true);
    expect(isDirectChild('/m/alice', '/m/alice')).toBe(false);
    expect(isDirectChild('/m/alice', '/m/alice/.a/b')).toBe(false);
    expect(isDirectChild('/m/alice', '/m/alice/../bob')).toBe(false);
    expect(isDirectChild('/m/alice', '/m/alice/..')).toBe(false);
    expect(isDirectChild('/m/alice', '/m/bob')).toBe(false);
  });
});

describe('message file paths', () => {
  it('only plain entries of new/ cur/ tmp/', () => {
    expect(messageFilePath('/m/a', 'cur', 'x:2,S')).toBe('/m/a/cur/x:2,S');
    for (const bad of ['', '.', '..', '../x', 'a/b', 'a\0b']) expect(() => messageFilePath('/m/a', 'cur', bad), bad).toThrow();
  });
});
