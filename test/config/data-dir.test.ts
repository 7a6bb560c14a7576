/** The top-level data_dir, the deprecated [manager] data_dir, and how show-config prints both. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatConfig } from '../../src/config/format.js';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { configError } from './fixtures.js';

const F = '/etc/mailgate/mailgate.toml';

describe('data_dir', () => {
  it('is a top-level key, relative to the file\'s directory, default ./data beside the file', () => {
    const top = parseConfig('data_dir = "state"\n\n[manager]\nmax_connections = 1\n', F);
    expect(top.config.dataDir).toBe('/etc/mailgate/state');
    expect(top.origins.get('data_dir')).toBe(`${F}:1`);
    expect(top.warnings).toStrictEqual([]);
    expect(parseConfig('data_dir = "/var/lib/mailgate"\n', F).config.dataDir).toBe('/var/lib/mailgate');
    const none = parseConfig('', F);
    expect(none.config.dataDir).toBe('/etc/mailgate/data');
    expect(none.origins.get('data_dir')).toBe('default');
  });

  it('[manager] data_dir still works, with one warning at its file:line that names the top-level key', () => {
    const old = parseConfig('[manager]\nfallback_status = "accept"\ndata_dir = "state"\n', F);
    expect(old.config.dataDir).toBe('/etc/mailgate/state');
    expect(old.warnings).toStrictEqual([`${F}:3: manager.data_dir: deprecated; write data_dir at the top level of the file, before any [table]`]);
    // the effective value came from [manager]
    expect(old.origins.get('data_dir')).toBe(`${F}:3`);
    expect(old.origins.get('manager.data_dir')).toBe(`${F}:3`);
  });

  it('both set to the same directory: a warning to remove the old one', () => {
    const both = parseConfig('data_dir = "/var/lib/mailgate"\n[manager]\ndata_dir = "/var/lib/mailgate/"\n', F);
    expect(both.config.dataDir).toBe('/var/lib/mailgate');
    expect(both.origins.get('data_dir')).toBe(`${F}:1`);
    expect(both.warnings).toStrictEqual([`${F}:3: manager.data_dir: deprecated and the same as the top-level data_dir on line 1; remove it`]);
  });

  it('both set to different directories: refused at the [manager] line', () => {
    const e = configError('data_dir = "/var/lib/a"\n\n[manager]\ndata_dir = "/var/lib/b"\n', 'm.toml');
    expect(e.message).toBe(
      'm.toml:4: manager.data_dir: [manager] data_dir ("/var/lib/b") and the top-level data_dir on line 1 ("/var/lib/a") differ; keep only the top-level one',
    );
  });

  it('must be a non-empty string', () => {
    expect(configError('data_dir = 3\n').message).toBe('mailgate.toml:1: data_dir: expected a directory path, got an integer (3)');
    expect(configError('data_dir = ""\n').message).toBe('mailgate.toml:1: data_dir: must not be empty (leave data_dir out instead)');
  });

  it('show-config prints the top-level value with its origin, and the [manager] one with its own', () => {
    const old = formatConfig(parseConfig('[manager]\ndata_dir = "state"\n', F));
    expect(old).toContain(`\n# ${F}:2\ndata_dir = "/etc/mailgate/state"\n# default\nhostname = `);
    expect(old).toContain(`# ${F}:2\n# data_dir is deprecated here: its value is the top-level data_dir above\n`);
    const fresh = formatConfig(parseConfig('', F));
    expect(fresh).toContain('\n# default\ndata_dir = "/etc/mailgate/data"\n# default\nhostname = ');
    expect(fresh).toContain('# default\n# data_dir is not set (deprecated here: use the top-level data_dir)\n');
    // what is printed reads back to the same directory, without a warning
    const again = parseConfig(old, '/elsewhere/printed.toml');
    expect(again.config.dataDir).toBe('/etc/mailgate/state');
    expect(again.warnings).toStrictEqual([]);
  });

  it('without a file: relative to the current directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailgate-data-dir-'));
    expect(loadConfig(undefined, { cwd: dir }).config.dataDir).toBe(join(dir, 'data'));
    writeFileSync(join(dir, 'mailgate.toml'), 'data_dir = "d"\n');
    expect(loadConfig(undefined, { cwd: dir }).config.dataDir).toBe(join(dir, 'd'));
  });
});
