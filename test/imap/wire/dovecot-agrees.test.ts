/**
 * The wire codec's "as Dovecot does" choices, checked against the real Dovecot 2.3 (its imap binary in
 * preauth mode, commands on stdin, one process per command so that its parallel command execution cannot
 * reorder answers): the quoted-or-literal choice for strings (ENVELOPE subjects) and mailbox names (LIST),
 * sequence-set resolution (FETCH strict, SEARCH lenient, UIDs, `*` in an empty mailbox), mailbox names
 * refused as not valid mUTF-7 (NO), and which bad lines are answered untagged.
 */
import { execFileSync, spawn } from 'node:child_process';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgCursor } from '../../../src/imap/wire/cursor.js';
import { encodeValue, quoted, str } from '../../../src/imap/wire/encoder.js';
import type { ParseError } from '../../../src/imap/wire/frame.js';
import { CommandReader } from '../../../src/imap/wire/reader.js';
import { parseSequenceSet, resolveSequenceNumbers, resolveUids } from '../../../src/imap/wire/sequence-set.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';
import { frameOf } from './drive.js';

const IMAP = '/usr/lib/dovecot/imap';
/** Dovecot refuses to open mail as root: the Maildir belongs to the `mail` user (uid/gid 8 on Debian). */
const MAIL_UID = 8;

const SUBJECTS = ['plain words', '', 'a"b', 'a\\b', 'x{3}', 'a%b*c', 'NIL', 'y'.repeat(300), 'caf\u00e9', 'a\x01b\x7fc'];

let tmp: TempDir;
let conf: string;
let maildir: string;
let home: string;
/** Dovecot's answer to FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)] ENVELOPE) on every message. */
let envelopes: string;

async function imap(commands: string): Promise<string> {
  const input = join(tmp.path, `commands-${Math.random().toString(36).slice(2)}`);
  await writeFile(input, `s SELECT INBOX\r\n${commands}z LOGOUT\r\n`);
  const args = ['-c', conf, '-o', `mail_location=maildir:${maildir}`, '-o', `mail_uid=${MAIL_UID}`, '-o', `mail_gid=${MAIL_UID}`, '-o', 'first_valid_uid=1', '-o', 'first_valid_gid=1'];
  return new Promise((resolve, reject) => {
    // Through real pipes: on a socket imap takes itself for started from inetd.
    const child = spawn('/bin/sh', ['-c', 'f="$1"; shift; cat "$f" | "$@" 2>&1 | cat', 'sh', input, IMAP, ...args], {
      env: { USER: 'alice', HOME: home, PATH: '/usr/bin:/bin', TZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => out.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(out).toString('latin1'));
    });
  });
}

/** The message numbers (or UIDs) of `* SEARCH` / `* n FETCH` lines, or 'BAD'. */
function numbersOf(out: string, tag: string, kind: 'fetch' | 'search'): number[] | 'BAD' {
  if (new RegExp(`^${tag} BAD`, 'm').test(out)) return 'BAD';
  expect(out).toMatch(new RegExp(`^${tag} OK`, 'm'));
  if (kind === 'search') return (/^\* SEARCH(.*)\r$/m.exec(out)?.[1] ?? '').trim().split(' ').filter(Boolean).map(Number);
  return [...out.matchAll(/^\* (\d+) FETCH/gm)].map((m) => Number(m[1]));
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('this test runs Dovecot as the mail user and must run as root');
  await access(IMAP).catch(() => {
    throw new Error(`${IMAP} is missing: install dovecot-imapd (scripts/install-test-peers.sh)`);
  });
  tmp = await makeTempDir('wire-dovecot');
  conf = join(tmp.path, 'dovecot.conf');
  await writeFile(conf, 'protocols =\nssl = no\nlog_path = /dev/stderr\n');
  home = await tmp.sub('home');
  maildir = join(tmp.path, 'maildir');
  for (const d of ['cur', 'new', 'tmp', '.Empty', '.Empty/cur', '.Empty/new', '.Empty/tmp']) await mkdir(join(maildir, d), { recursive: true });
  await writeFile(join(maildir, '.Empty', 'maildirfolder'), '');
  for (const [i, s] of SUBJECTS.entries()) await writeFile(join(maildir, 'new', `${1000 + i}.M${i}P1.test`), Buffer.from(`Subject: ${s}\r\n\r\nbody\r\n`, 'utf8'));
  execFileSync('chown', ['-R', `${MAIL_UID}:${MAIL_UID}`, maildir, home]);
  envelopes = await imap('f FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)] ENVELOPE)\r\n');
  // UIDs 1..10; expunge 2, 4 and 6..9 so that message numbers and UIDs differ: UIDs [1, 3, 5, 10].
  const out = await imap('d STORE 2,4,6:9 +FLAGS.SILENT (\\Deleted)\r\ne EXPUNGE\r\n');
  expect(out).toMatch(/^e OK/m);
}, 60_000);

afterAll(async () => {
  await tmp?.remove();
});

