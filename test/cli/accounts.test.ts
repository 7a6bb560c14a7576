/**
 * `mailgate domain|user|alias`, run as the built command in temporary directories: what each prints and
 * exits with, the database's mode, the refusals, a Dovecot passwd-file import whose users then log in,
 * and the password prompt on a terminal (util-linux `script` gives the command a pseudo-terminal).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { openAccounts } from '../../src/store/accounts/open.js';
import { builtModule } from '../dist.js';

const cli = builtModule('cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'mailgate-accounts-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function mailgate(args: string[], cwd: string, stdin = ''): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** A directory with mailgate.toml (data_dir = "state") or none (the embedded defaults: ./data). */
function project(name: string, withFile: boolean): string {
  const root = join(dir, name);
  mkdirSync(root, { recursive: true });
  if (withFile) writeFileSync(join(root, 'mailgate.toml'), 'data_dir = "state"\n');
  return root;
}

describe('with the embedded defaults (data in ./data, local domain localhost)', () => {
  test('a listing creates nothing; user add creates the database 0600 in a 0700 ./data', async () => {
    const root = project('defaults', false);
    expect(await mailgate(['domain', 'list'], root)).toEqual({ code: 0, stdout: 'localhost (config)\n', stderr: '' });
    expect(await mailgate(['user', 'list'], root)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(existsSync(join(root, 'data'))).toBe(false);
    const r = await mailgate(['user', 'add', 'Alice@LocalHost', '--password-stdin'], root, 's3cret pass\nignored\n');
    expect(r).toEqual({ code: 0, stdout: `user alice@localhost added; Maildir ${join(root, 'data', 'mail', 'localhost', 'alice')}\n`, stderr: '' });
    expect(statSync(join(root, 'data')).mode & 0o777).toBe(0o700);
    expect(statSync(join(root, 'data', 'accounts.sqlite')).mode & 0o777).toBe(0o600);
    expect(await mailgate(['user', 'list'], root)).toEqual({ code: 0, stdout: 'alice@localhost SCRYPT\n', stderr: '' });
    const a = openAccounts({ dataDir: join(root, 'data'), localDomains: ['localhost'] });
    expect(await a.authenticate('alice@localhost', 's3cret pass')).toBe('alice@localhost');
    a.close();
  });
});

describe('with --config FILE', () => {
  const root = project('configured', true);
  const cfg = ['--config', join(root, 'mailgate.toml')];

  test('user add for a domain that is not local is refused until the domain is added', async () => {
    expect(await mailgate(['user', 'add', 'bob@example.org', '--password-stdin', ...cfg], dir, 'pw\n')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'mailgate: example.org is not a local domain: add it first with `mailgate domain add example.org`\n',
    });
    expect(await mailgate(['domain', 'add', 'Example.ORG', ...cfg], dir)).toEqual({ code: 0, stdout: 'domain example.org added\n', stderr: '' });
    expect(await mailgate(['domain', 'add', 'example.org', ...cfg], dir)).toMatchObject({ code: 1, stderr: 'mailgate: domain example.org already exists\n' });
    expect(await mailgate(['user', 'add', 'bob@example.org', '--password-stdin', ...cfg], dir, 'pw\n')).toMatchObject({ code: 0 });
    expect(existsSync(join(root, 'state', 'accounts.sqlite'))).toBe(true);
    expect(await mailgate(['user', 'add', 'bob@example.org', '--password-stdin', ...cfg], dir, 'pw\n')).toMatchObject({
      code: 1,
      stderr: 'mailgate: user bob@example.org already exists\n',
    });
    expect(await mailgate(['domain', 'list', ...cfg], dir)).toEqual({ code: 0, stdout: 'example.org\nlocalhost (config)\n', stderr: '' });
  });

  test('passwd, aliases, del', async () => {
    expect(await mailgate(['user', 'passwd', 'BOB@example.org', '--password-stdin', ...cfg], dir, 'new\r\n')).toEqual({
      code: 0,
      stdout: 'password of bob@example.org changed\n',
      stderr: '',
    });
    expect(await mailgate(['user', 'passwd', 'nobody@example.org', '--password-stdin', ...cfg], dir, 'x\n')).toMatchObject({ code: 1, stderr: 'mailgate: no user nobody@example.org\n' });
    expect(await mailgate(['alias', 'add', 'info@example.org', 'bob@example.org', 'Friend@remote.example', ...cfg], dir)).toMatchObject({ code: 0 });
    expect(await mailgate(['alias', 'add', 'loop@example.org', 'nobody@example.org', ...cfg], dir)).toMatchObject({
      code: 1,
      stderr: 'mailgate: nobody@example.org is neither a user nor an alias (its domain is local)\n',
    });
    expect(await mailgate(['alias', 'list', ...cfg], dir)).toEqual({ code: 0, stdout: 'info@example.org -> bob@example.org, Friend@remote.example\n', stderr: '' });
    expect(await mailgate(['user', 'del', 'bob@example.org', ...cfg], dir)).toMatchObject({ code: 1, stderr: expect.stringContaining('is a target of info@example.org') as unknown });
    expect(await mailgate(['alias', 'del', 'info@example.org', ...cfg], dir)).toEqual({ code: 0, stdout: 'alias info@example.org deleted\n', stderr: '' });
    expect(await mailgate(['domain', 'del', 'example.org', ...cfg], dir)).toMatchObject({
      code: 1,
      stderr: 'mailgate: domain example.org still has 1 user and 0 aliases: delete them first\n',
    });
    expect(await mailgate(['user', 'del', 'bob@example.org', ...cfg], dir)).toEqual({ code: 0, stdout: 'user bob@example.org deleted\n', stderr: '' });
    expect(await mailgate(['domain', 'del', 'example.org', ...cfg], dir)).toEqual({ code: 0, stdout: 'domain example.org deleted\n', stderr: '' });
  });

  test('usage errors exit 2: no terminal and no --password-stdin, an empty password, a bad address, a missing file', async () => {
    expect(await mailgate(['user', 'add', 'carol@localhost', ...cfg], dir)).toEqual({
      code: 2,
      stdout: '',
      stderr: 'mailgate: standard input is not a terminal to ask the password on: use --password-stdin\n',
    });
    expect(await mailgate(['user', 'add', 'carol@localhost', '--password-stdin', ...cfg], dir, '\n')).toMatchObject({
      code: 2,
      stderr: 'mailgate: --password-stdin: no password on standard input\n',
    });
    expect(await mailgate(['user', 'add', '../carol@localhost', '--password-stdin', ...cfg], dir, 'x\n')).toMatchObject({ code: 2 });
    expect(await mailgate(['user', 'list', '--config', join(dir, 'missing.toml')], dir)).toMatchObject({ code: 2 });
  });
});

