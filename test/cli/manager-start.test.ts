/** What `mailgate manager` tells an administrator at start: the main.cf line, and a warning when no child runs. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { postfixMilterAdvice, postfixMilterMessage } from '../../src/cli/postfix-milters.js';
import { listeningLine } from '../../src/cli/test-client.js';
import { tempDir } from '../milter/helpers.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');
const dir = tempDir();
afterAll(() => dir.cleanup());

/**
 * Starts the manager in `cwd`, waits for `until` (the last line it logs at start: a SIGTERM before its
 * handler is installed would kill it), stops it with SIGTERM; returns its log.
 */
function startAndStop(args: string[], cwd: string, until = /mail passes unfiltered/): Promise<{ code: number | null; stderr: string }> {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'manager', ...args], { cwd });
    let stderr = '';
    let stopped = false;
    // A hang guard only: the manager is up in well under a second.
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`manager did not report ready:\n${stderr}`));
    }, 20_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!stopped && until.test(stderr)) {
        stopped = true;
        child.kill('SIGTERM');
      }
    });
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stderr });
    });
  });
}

describe('the main.cf line the manager prints', () => {
  it('a socket in Postfix\'s queue directory is named relative to it, which works with and without the chroot', () => {
    expect(postfixMilterAdvice('unix:/var/spool/postfix/mailgate/milter.sock')).toEqual({
      spec: 'unix:mailgate/milter.sock',
      note: "relative to Postfix's queue directory /var/spool/postfix, where its daemons run: it works whether smtpd is chrooted there (Debian's default) or not",
    });
  });

  it('a socket elsewhere is named as it is, with a warning about the chroot', () => {
    const advice = postfixMilterAdvice('unix:/run/mailgate/milter.sock');
    expect(advice.spec).toBe('unix:/run/mailgate/milter.sock');
    expect(advice.note).toMatch(/chrooted smtpd .* cannot reach a socket outside \/var\/spool\/postfix/);
  });

  it('inet specs in Postfix\'s inet:HOST:PORT form; a wildcard listener on loopback', () => {
    expect(postfixMilterAdvice('inet:10025@[127.0.0.1]')).toEqual({ spec: 'inet:127.0.0.1:10025' });
    expect(postfixMilterAdvice('inet:10025@localhost')).toEqual({ spec: 'inet:localhost:10025' });
    expect(postfixMilterAdvice('inet:10025')).toEqual({ spec: 'inet:127.0.0.1:10025' });
    expect(postfixMilterAdvice('inet6:10025@[::1]')).toEqual({ spec: 'inet:[::1]:10025' });
    expect(postfixMilterAdvice('inet6:10025')).toEqual({ spec: 'inet:[::1]:10025' });
    // Postfix's own form, which connection_spec also accepts, comes back as it is.
    expect(postfixMilterAdvice('inet:127.0.0.1:10025')).toEqual({ spec: 'inet:127.0.0.1:10025' });
    expect(postfixMilterAdvice('inet:[::1]:10025')).toEqual({ spec: 'inet:[::1]:10025' });
  });

  it('names both smtpd_milters and non_smtpd_milters', () => {
    expect(postfixMilterMessage('inet:10025@[127.0.0.1]')).toBe(
      'for Postfix, in main.cf: smtpd_milters = inet:127.0.0.1:10025 (and non_smtpd_milters = inet:127.0.0.1:10025 for mail submitted with sendmail)',
    );
  });
});

describe('mailgate manager at start', () => {
  it('without a configuration file: one warning saying where it looked and that mail passes unfiltered; the main.cf line', async () => {
    const cwd = join(dir.path, 'empty');
    spawnSync('mkdir', ['-p', cwd]);
    const sock = join(dir.path, 'a.sock');
    const r = await startAndStop(['-s', `unix:${sock}`], cwd);
    expect(r.code, r.stderr).toBe(0);
    const records = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const warnings = records.filter((x) => x['level'] === 40);
    expect(warnings.map((w) => w['msg'])).toEqual([
      `no configuration file found (no --config, and no mailgate.toml in ${cwd}): no child milters, mail passes unfiltered`,
    ]);
    const line = records.find((x) => typeof x['smtpd_milters'] === 'string');
    expect(line?.['smtpd_milters']).toBe(`unix:${sock}`);
    expect(String(line?.['msg'])).toContain(`smtpd_milters = unix:${sock}`);
    expect(records.find((x) => x['msg'] === 'manager ready' && x['listen'] === `unix:${sock}`)).toBeDefined();
  });

  it('with a file that configures no child: the warning names the file', async () => {
    const cwd = join(dir.path, 'nochild');
    spawnSync('mkdir', ['-p', cwd]);
    writeFileSync(join(cwd, 'mailgate.toml'), `[manager]\nconnection_spec = "unix:${join(dir.path, 'b.sock')}"\n`);
    const r = await startAndStop([], cwd);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((x) => x['level'] === 40);
    expect(warnings.map((w) => w['msg'])).toEqual(['no child milter in mailgate.toml (no enabled [[milter]]): mail passes unfiltered']);
  });

  it('--log-format human: ISO time and level names, at info', async () => {
    const cwd = join(dir.path, 'human');
    spawnSync('mkdir', ['-p', cwd]);
    const r = await startAndStop(['-s', `unix:${join(dir.path, 'c.sock')}`, '--log-format', 'human'], cwd);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN no configuration file found /m);
    expect(r.stderr).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO manager ready /m);
    expect(r.stderr).not.toMatch(/ DEBUG /);
  });
});

describe('show-config', () => {
  it('ends with the main.cf lines, as TOML comments', () => {
    const toml = join(dir.path, 'show.toml');
    writeFileSync(toml, '[manager]\nconnection_spec = "unix:/var/spool/postfix/mailgate/milter.sock"\n');
    const r = spawnSync(process.execPath, [cli, 'show-config', '-c', toml], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.endsWith(
      [
        '# For Postfix, in main.cf (mailgate manager logs the same line at start):',
        '#   smtpd_milters = unix:mailgate/milter.sock',
        '#   non_smtpd_milters = unix:mailgate/milter.sock',
        "# relative to Postfix's queue directory /var/spool/postfix, where its daemons run: it works whether smtpd is chrooted there (Debian's default) or not",
        '',
      ].join('\n'),
    ), r.stdout).toBe(true);
  });
});

describe('test-client once it listens', () => {
  it('says where, and the main.cf line that reaches it', () => {
    expect(listeningLine('inet:10025@[127.0.0.1]')).toBe(
      'test-client: listening on inet:10025@[127.0.0.1]; for Postfix, in main.cf: smtpd_milters = inet:127.0.0.1:10025. Ctrl-C stops it.\n',
    );
  });
});

describe('help texts', () => {
  it.each(['test-server', 'test-client'])('%s --help shows no contradictory "(default: [])"', (command) => {
    const r = spawnSync(process.execPath, [cli, command, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('(default: [])');
    if (command === 'test-server') {
      expect(r.stdout).toMatch(/-r, --envelope-recipient <rcpt>\s+envelope recipient \(repeatable; default: receiver@example\.org, or the To: of --mail-file\)/);
    }
  });
});
