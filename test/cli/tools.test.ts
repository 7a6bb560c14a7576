/** The built `mailgate` command against in-process filters and against each other. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineFilter } from '../../src/mail/define-filter.js';
import { silentLogger } from '../../src/mail/logger.js';
import { CONTINUE, reject } from '../../src/mail/reply.js';
import { MilterServer } from '../../src/milter/server.js';
import { tempDir } from '../milter/helpers.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');
const dir = tempDir();
let server: MilterServer;
let spec = '';

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
  const filter = defineFilter(
    'editor',
    { actions: ['addHeader', 'changeHeader', 'changeBody', 'addRecipient', 'deleteRecipient', 'changeSender', 'quarantine'] },
    () => ({
      rcpt: (r) => (r === '<nobody@example.org>' ? reject(550, '5.1.1', 'unknown user') : CONTINUE),
      endOfMessage: () => ({
        reply: CONTINUE,
        changes: [
          { kind: 'addHeader', name: 'X-Added', value: 'yes' },
          // Counted as Postfix counts it, its own (hidden) Received first: below Subject, above From.
          { kind: 'insertHeader', name: 'X-Ins2', index: 2, value: 'two' },
          { kind: 'deleteHeader', name: 'Subject', index: 1 },
          { kind: 'changeSender', sender: 'bounce@example.com' },
          { kind: 'addRecipient', recipient: 'copy@example.org' },
          { kind: 'replaceBody', body: Buffer.from('new body') },
          { kind: 'quarantine', reason: 'held for review' },
        ],
      }),
    }),
  );
  server = new MilterServer(filter, { logger: silentLogger, drainTimeout: 1 });
  const addr = await server.listen(`unix:${dir.path}/editor.sock`);
  spec = `unix:${addr.type === 'unix' ? addr.path : ''}`;
});

afterAll(async () => {
  await server.close();
  dir.cleanup();
});

function mailgate(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [cli, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('mailgate test-server', () => {
  it('reports status, elapsed time, quarantine and the edited message', async () => {
    const r = await mailgate([
      'test-server', '-s', spec, '-f', 'sender@example.com',
      '-r', 'rcpt@example.org', '-r', 'nobody@example.org', '-h', 'Subject:hello', '--output-message',
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('status: pass');
    expect(lines[1]).toMatch(/^elapsed-time: [0-9.e-]+ seconds$/);
    expect(lines[2]).toBe('Quarantine reason: <held for review>');
    expect(r.stdout).toContain(
      [
        'Envelope:------------------------------',
        '- MAIL FROM:<sender@example.com>',
        '+ MAIL FROM:<bounce@example.com>',
        '  RCPT TO:<rcpt@example.org>',
        '- RCPT TO:<nobody@example.org>',
        '+ RCPT TO:<copy@example.org>',
        'Header:--------------------------------',
        '- Subject: hello',
        '+ X-Ins2: two',
        '  From: <sender@example.com>',
        '  To: <rcpt@example.org>',
        '+ X-Added: yes',
        'Body:----------------------------------',
        'new body',
      ].join('\n'),
    );
  });

  it('reports a refused last recipient with its reply', async () => {
    const r = await mailgate(['test-server', '-s', spec, '-r', 'nobody@example.org']);
    expect(r.stdout.split('\n')[0]).toBe('status: reject [550]<5.1.1>(unknown user)');
    expect(r.code).toBe(0);
  });

  it('reads a mail file and repeats sessions with a summary', async () => {
    const file = join(dir.path, 'msg.eml');
    writeFileSync(file, 'From: a@example.com\nTo: b@example.org\nSubject: s\n\nhi\n');
    const r = await mailgate(['test-server', '-s', spec, '-m', file, '-t', '4', '--n-sessions', '25']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sessions: 100 of 100 ran \(pass: 100\)$/m);
    expect(r.stdout).toMatch(/^sessions-per-second: [0-9.]+$/m);
  });

  it('exits 1 with one clear line when the milter cannot be reached', async () => {
    const r = await mailgate(['test-server', '-s', `unix:${dir.path}/absent.sock`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/cannot connect/);
  });

  it('exits 2 on a bad invocation', () => {
    const r = spawnSync(process.execPath, [cli, 'test-server', '-s', 'nonsense:1'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown type "nonsense"/);
  });

  it("takes Postfix's inet:HOST:PORT spelling of -s", async () => {
    const tcp = new MilterServer(defineFilter('tcp', {}, () => ({})), { logger: silentLogger, drainTimeout: 1 });
    const addr = await tcp.listen('inet:0@[127.0.0.1]');
    try {
      const r = await mailgate(['test-server', '-s', `inet:127.0.0.1:${addr.type === 'inet' ? addr.port : 0}`]);
      expect(r.stdout.split('\n')[0]).toBe('status: pass');
      expect(r.code).toBe(0);
    } finally {
      await tcp.close();
    }
  });

  it('a bad -s names the accepted forms, milter\'s and Postfix\'s', () => {
    const r = spawnSync(process.execPath, [cli, 'test-server', '-s', 'inet:127.0.0.1:smtp'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/port "smtp" is not a number.*inet:PORT@HOST.*inet:HOST:PORT or inet:\[ADDR\]:PORT \(Postfix\)/);
  });
});

describe('mailgate test-client', () => {
  it('prints what it receives, answers the chosen status and adds headers', async () => {
    const sock = join(dir.path, 'client.sock');
    const child = spawn(process.execPath, [
      cli, 'test-client', '-s', `unix:${sock}`, '--status', 'reject', '--add-header', 'X-Test: yes',
    ]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    const r = await mailgate(['test-server', '-s', `unix:${sock}`, '--authenticated-name', 'alice']);
    expect(r.stdout.split('\n')[0]).toBe('status: reject');
    child.kill('SIGTERM');
    await new Promise((r) => child.on('close', r));
    expect(existsSync(sock)).toBe(false);
    expect(out).toContain('[1] helo: delian');
    expect(out).toContain('[1] envelope-from: <sender@example.com>');
    expect(out).toContain('[1]   macro: {auth_authen}=alice');
    expect(out).toContain('[1] end-of-message');
    expect(out).toContain('[1]   add-header: X-Test: yes');
  });
});

describe('mailgate show-config', () => {
  /** show-config on a mailgate.toml whose greylist child reads `confText` from a file named `name`. */
  const showConfigWith = (name: string, confText: string) => {
    const conf = join(dir.path, `${name}.conf`);
    writeFileSync(conf, confText);
    const toml = join(dir.path, `mailgate-${name}.toml`);
    writeFileSync(toml, `[[milter]]\nname = "greylist"\nbuiltin = "greylist"\nconf = "${conf}"\nstore = "memory"\n`);
    return spawnSync(process.execPath, [cli, 'show-config', '-c', toml], { encoding: 'utf8' });
  };

  it('exits 2 on a greylist.conf syntax error, naming its line and token, as manager would', () => {
    const r = showConfigWith('greylist-bad', 'subnetmatch /24\ngreylist 10m\nracl whitelist frobnicate\n');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/greylist-bad\.conf:3: column 16: unexpected "frobnicate"/);
  });

  it('prints a configuration with a valid greylist.conf', () => {
    const r = showConfigWith('greylist-ok', 'subnetmatch /24\ngreylist 10m\nracl greylist default\n');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/builtin = "greylist"/);
  });
});
