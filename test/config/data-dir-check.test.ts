/**
 * data_dir and the greylist database's directory are checked when the manager loads its configuration:
 * a kernel filesystem (where Node's recursive mkdir looped at 100 % CPU, hanging the manager with no
 * output), a dangling symbolic link or a regular file in the way fails with file:line and key.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDataDirectories } from '../../src/config/data-dir-check.js';
import { checkDirectory } from '../../src/config/directory-check.js';
import { ConfigError } from '../../src/config/errors.js';
import { embeddedDefaults, loadConfig } from '../../src/config/load.js';
import { callAsNobody } from '../as-nobody.js';
import { hangGuard } from '../hang-guard.js';

const dir = mkdtempSync(join(tmpdir(), 'mailgate-data-dir-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'regular-file'), 'not a directory\n');
symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));

const GREYLIST = (extra: string): string => `
[[milter]]
name = "grey"
builtin = "greylist"
conf_text = "greylist 10m"
${extra}`;

/** The configuration in a file of its own, loaded as the manager loads it, and checked; with a hang guard. */
function check(name: string, text: string): { file: string; error: ConfigError | undefined } {
  const file = join(dir, `${name}.toml`);
  writeFileSync(file, text);
  const done = hangGuard(1_000);
  const error = checkDataDirectories(loadConfig(file));
  done();
  return { file, error };
}

describe('checkDataDirectories', () => {
  it('accepts a data_dir that exists, or can be created, and the default beside the file', () => {
    expect(check('exists', `data_dir = "${dir}"\n`).error).toBeUndefined();
    expect(check('deep', `data_dir = "state/a/b"\n${GREYLIST('')}`).error).toBeUndefined();
    expect(check('default', GREYLIST('sqlite_file = "gl/greylist.sqlite"')).error).toBeUndefined();
    expect(checkDataDirectories(embeddedDefaults(dir))).toBeUndefined();
  });

  it.each([
    ['under /proc', '/proc/mailgate-hostile/data', 'data directory /proc/mailgate-hostile/data is on proc (/proc), a kernel filesystem that cannot hold files'],
    ['/proc itself', '/proc', 'data directory /proc is on proc (/proc), a kernel filesystem that cannot hold files'],
    ['under /sys', '/sys/kernel/mailgate', 'data directory /sys/kernel/mailgate is on sysfs (/sys/kernel), a kernel filesystem that cannot hold files'],
    ['a regular file', join(dir, 'regular-file'), `data directory ${join(dir, 'regular-file')} is not a directory`],
    ['under a regular file', join(dir, 'regular-file', 'data'), `cannot create data directory ${join(dir, 'regular-file', 'data')}: ${join(dir, 'regular-file')} is not a directory`],
    [
      'under a dangling symbolic link',
      join(dir, 'dangling', 'data'),
      `cannot create data directory ${join(dir, 'dangling', 'data')}: ${join(dir, 'dangling')} is a symbolic link to ${join(dir, 'nowhere')}, which does not exist`,
    ],
  ])('refuses a data_dir %s, at its file:line', (name, path, why) => {
    const { file, error } = check(`data-dir-${name.replace(/\W+/g, '-')}`, `# state\ndata_dir = "${path}"\n`);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.toString()).toBe(`${file}:2: data_dir: ${why}`);
  });

  it('refuses the deprecated [manager] data_dir at its own line', () => {
    const { file, error } = check('manager-data-dir', '[manager]\nmax_connections = 10\ndata_dir = "/proc/mailgate"\n');
    expect(error?.toString()).toBe(`${file}:3: data_dir: data directory /proc/mailgate is on proc (/proc), a kernel filesystem that cannot hold files`);
  });

  it("refuses a greylist sqlite_file whose directory cannot be created, at sqlite_file's line, naming the child", () => {
    const { file, error } = check('sqlite-proc', `data_dir = "${dir}"\n${GREYLIST('sqlite_file = "/proc/mailgate/greylist.sqlite"')}`);
    expect(error?.toString()).toBe(
      `${file}:7: milter "grey".sqlite_file: greylist database directory /proc/mailgate is on proc (/proc), a kernel filesystem that cannot hold a database`,
    );
    // relative to data_dir, under a dangling link
    const link = check('sqlite-dangling', `data_dir = "${dir}"\n${GREYLIST('sqlite_file = "dangling/greylist.sqlite"')}`);
    expect(link.error?.toString()).toBe(
      `${link.file}:7: milter "grey".sqlite_file: cannot create greylist database directory ${join(dir, 'dangling')}: ${join(dir, 'dangling')} is a symbolic link to ${join(dir, 'nowhere')}, which does not exist`,
    );
  });

  it('checks the database of enabled SQLite greylists only', () => {
    const bad = 'sqlite_file = "/proc/mailgate/greylist.sqlite"';
    expect(check('disabled', GREYLIST(`${bad}\nenabled = false`)).error).toBeUndefined();
    expect(check('memory', GREYLIST(`${bad}\nstore = "memory"`)).error).toBeUndefined();
  });

  // Root may write anywhere: as root (as in CI) the check runs in a child process as nobody.
  it('wants the greylist database directory writable, and data_dir only usable', () => {
    const base = mkdtempSync(join(tmpdir(), 'mailgate-data-dir-ro-'));
    chmodSync(base, 0o755);
    const ro = join(base, 'ro');
    mkdirSync(ro, { mode: 0o555 });
    try {
      const calls: [string, { noun: string; holds: string; writable: boolean }][] = [
        [ro, { noun: 'data directory', holds: 'files', writable: false }],
        [join(ro, 'gl'), { noun: 'greylist database directory', holds: 'a database', writable: true }],
      ];
      const results = process.getuid?.() === 0 ? callAsNobody('config/directory-check.js', 'checkDirectory', calls) : calls.map(([d, use]) => checkDirectory(d, use) ?? null);
      expect(results).toEqual([null, `cannot create greylist database directory ${join(ro, 'gl')}: ${ro} is not writable`]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