describe('Dovecot agrees', () => {
  it('strings: quoted or literal exactly as Dovecot writes ENVELOPE subjects', () => {
    // Each message: its Subject header as stored, then the ENVELOPE Dovecot wrote for it.
    const re = /BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{(\d+)\}\r\n/g;
    const seen: string[] = [];
    for (let m = re.exec(envelopes); m !== null; m = re.exec(envelopes)) {
      const header = envelopes.slice(m.index + m[0].length, m.index + m[0].length + Number(m[1]));
      const subject = Buffer.from(header.replace(/^Subject: ?/i, '').replace(/\r\n(\r\n)?$/, ''), 'latin1');
      const after = envelopes.slice(m.index + m[0].length + Number(m[1]));
      const env = /^ ENVELOPE \(NIL ([\s\S]*?) NIL NIL NIL NIL NIL NIL NIL NIL\)\)\r\n/.exec(after);
      expect(env, after.slice(0, 200)).not.toBeNull();
      expect(env![1], subject.toString('utf8')).toBe(encodeValue(str(subject)).toString('latin1'));
      seen.push(subject.toString('utf8'));
    }
    expect(seen.sort()).toEqual([...SUBJECTS].sort());
  });

  it('mailbox names in LIST: quoted with escapes, as our `quoted` value', async () => {
    const out = await imap('c CREATE "x\\\\y\\"z"\r\nl LIST "" "x*"\r\n');
    expect(out).toMatch(/^c OK/m);
    const listed = /^\* LIST \([^)]*\) "." (.*)\r$/m.exec(out)?.[1];
    expect(listed).toBe(encodeValue(quoted('x\\y"z')).toString('latin1'));
  });

  it('sequence sets: FETCH strict, SEARCH lenient, UIDs, as Dovecot resolves them', async () => {
    const count = 4;
    const uids = [1, 3, 5, 10];
    for (const set of ['1:*', '*', '2:1', '4', '5', '3:9', '*:2', '1,1,2', '4294967295']) {
      const fetch = numbersOf(await imap(`f FETCH ${set} (UID)\r\n`), 'f', 'fetch');
      expect(fetch, `FETCH ${set}`).toEqual(resolveSequenceNumbers(parseSequenceSet(set), count, 'strict') ?? 'BAD');
      const search = numbersOf(await imap(`g SEARCH ${set}\r\n`), 'g', 'search');
      expect(search, `SEARCH ${set}`).toEqual(resolveSequenceNumbers(parseSequenceSet(set), count, 'lenient'));
    }
    for (const set of ['1:*', '*', '2', '4:*', '11:*', '2:4', '1,5', '10:1']) {
      const search = numbersOf(await imap(`h UID SEARCH UID ${set}\r\n`), 'h', 'search');
      expect(search, `UID SEARCH UID ${set}`).toEqual(resolveUids(parseSequenceSet(set), uids));
    }
  });

  it('sequence sets in an empty mailbox: FETCH * is BAD, SEARCH and UID forms find nothing', async () => {
    const out = await imap('e1 SELECT Empty\r\nf FETCH * (UID)\r\n');
    expect(numbersOf(out, 'f', 'fetch')).toBe('BAD');
    expect(resolveSequenceNumbers(parseSequenceSet('*'), 0, 'strict')).toBeUndefined();
    const search = await imap('e1 SELECT Empty\r\ng SEARCH 1:*\r\n');
    expect(numbersOf(search, 'g', 'search')).toEqual(resolveSequenceNumbers(parseSequenceSet('1:*'), 0, 'lenient'));
    const uid = await imap('e1 SELECT Empty\r\nh UID FETCH 1:* (UID)\r\n');
    expect(numbersOf(uid, 'h', 'fetch')).toEqual(resolveUids(parseSequenceSet('1:*'), []));
  });

  it('mailbox names: what our cursor refuses (NO) Dovecot refuses with NO; canonical names it takes', async () => {
    const names = ['&AC4ALg-', '"a&b"', '&AGE-&AGI-', '"&AOk"', '&ACY-', 'Entw&APw-rfe', '"Tom &- Jerry"', 'Sub.&ZeVnLIqe-'];
    for (const [i, name] of names.entries()) {
      const out = await imap(`c${i} CREATE ${name}\r\n`);
      const dovecot = new RegExp(`^c${i} (OK|NO)`, 'm').exec(out)?.[1];
      let ours = 'OK';
      try {
        const c = new ArgCursor(frameOf(`c${i} CREATE ${name}`));
        c.sp();
        c.mailbox();
        c.end();
      } catch (e) {
        ours = (e as ParseError).status;
      }
      expect(ours, `${name}: ${out}`).toBe(dovecot);
    }
  });

  it('bad lines: untagged where our reader has no tag, tagged where it does; bare LF is a line end', async () => {
    const lines = ['', '*x NOOP', 'b{ NOOP', '+ NOOP', 'a1', 'a2 ', 'a3 N(O'];
    const out = await imap(lines.map((l) => `${l}\r\n`).join('') + 'n1 NOOP\n');
    const answers = out.split('\r\n').filter((l) => / BAD /.test(l)).map((l) => l.split(' ')[0]);
    const reader = new CommandReader();
    const ours = lines.flatMap((l) => reader.feed(Buffer.from(`${l}\r\n`)).map((e) => (e.type === 'error' ? (e.error.tag ?? '*') : 'ok')));
    expect(ours).toEqual(answers);
    expect(out).toMatch(/^n1 OK/m);
    expect(reader.feed(Buffer.from('n1 NOOP\n'))[0]?.type).toBe('command');
  });
});
