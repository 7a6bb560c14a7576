/**
 * makeDirectory: mkdir -p for configured paths without Node's recursive mkdir, which loops forever at
 * 100 % CPU under /proc (the manager hung with a greylist database there).
 */
import { existsSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDirectory } from '../../src/config/make-directory.js';
import { hangGuard } from '../hang-guard.js';

const dir = mkdtempSync(join(tmpdir(), 'mailgate-make-directory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('makeDirectory', () => {
  it('creates the missing directories, outermost first, with the mode; none when it exists', () => {
    const deep = join(dir, 'a', 'b', 'c');
    expect(makeDirectory(deep, 0o700)).toEqual([join(dir, 'a'), join(dir, 'a', 'b'), deep]);
    for (const d of [join(dir, 'a'), deep]) expect(statSync(d).mode & 0o777).toBe(0o700);
    expect(makeDirectory(deep, 0o700)).toEqual([]);
    expect(makeDirectory(dir, 0o700)).toEqual([]);
  });

  it.each([
    ['/proc/mailgate-hostile/a/b', '/proc is on proc, a kernel filesystem'],
    ['/proc/mailgate-hostile', '/proc is on proc, a kernel filesystem'],
    ['/sys/kernel/mailgate', '/sys/kernel is on sysfs, a kernel filesystem'],
  ])('refuses %s at once, creating nothing', (path, why) => {
    const done = hangGuard(1_000);
    expect(() => makeDirectory(path, 0o700)).toThrow(why);
    done();
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a dangling symbolic link or a regular file in the way, creating nothing', () => {
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
    expect(() => makeDirectory(join(dir, 'dangling', 'x'), 0o700)).toThrow(`${join(dir, 'dangling')} is a symbolic link to ${join(dir, 'nowhere')}, which does not exist`);
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
    writeFileSync(join(dir, 'file'), '');
    expect(() => makeDirectory(join(dir, 'file', 'x', 'y'), 0o700)).toThrow(`${join(dir, 'file')} is not a directory`);
    expect(() => makeDirectory(join(dir, 'file'), 0o700)).toThrow(`${join(dir, 'file')} is not a directory`);
  });
});
