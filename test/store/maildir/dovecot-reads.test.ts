/**
 * A real Dovecot reads what the writer delivered: Dovecot's imap binary in preauth mode (commands on stdin,
 * no daemon) on the Maildir sees every message, reports W= as RFC822.SIZE, returns the body with CRLF, and
 * moves the files to cur/ with its `:2,` flags. The full IMAP/LMTP interop is in the harness's tests.
 */
import { spawn } from 'node:child_process';
import { access, chown, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { writeToMaildir } from '../../../src/store/maildir/maildir-writer.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';
import { chownTree, MAIL_UID } from '../../interop/harness/chown-tree.js';

const IMAP = '/usr/lib/dovecot/imap';
/** Dovecot refuses to open mail as root: the Maildir is handed to the `mail` user (uid/gid 8 on Debian). */

let tmp: TempDir;
beforeEach(async () => {
  tmp = await makeTempDir('dovecot-maildir');
});
afterEach(async () => {
  await tmp.remove();
});


/**
 * Runs imap with `commands` on stdin, through real pipes: on a socket (Node's pipes are socket pairs) it
 * takes itself for started from inetd and refuses, and a plain file cannot be polled.
 */
async function imap(conf: string, maildir: string, home: string, commands: string): Promise<string> {
  const input = join(tmp.path, 'commands');
  await writeFile(input, commands);
  const args = ['-c', conf, '-o', `mail_location=maildir:${maildir}`, '-o', 'mail_uid=8', '-o', 'mail_gid=8', '-o', 'first_valid_uid=1', '-o', 'first_valid_gid=1'];
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', 'f="$1"; shift; cat "$f" | "$@" 2>&1 | cat', 'sh', input, IMAP, ...args], {
      env: { USER: 'alice', HOME: home, PATH: '/usr/bin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

it('Dovecot lists, sizes and reads the delivered messages', async () => {
  if (process.getuid?.() !== 0) throw new Error('this test runs Dovecot as the mail user and must run as root');
  await access(IMAP).catch(() => {
    throw new Error(`${IMAP} is missing: install dovecot-imapd (scripts/install-test-peers.sh)`);
  });
  const conf = join(tmp.path, 'dovecot.conf');
  await writeFile(conf, 'protocols =\nssl = no\nlog_path = /dev/stderr\n');
  const maildir = join(tmp.path, 'mail', 'example.test', 'alice');
  const home = await tmp.sub('home');
  const bodies = ['Subject: one\r\n\r\nfirst\r\n', 'Subject: two\r\n\r\nsecond\r\nline\r\n'];
  const written = [];
  for (const b of bodies) written.push(await writeToMaildir(maildir, Readable.from([Buffer.from(b)]), { hostname: 'mx:1/x' }));
  await chownTree(join(tmp.path, 'mail'));
  await chown(home, MAIL_UID, MAIL_UID);

  const out = await imap(conf, maildir, home, 'a SELECT INBOX\r\nb FETCH 1:* (RFC822.SIZE)\r\nc FETCH 2 BODY[]\r\nd LOGOUT\r\n');
  expect(out, out).toContain('* 2 EXISTS');
  expect(out).toContain(`* 1 FETCH (RFC822.SIZE ${written[0]?.vsize})`);
  expect(out).toContain(`* 2 FETCH (RFC822.SIZE ${written[1]?.vsize})`);
  expect(out).toContain(`BODY[] {${Buffer.byteLength(bodies[1] as string)}}\r\n${bodies[1] as string})`);
  expect(await readdir(join(maildir, 'new'))).toEqual([]);
  const cur = await readdir(join(maildir, 'cur'));
  expect(cur).toHaveLength(2);
  expect(cur.every((n) => /,S=\d+,W=\d+:2,/.test(n))).toBe(true);
});
