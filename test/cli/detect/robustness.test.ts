/** Unreadable, garbage and oddly shaped files never make detection throw (or hang). */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectMilters } from '../../../src/cli/detect/index.js';
import { detectIn, initScript, only, tree, unit, WANTS } from './tree.js';

const PATHS = [
  '/lib/systemd/system/opendkim.service',
  '/etc/default/spamass-milter',
  '/etc/init.d/spamass-milter',
  '/etc/init.d/clamav-milter',
  '/etc/clamav/clamav-milter.conf',
  '/etc/milter-greylist/greylist.conf',
  '/etc/init.d/milter-greylist',
  '/etc/opendkim.conf',
  '/lib/systemd/system/rspamd.service',
  '/etc/rspamd/rspamd.conf',
  '/etc/rspamd/local.d/worker-proxy.inc',
] as const;

describe('robustness', () => {
  it('survives binary garbage in every file it reads', () => {
    const files: Record<string, string> = {};
    for (const path of PATHS) files[path] = randomBytes(4096).toString('latin1');
    files[`${WANTS}/opendkim.service`] = 'x';
    expect(() => detectIn(files)).not.toThrow();
  });

  it('survives arbitrary text in every file it reads (property)', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'Z', '=', '"', "'", '$', '{', '}', '[', ']', '-p', ' ', '\n', '#', 'if ', 'fi', ';', 'then', '\\', ':', '/', '@', 'SOCKET=', 'Socket ', 'MilterSocket ', 'socket "', 'Example', 'ExecStart=', '[Service]', 'EnvironmentFile=', 'bind_socket = ', 'milter = ') });
    fc.assert(
      fc.property(fc.tuple(...PATHS.map(() => text)), (contents) => {
        const files: Record<string, string> = { [`${WANTS}/opendkim.service`]: 'x' };
        PATHS.forEach((path, i) => (files[path] = contents[i] ?? ''));
        const { found } = detectIn(files);
        for (const m of found) {
          expect(m.enabled && m.problem !== undefined).toBe(false);
          if (m.connectionSpec !== undefined) expect(m.problem).toBeUndefined();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('treats directories, dangling links, loops and FIFOs where files belong as missing', () => {
    const root = tree({
      '/lib/systemd/system/opendkim.service': unit('OpenDKIM', 'EnvironmentFile=/etc/default/opendkim\nExecStart=/usr/sbin/opendkim -p $SOCKET'),
      [`${WANTS}/opendkim.service`]: 'x',
      '/etc/default/opendkim': { dir: true },
      '/etc/opendkim.conf': { link: '/nowhere/opendkim.conf' },
      '/lib/systemd/system/spamass-milter.service': { dir: true },
      '/etc/init.d/spamass-milter': { link: '/etc/init.d/loop' },
      '/etc/init.d/loop': { link: '/etc/init.d/spamass-milter' },
      '/etc/init.d/clamav-milter': initScript('clamav-milter', 'clamav'),
      '/etc/clamav': { dir: true },
    });
    execFileSync('mkfifo', [join(root, '/etc/clamav/clamav-milter.conf')]);
    const found = detectMilters({ root, platform: 'debian' });
    expect(found.map((m) => m.name)).toEqual(['clamav-milter', 'opendkim']);
    expect(only(found, 'opendkim')).toMatchObject({ enabled: false, problem: 'no socket found' });
    expect(only(found, 'clamav-milter')).toMatchObject({ enabled: false, problem: 'no socket found' });
  });

  it('treats an unreadable file as missing', () => {
    const files = {
      '/etc/init.d/spfmilter': initScript('spfmilter', 'spf', 'SOCKET=/run/from-script.sock\n'),
      '/etc/default/spfmilter': 'SOCKET=/run/from-default.sock\n',
    };
    const base = tree(files);
    chmodSync(join(base, '/etc/default/spfmilter'), 0o000);
    const found = detectMilters({ root: base, platform: 'debian' });
    // root can still read a mode-000 file; anyone else gets the script's value.
    const expected = process.getuid?.() === 0 ? 'unix:/run/from-default.sock' : 'unix:/run/from-script.sock';
    expect(only(found, 'spfmilter').connectionSpec).toBe(expected);
  });

  it('copes with CRLF line endings and a unit with continuation lines', () => {
    const { found } = detectIn({
      '/lib/systemd/system/opendkim.service': '[Unit]\r\nDescription=OpenDKIM\r\n[Service]\r\nExecStart=/usr/sbin/opendkim \\\r\n  -p inet:8891@localhost\r\n',
      [`${WANTS}/opendkim.service`]: 'x',
      '/etc/init.d/spfmilter': '#!/bin/sh\r\nSOCKET="/run/spf.sock"\r\n',
    });
    expect(only(found, 'opendkim')).toMatchObject({ connectionSpec: 'inet:8891@localhost', enabled: true });
    expect(only(found, 'spfmilter').connectionSpec).toBe('unix:/run/spf.sock');
  });
});
