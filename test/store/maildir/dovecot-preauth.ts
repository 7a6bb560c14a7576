/**
 * Runs Dovecot's imap binary in preauth mode on a Maildir (commands on stdin, no daemon), configured as
 * the Maildir file layer expects a Dovecot to be: Maildir++ layout, `separator = /`, the listescape plugin.
 * For the Dovecot-compatibility tests of store/maildir. Dovecot refuses to open mail as root, so the tree
 * is handed to the `mail` user (uid/gid 8 on Debian) first; the test process (root) still reads it all.
 */
import { spawn } from 'node:child_process';
import { access, chown, lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const DOVECOT_IMAP = '/usr/lib/dovecot/imap';
const MAIL_UID = 8;

const CONF = `protocols =
ssl = no
log_path = /dev/stderr
mail_plugins = listescape
namespace inbox {
  inbox = yes
  separator = /
  prefix =
}
`;

/** Fails loudly when Dovecot or root is missing (a missing peer is a failure, not a skip). */
export async function requireDovecot(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('this test runs Dovecot as the mail user and must run as root');
  await access(DOVECOT_IMAP).catch(() => {
    throw new Error(`${DOVECOT_IMAP} is missing: install dovecot-imapd (scripts/install-test-peers.sh)`);
  });
}

async function chownTree(path: string): Promise<void> {
  await chown(path, MAIL_UID, MAIL_UID);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    if (entry.isDirectory()) await chownTree(p);
    else if (!(await lstat(p)).isSymbolicLink()) await chown(p, MAIL_UID, MAIL_UID);
  }
}

/**
 * One Dovecot session: `lines` (without tags: each gets one, "LOGOUT" is added) run against the Maildir at
 * `maildir`, with `work` as scratch (config, home, the command file). Resolves with the whole transcript.
 */
export async function dovecotSession(work: string, maildir: string, lines: readonly (string | Buffer)[]): Promise<string> {
  const conf = join(work, 'dovecot.conf');
  const home = join(work, 'home');
  await writeFile(conf, CONF);
  await mkdir(home, { recursive: true });
  await chown(home, MAIL_UID, MAIL_UID);
  await chownTree(maildir);
  const parts: Buffer[] = [];
  lines.forEach((line, i) => {
    parts.push(Buffer.from(`t${i} `), typeof line === 'string' ? Buffer.from(line, 'utf8') : line, Buffer.from('\r\n'));
  });
  parts.push(Buffer.from('zz LOGOUT\r\n'));
  const input = join(work, 'commands');
  await writeFile(input, Buffer.concat(parts));
  const args = ['-c', conf, '-o', `mail_location=maildir:${maildir}:LAYOUT=maildir++`, '-o', 'mail_uid=8', '-o', 'mail_gid=8', '-o', 'first_valid_uid=1', '-o', 'first_valid_gid=1'];
  // Through real pipes: on a socket (Node's pipes are socket pairs) imap takes itself for started by inetd.
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', 'f="$1"; shift; cat "$f" | "$@" 2>&1 | cat', 'sh', input, DOVECOT_IMAP, ...args], {
      env: { USER: 'alice', HOME: home, PATH: '/usr/bin:/bin', TZ: 'UTC' },
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

/** An APPEND command with a non-synchronising literal (Dovecot announces LITERAL+). */
export function appendCommand(mailbox: string, flags: readonly string[], message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`APPEND ${quote(mailbox)} (${flags.join(' ')}) {${body.length}+}\r\n`), body]);
}

/** An IMAP quoted string. */
export function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The mailbox names (still mUTF-7, as on the wire) and attributes of the `* LIST`/`* LSUB` lines. */
export function listedNames(transcript: string, kind: 'LIST' | 'LSUB' = 'LIST'): Array<{ name: string; attributes: string[] }> {
  const out: Array<{ name: string; attributes: string[] }> = [];
  const re = new RegExp(`^\\* ${kind} \\(([^)]*)\\) (?:"[^"]*"|NIL) (.*?)\\r?$`, 'gm');
  for (const m of transcript.matchAll(re)) {
    const raw = m[2] as string;
    const name = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    out.push({ name, attributes: (m[1] as string).split(' ').filter(Boolean) });
  }
  return out;
}

/** `* n FETCH (UID u FLAGS (...))` lines → uid → flags (without \Recent), in message order. */
export function fetchedFlags(transcript: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const m of transcript.matchAll(/^\* \d+ FETCH \((?=.*UID (\d+))(?=.*FLAGS \(([^)]*)\)).*\)\r?$/gm)) {
    out.set(Number(m[1]), (m[2] as string).split(' ').filter((f) => f !== '' && f !== '\\Recent'));
  }
  return out;
}
