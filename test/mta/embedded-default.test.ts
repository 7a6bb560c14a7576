// The issue's "done when", literally: `mailgate start` with no configuration file in an empty working
// directory runs on the embedded defaults (./data, MX 127.0.0.1:2525, submission 2587 and 2465, the milter
// listener inet:10025@[127.0.0.1]); `mailgate user add alice@localhost --password-stdin` (no --config,
// same directory) and one swaks command put a message in ./data/mail/localhost/alice/new.
// The embedded ports are fixed: this test is alone in its file (vitest runs files in parallel, but every
// other test uses free ports: makeMta, start.test.ts), and it fails, naming the port, if one is busy.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { MAILGATE_CLI, assertCliBuilt } from '../interop/harness/mailgate.js';
import { tcpListening } from '../interop/harness/endpoint.js';
import { runCommand, startDaemon, waitFor, type Daemon } from '../interop/harness/process.js';
import { makeTempDir, type TempDir } from '../interop/harness/tmpdir.js';

const EMBEDDED_PORTS = { mx: 2525, submission: 2587, submissions: 2465, milter: 10025, imap: 2143, imaps: 2993, pop3: 2110, pop3s: 2995 } as const;

/** Fails, naming the port and whoever listens there, when one of the embedded ports is taken on 127.0.0.1. */
async function assertPortsFree(): Promise<void> {
  for (const [what, port] of Object.entries(EMBEDDED_PORTS)) {
    const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const s = createServer();
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(undefined)));
    });
    if (err) {
      const who = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' }).stdout?.trim();
      throw new Error(
        `the embedded default's ${what} port 127.0.0.1:${port} is busy (${err.code}): this test needs it free; ` +
          `stop whatever listens there${who ? ` (${who})` : ''}, e.g. another \`mailgate start\` or \`npm start\``,
      );
    }
  }
}

let dir: TempDir | undefined;
let daemon: Daemon | undefined;
afterAll(async () => {
  await daemon?.stop(15_000);
  await dir?.remove();
});

describe('mailgate start on the embedded defaults (no --config, no mailgate.toml)', () => {
  it('makes ./data, listens on 2525/2587/2465, IMAP 2143/2993, POP3 2110/2995 and the milter on 10025; user add + one swaks → alice\'s Maildir, read over IMAP and POP3', async () => {
    assertCliBuilt();
    await assertPortsFree();
    dir = await makeTempDir('embedded');
    const cwd = dir.path;
    expect(existsSync(join(cwd, 'mailgate.toml'))).toBe(false);
    const d = startDaemon('mailgate start', process.execPath, [MAILGATE_CLI, 'start'], { cwd, env: { ...process.env, MAILGATE_COMMAND: 'mailgate' } });
    daemon = d;
    await waitFor('the start summary', () => (d.stdout().includes('SIGHUP reloads the configuration.') ? true : undefined), { daemon: d, timeoutMs: 30_000 });
    for (const [what, port] of Object.entries(EMBEDDED_PORTS)) expect(await tcpListening(port), `${what} on 127.0.0.1:${port}`).toBe(true);
    expect(statSync(join(cwd, 'data')).isDirectory()).toBe(true);
    expect(statSync(join(cwd, 'data')).mode & 0o777).toBe(0o750);
    // What it prints is what the next test steps type.
    expect(d.stdout()).toContain('Mailgate is running as ');
    expect(d.stdout()).toContain('  mailgate user add alice@localhost\n');
    expect(d.stdout()).toContain('  swaks --server 127.0.0.1 --port 2525 --from you@example.org --to alice@localhost\n');

    const add = await runCommand(process.execPath, [MAILGATE_CLI, 'user', 'add', 'alice@localhost', '--password-stdin'], { cwd, input: 'correct horse\n', timeoutMs: 30_000 });
    expect(add.exitCode, add.stderr).toBe(0);

    const sent = await runCommand('/usr/bin/swaks', ['--timeout', '30s', '--server', '127.0.0.1', '--port', '2525', '--from', 'you@example.org', '--to', 'alice@localhost'], {
      timeoutMs: 45_000,
    });
    expect(sent.stdout).toMatch(/<- {2}250 2\.0\.0 Ok: queued as/);
    const newDir = join(cwd, 'data', 'mail', 'localhost', 'alice', 'new');
    const [file] = await waitFor('the message in ./data/mail/localhost/alice/new', () => {
      const names = existsSync(newDir) ? readdirSync(newDir) : [];
      return names.length > 0 ? names : undefined;
    }, { daemon: d, timeoutMs: 20_000, intervalMs: 100 });
    const msg = readFileSync(join(newDir, file!), 'latin1');
    expect(msg).toMatch(/^Received: from .*?\s+by .*? \(Mailgate\) with ESMTP id [0-9A-Z]+/ms);
    expect(msg).toContain('This is a test mailing');

    // The printed reading line is true: Python's imaplib and poplib see the message (plaintext login on loopback).
    expect(d.stdout()).toContain('and read it with a mail client: IMAP at 127.0.0.1:2143, user alice@localhost\n');
    const read = await runCommand(
      '/usr/bin/python3',
      [
        '-c',
        [
          'import imaplib, poplib, json',
          "i = imaplib.IMAP4('127.0.0.1', 2143); i.login('alice@localhost', 'correct horse')",
          "typ, data = i.select('INBOX'); n = int(data[0])",
          "typ, body = i.fetch('1', '(BODY.PEEK[])'); text = body[0][1].decode('latin1')",
          "typ, folders = i.list(); i.logout()",
          "p = poplib.POP3('127.0.0.1', 2110); p.user('alice@localhost'); p.pass_('correct horse')",
          "count, size = p.stat(); p.quit()",
          "print(json.dumps({'exists': n, 'test': 'This is a test mailing' in text, 'folders': [f.decode() for f in folders], 'pop3': count}))",
        ].join('\n'),
      ],
      { timeoutMs: 30_000 },
    );
    expect(read.exitCode, read.stderr).toBe(0);
    const seen = JSON.parse(read.stdout) as { exists: number; test: boolean; folders: string[]; pop3: number };
    expect(seen).toMatchObject({ exists: 1, test: true, pop3: 1 });
    expect(seen.folders).toContain('(\\HasNoChildren \\Sent) "/" Sent');

    process.kill(d.pid, 'SIGTERM');
    expect(await d.exited).toEqual({ code: 0, signal: null });
  }, 90_000);
});
