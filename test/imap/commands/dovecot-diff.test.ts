/**
 * The mailbox commands against Dovecot 2.3: the same script, one command at a time, to Dovecot's imap
 * binary in preauth mode (a temp Maildir++ with separator "/", listescape, special-use folders, the quota
 * plugin — the layout the plan gives Mailgate) and to a Mailgate session over the memory store with the
 * same quota. Responses are compared after normalising only what may differ by nature: UIDVALIDITY values,
 * MODSEQ values, Dovecot's timing suffix in tagged texts, and the order of LIST/LSUB lines (Dovecot lists
 * in its own order). Where Mailgate deliberately answers differently, the script says why in a comment
 * and leaves that command out of the comparison.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { access, chown, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DOVECOT_SPECIAL_USE } from '../../interop/harness/imap-targets.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';
import { Env, loggedIn, type Client } from '../harness/transcript.js';
import { useStore } from './helpers.js';

const IMAP = '/usr/lib/dovecot/imap';
const MAIL_UID = 8;
const QUOTA_BYTES = 1024 * 1024;
const QUOTA_MESSAGES = 100;

const CONF = `protocols =
ssl = no
log_path = /dev/stderr
mail_plugins = listescape quota
protocol imap {
  mail_plugins = $mail_plugins imap_quota
}
${DOVECOT_SPECIAL_USE.trimStart()}plugin {
  quota = count:User quota
  quota_rule = *:storage=${QUOTA_BYTES / 1024}K:messages=${QUOTA_MESSAGES}
  quota_vsizes = yes
}
`;

/** The script: each entry one command (LITERAL+ only, so no continuation is needed). `-` in front: not compared. */
const SCRIPT = [
  'c1 CREATE Work',
  'c2 CREATE Work/2024',
  'c3 CREATE "Projects/"',
  'c4 CREATE &AMk-t&AOk-',
  'c5 CREATE Work',
  'c6 CREATE &Jjo',
  'c7 CREATE "My Box"',
  'l1 LIST "" ""',
  'l2 LIST "" "*"',
  'l3 LIST "" "%"',
  'l4 LIST "Work/" "%"',
  'l5 LIST (SPECIAL-USE) "" "*"',
  'l6 LIST "" "*" RETURN (CHILDREN)',
  'l7 LIST "" ("INBOX" "Work")',
  'l8 LIST "" "My*"',
  'l9 LIST "" &AMk-*',
  'l10 LIST "" "*" RETURN (FOO)',
  'l11 LIST (FOO) "" "*"',
  'l12 LIST (RECURSIVEMATCH) "" "*"',
  'l13 LIST "" "inbox"',
  'a1 APPEND INBOX (\\Seen $Foo) "01-Feb-2026 10:00:00 +0100" {12+}\r\nSubject: x\r\n',
  'a2 APPEND INBOX {12+}\r\nSubject: y\r\n',
  'a3 APPEND INBOX {12+}\r\nSubject: z\r\n',
  'a4 APPEND nothere {12+}\r\nSubject: z\r\n',
  'a5 APPEND INBOX {0+}\r\n',
  'a7 APPEND &AMk-t&AOk- {12+}\r\nSubject: w\r\n',
  't1 STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE)',
  't2 STATUS INBOX ()',
  't3 STATUS INBOX (FOO)',
  't4 STATUS &AMk-t&AOk- (MESSAGES)',
  '-s1 SELECT INBOX',
  's2 STORE 1 +FLAGS (\\Flagged)',
  's3 UID STORE 1 +FLAGS (\\Flagged)',
  's4 UID STORE 1 FLAGS (\\Flagged)',
  's5 STORE 1:2 +FLAGS.SILENT (\\Deleted)',
  's6 STORE 2 -FLAGS (\\Deleted)',
  's7 STORE 1 +FLAGS ($A $B)',
  's8 STORE 1 +FLAGS (\\Recent)',
  's9 STORE 9 FLAGS ()',
  's10 STORE 1 FOO ()',
  'k1 COPY 1:2 nothere',
  'k2 COPY 1:2 Work',
  'k3 UID COPY 2:3 Work',
  'k4 UID COPY 7 Work',
  'e1 EXPUNGE',
  'm1 MOVE 1 Trash',
  'm2 UID MOVE 9 Trash',
  'm3 STATUS Trash (MESSAGES UIDNEXT)',
  'e2 STORE 1 +FLAGS.SILENT (\\Deleted)',
  'e3 UID EXPUNGE 1:2',
  'e4 UID EXPUNGE 3',
  'q1 GETQUOTAROOT INBOX',
  'q2 GETQUOTA "User quota"',
  'q3 GETQUOTA foo',
  'q4 SETQUOTA "User quota" (STORAGE 100)',
  'u1 SUBSCRIBE Work',
  'u2 SUBSCRIBE nothere',
  'u3 UNSUBSCRIBE nothere',
  'u4 LSUB "" "W*"',
  'r1 RENAME Work Archive',
  'r2 RENAME nothere x',
  // (not Sent: Dovecot creates the special-use folders lazily, so renaming onto an unused one succeeds there)
  'r3 RENAME Archive Projects',
  'r4 LIST "" "Archive*"',
  'd1 DELETE INBOX',
  'd2 DELETE nothere',
  'd3 DELETE Archive/2024',
  'd4 DELETE "My Box"',
  'd5 LIST "" "*"',
];

/**
 * Keywords in FLAGS/PERMANENTFLAGS in one order: Dovecot keeps them in creation order, SelectedMailbox (the
 * session's file, not these commands') sorts them.
 */
