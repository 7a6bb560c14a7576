/**
 * contrib/systemd/mailgate.service as systemd reads it: `mailgate` found wherever npm put it, Postfix
 * ordered after the socket exists (Type=exec and an ExecStartPost that waits for it), and Debian's
 * postfix@-.service named beside postfix.service.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../milter/helpers.js';

const UNIT_FILE = join(import.meta.dirname, '../../contrib/systemd/mailgate.service');
const unit = readFileSync(UNIT_FILE, 'utf8');
const SOCKET = '/var/spool/postfix/mailgate/milter.sock';

/** The values of a key in the unit, in order. */
function values(key: string): string[] {
  return unit
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));
}

describe('the systemd unit', () => {
  const dir = tempDir('mailgate-unit-');
  afterAll(() => dir.cleanup());

  it('systemd finds a bare `mailgate` in /usr/local/bin, where a nodejs.org npm installs it', () => {
    // A root where mailgate exists only in /usr/local/bin, and the other commands the unit runs.
    const root = join(dir.path, 'root');
    for (const bin of ['usr/local/bin/mailgate', 'usr/bin/install', 'bin/sh', 'bin/kill']) {
      mkdirSync(join(root, bin, '..'), { recursive: true });
      writeFileSync(join(root, bin), '#!/bin/sh\n');
      chmodSync(join(root, bin), 0o755);
    }
    mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
    writeFileSync(join(root, 'etc/systemd/system/mailgate.service'), unit);
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', `--root=${root}`, '/etc/systemd/system/mailgate.service'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.error, 'systemd-analyze must be installed (Debian: systemd)').toBeUndefined();
    const output = `${r.stdout}${r.stderr}`;
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
