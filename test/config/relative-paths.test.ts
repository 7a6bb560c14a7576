/**
 * Every relative path in mailgate.toml is relative to the file's directory, never to the working
 * directory (systemd starts services from /): data_dir, socket paths in connection specs, the built-in
 * filters' sockets and files, trust.domains_file.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { applyOverrides } from '../../src/config/overrides.js';
import type { BuiltinOptionsMap } from '../../src/config/builtins/index.js';
import type { BuiltinMilterConfig } from '../../src/config/schema.js';

const F = '/etc/mailgate/mailgate.toml';

function builtin<K extends BuiltinMilterConfig['builtin']>(text: string, kind: K): BuiltinOptionsMap[K] {
  const m = parseConfig(text, F).config.milters[0] as BuiltinMilterConfig;
  expect(m.builtin).toBe(kind);
  return m.options as BuiltinOptionsMap[K];
}

describe('relative paths are relative to the configuration file', () => {
  it('the manager\'s and the children\'s unix sockets', () => {
    const c = parseConfig('[manager]\nconnection_spec = "unix:run/mailgate.sock"\n\n[[milter]]\nname = "a"\nconnection_spec = "local:../opendkim/sock"\n', F).config;
    expect(c.manager.connectionSpec).toBe('unix:/etc/mailgate/run/mailgate.sock');
    expect(c.milters[0]?.connectionSpec).toBe('unix:/etc/opendkim/sock');
    // absolute and inet specs are kept as written
    const kept = parseConfig('[manager]\nconnection_spec = "inet:10025@[127.0.0.1]"\n\n[[milter]]\nname = "a"\nconnection_spec = "unix:/run/x.sock"\n', F).config;
    expect(kept.manager.connectionSpec).toBe('inet:10025@[127.0.0.1]');
    expect(kept.milters[0]?.connectionSpec).toBe('unix:/run/x.sock');
  });

  it('spamd, clamd and rspamd sockets', () => {
    expect(builtin('[[milter]]\nname = "s"\nbuiltin = "spamassassin"\nspamd = "unix:spamd.sock"\n', 'spamassassin').spamd).toBe('unix:/etc/mailgate/spamd.sock');
    expect(builtin('[[milter]]\nname = "c"\nbuiltin = "clamav"\nclamd = ["unix:clamd.ctl", "/run/clamd.ctl"]\n', 'clamav').clamd).toStrictEqual([
      { type: 'unix', path: '/etc/mailgate/clamd.ctl' },
      { type: 'unix', path: '/run/clamd.ctl' },
    ]);
    expect(builtin('[[milter]]\nname = "r"\nbuiltin = "rspamd"\nsocket = "rspamd.sock"\n', 'rspamd').socket).toBe('/etc/mailgate/rspamd.sock');
  });

  it('greylist sqlite_file stays relative to data_dir, itself relative to the file', () => {
    const c = parseConfig('data_dir = "state"\n[[milter]]\nname = "g"\nbuiltin = "greylist"\nconf_text = "racl greylist default"\nsqlite_file = "g.sqlite"\n', F).config;
    expect(c.dataDir).toBe('/etc/mailgate/state');
    expect((c.milters[0] as Extract<BuiltinMilterConfig, { builtin: 'greylist' }>).options.sqliteFile).toBe('g.sqlite');
  });

  it('a file named relative to the working directory: its paths are relative to its own directory, whatever the cwd', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailgate-relative-'));
    mkdirSync(join(dir, 'etc'));
    writeFileSync(join(dir, 'etc', 'm.toml'), 'data_dir = "data"\n[manager]\nconnection_spec = "unix:m.sock"\n');
    const fromDir = loadConfig('etc/m.toml', { cwd: dir }).config;
    expect(fromDir.dataDir).toBe(join(dir, 'etc', 'data'));
    expect(fromDir.manager.connectionSpec).toBe(`unix:${join(dir, 'etc', 'm.sock')}`);
    const fromRoot = loadConfig(relative('/', join(dir, 'etc', 'm.toml')), { cwd: '/' }).config;
    expect(fromRoot).toStrictEqual(fromDir);
  });

  it('a relative -s on the command line stays relative to the working directory', () => {
    const over = applyOverrides(parseConfig('', F), { connectionSpec: 'unix:here.sock' });
    expect(over.config.manager.connectionSpec).toBe('unix:here.sock');
  });
});