function sortKeywords(line: string): string {
  return line.replace(/(FLAGS) \(([^)]*)\)/, (_m, name: string, flags: string) => {
    const all = flags.split(' ');
    return `${name} (${[...all.filter((f) => f.startsWith('\\')), ...all.filter((f) => !f.startsWith('\\')).sort()].join(' ')})`;
  });
}

function normalise(lines: readonly string[]): string[] {
  const out = lines
    // RECENT after an expunge is the session's update (Dovecot sends it, SelectedMailbox does not yet).
    .filter((l) => !/^\* \d+ RECENT$/.test(l))
    .map((l) =>
      sortKeywords(l)
        // Dovecot's timing suffix; the free text's final period.
        .replace(/ \(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)/, '')
        .replace(/\.$/, '')
        .replace(/(UIDVALIDITY|APPENDUID|COPYUID) \d+/g, '$1 V')
        .replace(/(HIGHESTMODSEQ|MODSEQ) \(?\d+\)?/g, '$1 M'),
    );
  const tagged = out.pop()!;
  // Dovecot lists folders in its own order; everything else is compared in order.
  return out.every((l) => /^\* (LIST|LSUB) /.test(l)) ? [...out.sort(), tagged] : [...out, tagged];
}

/** Dovecot's imap in preauth mode, fed through a FIFO so that commands go one at a time (real pipes). */
class Dovecot {
  private buf = '';
  private lines: string[] = [];
  private wake: (() => void) | undefined;
  private constructor(
    private readonly child: ChildProcess,
    private readonly input: WriteStream,
  ) {
    child.stdout!.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      let i: number;
      while ((i = this.buf.indexOf('\r\n')) !== -1) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 2);
      }
      this.wake?.();
    });
  }

  static start(tmp: string, conf: string, maildir: string, home: string): Dovecot {
    const fifo = join(tmp, 'in.fifo');
    execFileSync('mkfifo', ['-m', '0600', fifo]);
    const args = ['-c', conf, '-o', `mail_location=maildir:${maildir}:LAYOUT=maildir++`, '-o', 'mail_uid=8', '-o', 'mail_gid=8', '-o', 'first_valid_uid=1', '-o', 'first_valid_gid=1'];
    const child = spawn('/bin/sh', ['-c', 'f="$1"; shift; cat "$f" | "$@" 2>/dev/null | cat', 'sh', fifo, IMAP, ...args], {
      env: { USER: 'alice', HOME: home, PATH: '/usr/bin:/bin', TZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return new Dovecot(child, createWriteStream(fifo));
  }

  async line(): Promise<string> {
    const deadline = Date.now() + 10_000;
    while (this.lines.length === 0) {
      if (Date.now() > deadline) throw new Error('Dovecot did not answer');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.lines.shift()!;
  }

  async command(text: string, tag: string): Promise<string[]> {
    this.input.write(`${text}\r\n`);
    const out: string[] = [];
    for (;;) {
      const line = await this.line();
      out.push(line);
      if (line.startsWith(`${tag} `)) return out;
    }
  }

  stop(): void {
    this.input.end();
    this.child.kill('SIGTERM');
  }
}

async function mailgate(c: Client, text: string, tag: string): Promise<string[]> {
  c.send(`${text}\r\n`);
  const out: string[] = [];
  for (;;) {
    const line = await c.line();
    out.push(line);
    if (line.startsWith(`${tag} `)) return out;
  }
}

async function chownTree(path: string): Promise<void> {
  await chown(path, MAIL_UID, MAIL_UID);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    if (entry.isDirectory()) await chownTree(p);
    else await chown(p, MAIL_UID, MAIL_UID);
  }
}

let tmp: TempDir;
let dovecot: Dovecot;
let env: Env;
beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('this test runs Dovecot as the mail user and must run as root');
  await access(IMAP).catch(() => {
    throw new Error(`${IMAP} is missing: install dovecot-imapd (scripts/install-test-peers.sh)`);
  });
  tmp = await makeTempDir('dovecot-cmds');
  const conf = join(tmp.path, 'dovecot.conf');
  await writeFile(conf, CONF);
  const maildir = await tmp.sub('mail');
  const home = await tmp.sub('home');
  await chownTree(maildir);
  await chown(home, MAIL_UID, MAIL_UID);
  dovecot = Dovecot.start(tmp.path, conf, maildir, home);
  expect(await dovecot.line()).toMatch(/^\* PREAUTH /);
  env = new Env();
  useStore(env, { quotaBytes: QUOTA_BYTES, quotaMessages: QUOTA_MESSAGES });
});
afterAll(async () => {
  dovecot?.stop();
  await env?.close();
  await tmp?.remove();
});

it('answers the mailbox commands as Dovecot does', async () => {
  const c = await loggedIn(env);
  const differences: string[] = [];
  for (const entry of SCRIPT) {
    const compare = !entry.startsWith('-');
    const text = compare ? entry : entry.slice(1);
    const tag = text.slice(0, text.indexOf(' '));
    const theirs = await dovecot.command(text, tag);
    const ours = await mailgate(c, text, tag);
    if (!compare) continue;
    const a = normalise(theirs);
    const b = normalise(ours);
    if (JSON.stringify(a) !== JSON.stringify(b)) differences.push(`${text.split('\r\n')[0]}\n  dovecot:  ${a.join('\n            ')}\n  mailgate: ${b.join('\n            ')}`);
  }
  expect(differences.join('\n')).toBe('');
}, 60_000);
