import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addDetectedMilters } from '../../src/config/detected.js';
import { ConfigError } from '../../src/config/errors.js';
import { embeddedDefaults, parseConfig } from '../../src/config/load.js';
import { applyOverrides } from '../../src/config/overrides.js';
import type { MilterConfig } from '../../src/config/schema.js';
import { checkManagerSocket, checkSocketDirectory } from '../../src/config/socket-dir.js';
import { EXAMPLE } from './fixtures.js';
import { callAsNobody } from '../as-nobody.js';

describe('applyOverrides', () => {
  const loaded = parseConfig(EXAMPLE, 'm.toml');

  it('replaces values and records origin "command line"', () => {
    const over = applyOverrides(loaded, { connectionSpec: 'inet:2525@[127.0.0.1]', unixSocketGroup: 'mail', unixSocketMode: '0600' });
    expect(over.config.manager).toMatchObject({ connectionSpec: 'inet:2525@[127.0.0.1]', unixSocketGroup: 'mail', unixSocketMode: 0o600 });
    expect(over.origins.get('manager.connection_spec')).toBe('command line');
    expect(over.origins.get('manager.unix_socket_group')).toBe('command line');
    expect(over.origins.get('manager.unix_socket_mode')).toBe('command line');
    expect(over.origins.get('manager.fallback_status')).toBe('m.toml:5');
  });

  it("takes Postfix's inet:HOST:PORT for --connection-spec and connection_spec", () => {
    expect(applyOverrides(loaded, { connectionSpec: 'inet:127.0.0.1:10025' }).config.manager.connectionSpec).toBe('inet:127.0.0.1:10025');
    const file = parseConfig('[manager]\nconnection_spec = "inet:[::1]:10025"\n', 'p.toml');
    expect(file.config.manager.connectionSpec).toBe('inet:[::1]:10025');
  });

  it('leaves the input untouched and changes nothing without options', () => {
    const same = applyOverrides(loaded, {});
    expect(same.config).toStrictEqual(loaded.config);
    expect(loaded.config.manager.connectionSpec).toBe('unix:/run/mailgate/milter.sock');
    expect(loaded.origins.get('manager.connection_spec')).toBe('m.toml:2');
  });

  it('sets a group the file did not', () => {
    const over = applyOverrides(embeddedDefaults(), { unixSocketGroup: 'postfix' });
    expect(over.config.manager.unixSocketGroup).toBe('postfix');
  });

  it.each([
    [{ connectionSpec: 'tcp:1' }, 'command line: --connection-spec: connection spec "tcp:1": unknown type "tcp" (accepted: unix:PATH, inet:PORT@HOST, inet:PORT@[ADDR], inet6:PORT@ADDR (milter), inet:HOST:PORT or inet:[ADDR]:PORT (Postfix))'],
    [{ unixSocketMode: '999' }, 'command line: --unix-socket-mode: unix_socket_mode "999" is not an octal mode like 0660'],
    [{ unixSocketGroup: '' }, 'command line: --unix-socket-group: must not be empty (leave unix_socket_group out for no chgrp)'],
  ])('rejects %o', (overrides, message) => {
    expect(() => applyOverrides(loaded, overrides)).toThrow(ConfigError);
    expect(() => applyOverrides(loaded, overrides)).toThrow(message);
  });
});

describe('addDetectedMilters', () => {
  const loaded = parseConfig(EXAMPLE, 'm.toml');
  const base = {
    enabled: true,
    fallbackStatus: 'accept' as const,
    evaluationMode: false,
    timeouts: { connection: 297, writing: 7, reading: 7, endOfMessage: 297 },
  };
  const detected: MilterConfig[] = [
    { ...base, name: 'opendkim', connectionSpec: 'unix:/other.sock', applicableConditions: [] },
    { ...base, name: 'milter-greylist', connectionSpec: 'unix:/run/milter-greylist/milter-greylist.sock', applicableConditions: ['s25r', 'remote network'] },
  ];

  it('appends new ones with origin "detected"; the file wins on a name clash', () => {
    const out = addDetectedMilters(loaded, detected);
    expect(out.config.milters.map((m) => m.name)).toStrictEqual(['opendkim', 'milter-greylist']);
    expect(out.config.milters[0]?.connectionSpec).toBe('unix:/run/opendkim/opendkim.sock');
    expect(out.config.milters[1]?.applicableConditions).toStrictEqual(['S25R', 'Remote Network']);
    expect(out.origins.get('milter.milter-greylist')).toBe('detected');
    expect(out.origins.get('milter.milter-greylist.connection_spec')).toBe('detected');
    expect(out.origins.get('milter.opendkim.connection_spec')).toBe('m.toml:9');
  });

  it('rejects an invalid detected milter', () => {
    const bad = [{ ...base, name: 'x', connectionSpec: 'bogus', applicableConditions: [] }];
    expect(() => addDetectedMilters(loaded, bad)).toThrow('detected: milter "x".connection_spec: connection spec "bogus"');
  });
});

