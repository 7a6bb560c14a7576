/**
 * contrib/systemd/ as systemd reads it. mailgate.service runs `mailgate start` (the whole mail server): ports
 * below 1024 through CAP_NET_BIND_SERVICE only, /var/lib/mailgate as StateDirectory, the same hardening as
 * the manager's unit. mailgate-manager.service runs `mailgate manager` behind Postfix: `mailgate` found
 * wherever npm put it, Postfix ordered after the socket exists (Type=exec and an ExecStartPost that waits
 * for it), and Debian's postfix@-.service named beside postfix.service. The two conflict (one milter
 * listener per configuration).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SHUTDOWN_GRACE_SECONDS } from '../../src/cli/start.js';
import { tempDir } from '../milter/helpers.js';

const CONTRIB = join(import.meta.dirname, '../../contrib/systemd');
const unit = readFileSync(join(CONTRIB, 'mailgate-manager.service'), 'utf8');
const startUnit = readFileSync(join(CONTRIB, 'mailgate.service'), 'utf8');
const SOCKET = '/var/spool/postfix/mailgate/milter.sock';

/** The values of a key in a unit (the manager's by default), in order. */
function values(key: string, text = unit): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));
}

/** `systemd-analyze verify` of `text` as /etc/systemd/system/NAME, in a root where mailgate is only in /usr/local/bin. */
function verify(root: string, name: string, text: string): string {
  for (const bin of ['usr/local/bin/mailgate', 'usr/bin/install', 'bin/sh', 'bin/kill']) {
    mkdirSync(join(root, bin, '..'), { recursive: true });
    writeFileSync(join(root, bin), '#!/bin/sh\n');
    chmodSync(join(root, bin), 0o755);
  }
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  writeFileSync(join(root, 'etc/systemd/system', name), text);
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', `--root=${root}`, `/etc/systemd/system/${name}`], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(r.error, 'systemd-analyze must be installed (Debian: systemd)').toBeUndefined();
  return `${r.stdout}${r.stderr}`;
}

/** What the two units must agree on. */
const SHARED = ['NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'User', 'Group', 'RuntimeDirectory', 'StateDirectory', 'WorkingDirectory'];

describe('the systemd unit of mailgate start (mailgate.service)', () => {
  const dir = tempDir('mailgate-start-unit-');
  afterAll(() => dir.cleanup());

  it('systemd reads it and finds a bare `mailgate` in /usr/local/bin; reload is SIGHUP, stop SIGTERM', () => {
    const output = verify(join(dir.path, 'root'), 'mailgate.service', startUnit);
    expect(output).not.toMatch(/mailgate is not executable|Neither a valid executable name|Invalid|Unknown/i);
    expect(values('ExecStart', startUnit)).toEqual(['mailgate start --config /etc/mailgate/mailgate.toml']);
    expect(values('ExecReload', startUnit)).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(values('KillSignal', startUnit)).toEqual(['SIGTERM']);
  });

  it('binds 25, 465 and 587 as the user mailgate with CAP_NET_BIND_SERVICE and no other capability', () => {
    expect(values('User', startUnit)).toEqual(['mailgate']);
    expect(values('AmbientCapabilities', startUnit)).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(values('CapabilityBoundingSet', startUnit)).toEqual(['CAP_NET_BIND_SERVICE']);
  });

  it("keeps its data in /var/lib/mailgate (0750, as mailgate start makes data_dir) with the manager unit's hardening", () => {
    expect(values('StateDirectory', startUnit)).toEqual(['mailgate']);
    expect(values('StateDirectoryMode', startUnit)).toEqual(['0750']);
    expect(values('WorkingDirectory', startUnit)).toEqual(['/var/lib/mailgate']);
    for (const key of SHARED) expect(values(key, startUnit), key).toEqual(values(key));
  });

  it('the SIGTERM drain fits in TimeoutStopSec, and the two units conflict', () => {
    // The SMTP sessions' grace (the milter's drain runs beside it), then the queue's 10 s for deliveries in flight.
    expect(Number(values('TimeoutStopSec', startUnit)[0])).toBeGreaterThan(SHUTDOWN_GRACE_SECONDS + 10);
    expect(values('Conflicts', startUnit)).toEqual(['mailgate-manager.service']);
    expect(values('Conflicts')).toEqual(['mailgate.service']);
  });
});

describe('the systemd unit of mailgate manager (mailgate-manager.service)', () => {
  const dir = tempDir('mailgate-unit-');
  afterAll(() => dir.cleanup());

  it('systemd finds a bare `mailgate` in /usr/local/bin, where a nodejs.org npm installs it', () => {
    const output = verify(join(dir.path, 'root'), 'mailgate-manager.service', unit);
    expect(output).not.toMatch(/mailgate is not executable|Neither a valid executable name|Invalid|Unknown/i);
    expect(values('ExecStart')).toEqual(['mailgate manager --config /etc/mailgate/mailgate.toml']);
  });

  it('starts before both of Debian’s Postfix units, and counts as started only once the socket exists', () => {
    expect(values('Before')).toEqual(['postfix.service postfix@-.service']);
    expect(values('Type')).toEqual(['exec']);
    expect(values('ExecStartPost').join('\n')).toContain(SOCKET);
  });

  it('ExecStartPost waits for the socket and then succeeds', async () => {
    const [post] = values('ExecStartPost');
    // As systemd runs it: "$$" is a literal "$"; the socket moved under the test's directory.
    const socket = join(dir.path, 'milter.sock');
    const script = /^\/bin\/sh -c '(.*)'$/.exec(post!)?.[1]?.replaceAll('$$', '$').replaceAll(SOCKET, socket);
    expect(script).toBeDefined();
    let server: Server | undefined;
    const appear = setTimeout(() => {
      server = createServer().listen(socket);
    }, 300);
    // Asynchronously: the socket is made by this process while the script waits.
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn('/bin/sh', ['-c', script!], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    clearTimeout(appear);
    server?.close();
    expect(r).toEqual({ code: 0, stderr: '' });
  });
});