describe('user import', () => {
  const root = project('import', true);
  const cfg = ['--config', join(root, 'mailgate.toml')];
  // `doveadm pw -s SCHEME -p 'correct horse'`
  const sha = '{SHA512-CRYPT}$6$JjeEITPybGbyQxDp$XhDWg34lR5GaVAhuyminwh2AjwSfCSsTAKfEvchrFsbKEJZBic4osLNIksG7p0EnYkRCdoYUPYSaBjORGc5aK0';
  const blf = '{BLF-CRYPT}$2y$05$RXBkfPkyXg41pP9aLZcAeeESlmN5/ca5FxXT4F2dBkZDsfd0Tz/Fa';
  const argon = '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$FPDbU4jNR0k7yM6C3rLKBw$U0bDkzdoErLlQ8gDfuN5XaXWH50pQF6lTIwcx6DrI7w';

  test('a file with a bad line imports nothing and names every bad line', async () => {
    const file = join(root, 'bad.passwd');
    writeFileSync(file, `# Dovecot users\nalice@localhost:${sha}:1000:1000::/home/alice::\nbroken line\nbob@remote.example:{PLAIN}x\ncarol:{MD5}x\nalice@localhost:{PLAIN}again\n`);
    const r = await mailgate(['user', 'import', file, ...cfg], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      [
        'mailgate: nothing imported:',
        `${file}:3: no ":" after the user name`,
        `${file}:4: remote.example is not a local domain: add it first with \`mailgate domain add remote.example\``,
        `${file}:5: carol: no domain (give --domain for a per-domain passwd-file)`,
        `${file}:6: alice@localhost already on line 2`,
        '',
      ].join('\n'),
    );
    expect(await mailgate(['user', 'list', ...cfg], dir)).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  test('SHA512-CRYPT, BLF-CRYPT and ARGON2ID users log in with their Dovecot passwords', async () => {
    const file = join(root, 'users.passwd');
    writeFileSync(file, `alice:${sha}:1000:1000::/home/alice::\nbob:${blf}\r\ncarol:${argon}::::::userdb_quota_rule=*:storage=1G\n`);
    expect(await mailgate(['user', 'import', file, '--domain', 'localhost', ...cfg], dir)).toEqual({ code: 0, stdout: `${file}: 3 users added, 0 updated\n`, stderr: '' });
    expect(await mailgate(['user', 'list', ...cfg], dir)).toEqual({
      code: 0,
      stdout: 'alice@localhost SHA512-CRYPT\nbob@localhost BLF-CRYPT\ncarol@localhost ARGON2ID quota storage 1G, messages none\n',
      stderr: '',
    });
    const a = openAccounts({ dataDir: join(root, 'state'), localDomains: ['localhost'] });
    for (const u of ['alice@localhost', 'bob@localhost', 'carol@localhost']) {
      expect(await a.authenticate(u, 'correct horse')).toBe(u);
      expect(await a.authenticate(u, 'wrong horse')).toBeUndefined();
    }
    a.close();
  }, 30_000);
});

describe('mailgate user quota', () => {
  test("shows, sets and clears a user's own quota; refusals", async () => {
    const root = project('quota', true);
    const cfg = ['--config', join(root, 'mailgate.toml')];
    expect((await mailgate(['user', 'add', 'alice@localhost', '--password-stdin', ...cfg], root, 'a good password\n')).code).toBe(0);
    expect(await mailgate(['user', 'quota', 'alice@localhost', ...cfg], root)).toEqual({ code: 0, stdout: 'alice@localhost: the configured quota ([mailbox] quota, quota_messages)\n', stderr: '' });
    expect(await mailgate(['user', 'quota', 'Alice@localhost', '--storage', '500M', '--messages', '1000', ...cfg], root)).toEqual({ code: 0, stdout: 'alice@localhost: quota storage 500M, messages 1000\n', stderr: '' });
    expect(await mailgate(['user', 'quota', 'alice@localhost', '--storage', '0', ...cfg], root)).toEqual({ code: 0, stdout: 'alice@localhost: quota storage none, messages 1000\n', stderr: '' });
    expect(await mailgate(['user', 'list', ...cfg], root)).toEqual({ code: 0, stdout: 'alice@localhost SCRYPT quota storage none, messages 1000\n', stderr: '' });
    expect(await mailgate(['user', 'quota', 'alice@localhost', '--storage', 'default', '--messages', 'default', ...cfg], root)).toEqual({ code: 0, stdout: 'alice@localhost: the configured quota ([mailbox] quota, quota_messages)\n', stderr: '' });
    const bad = await mailgate(['user', 'quota', 'alice@localhost', '--storage', '10%', ...cfg], root);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--storage "10%": a whole number/);
    const nobody = await mailgate(['user', 'quota', 'bob@localhost', ...cfg], root);
    expect(nobody).toEqual({ code: 1, stdout: '', stderr: 'mailgate: no user bob@localhost\n' });
  }, 30_000);
});

describe('the password prompt on a terminal', () => {
  test('asked twice, nothing echoed, then the user logs in', async () => {
    if (!existsSync('/usr/bin/script')) throw new Error('util-linux script(1) is missing: it gives the command a terminal');
    const root = project('tty', false);
    const child = spawn('/usr/bin/script', ['-qec', `${process.execPath} ${cli} user add dave@localhost`, '/dev/null'], { cwd: root });
    let out = '';
    const answered = new Set<string>();
    const done = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // Type only once each prompt is shown: the terminal is in raw mode (no echo) by then.
      for (const prompt of ['New password for dave@localhost: ', 'Retype the new password: ']) {
        if (out.includes(prompt) && !answered.has(prompt)) {
          answered.add(prompt);
          child.stdin.write('hidden pw\r');
        }
      }
    });
    expect(await done).toBe(0);
    expect(out).toContain('user dave@localhost added');
    expect(out).not.toContain('hidden');
    const a = openAccounts({ dataDir: join(root, 'data'), localDomains: ['localhost'] });
    expect(await a.authenticate('dave@localhost', 'hidden pw')).toBe('dave@localhost');
    a.close();
  }, 30_000);
});