describe('checkSocketDirectory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-socket-dir-'));
  const asRoot = process.getuid?.() === 0;

  it('accepts an existing writable directory', () => {
    expect(checkSocketDirectory(join(dir, 'milter.sock'))).toBeUndefined();
  });

  it('accepts a directory that can be created under a writable ancestor', () => {
    expect(checkSocketDirectory(join(dir, 'a', 'b', 'c', 'milter.sock'))).toBeUndefined();
  });

  it('rejects a path under a regular file', () => {
    const file = join(dir, 'file');
    writeFileSync(file, '');
    expect(checkSocketDirectory(join(file, 'milter.sock'))).toBe(`socket directory ${file} is not a directory`);
    expect(checkSocketDirectory(join(file, 'sub', 'milter.sock'))).toBe(
      `cannot create socket directory ${join(file, 'sub')}: ${file} is not a directory`,
    );
  });

  // Root may write anywhere: as root (as in CI) the check runs in a child process as nobody.
  it('rejects a directory that cannot be created (read-only ancestor)', () => {
    const base = mkdtempSync(join(tmpdir(), 'mailgate-socket-ro-'));
    chmodSync(base, 0o755); // the unprivileged child must reach ro
    const ro = join(base, 'ro');
    mkdirSync(ro, { mode: 0o555 });
    try {
      const paths = [join(ro, 'run', 'mailgate', 'milter.sock'), join(ro, 'milter.sock')];
      const results = asRoot ? callAsNobody('config/socket-dir.js', 'checkSocketDirectory', paths.map((p) => [p])) : paths.map((p) => checkSocketDirectory(p));
      expect(results).toEqual([
        `cannot create socket directory ${join(ro, 'run', 'mailgate')}: ${ro} is not writable`,
        `socket directory ${ro} is not writable`,
      ]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  // Hostile-test defects: each of these failed only after startup (no file:line), or hung.
  it('rejects a path under a dangling symbolic link, naming the link and its missing target', () => {
    const link = join(dir, 'dangling');
    symlinkSync(join(dir, 'nowhere'), link);
    expect(checkSocketDirectory(join(link, 'sub', 'milter.sock'))).toBe(
      `cannot create socket directory ${join(link, 'sub')}: ${link} is a symbolic link to ${join(dir, 'nowhere')}, which does not exist`,
    );
    expect(checkSocketDirectory(join(link, 'milter.sock'))).toBe(
      `cannot create socket directory ${link}: ${link} is a symbolic link to ${join(dir, 'nowhere')}, which does not exist`,
    );
  });

  it.each([
    ['/proc/mailgate/milter.sock', 'proc', '/proc'],
    ['/proc/milter.sock', 'proc', '/proc'],
    ['/sys/kernel/mailgate/milter.sock', 'sysfs', '/sys/kernel'],
  ])('rejects %s: a kernel filesystem cannot hold a socket', (path, fs, at) => {
    expect(checkSocketDirectory(path)).toBe(`socket directory ${dirname(path)} is on ${fs} (${at}), a kernel filesystem that cannot hold a socket`);
  });

  it('checkManagerSocket reports file:line and key for the configured spec', () => {
    const file = join(dir, 'file2');
    writeFileSync(file, '');
    const text = `[manager]\n\nconnection_spec = "unix:${file}/milter.sock"\n`;
    const err = checkManagerSocket(parseConfig(text, '/etc/mailgate/mailgate.toml'));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.toString()).toBe(`/etc/mailgate/mailgate.toml:3: manager.connection_spec: socket directory ${file} is not a directory`);
  });

  it('checkManagerSocket names the command-line option when the spec came from there', () => {
    const file = join(dir, 'file3');
    writeFileSync(file, '');
    const loaded = applyOverrides(embeddedDefaults(), { connectionSpec: `unix:${file}/s.sock` });
    expect(checkManagerSocket(loaded)?.toString()).toBe(`command line: --connection-spec: socket directory ${file} is not a directory`);
  });

  it('checkManagerSocket accepts inet specs and good unix paths', () => {
    expect(checkManagerSocket(embeddedDefaults())).toBeUndefined();
    expect(checkManagerSocket(applyOverrides(embeddedDefaults(), { connectionSpec: `unix:${dir}/ok.sock` }))).toBeUndefined();
  });
});
