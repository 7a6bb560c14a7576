/**
 * Differential test: our MIME parser and FETCH formatters against a real Dovecot, byte for byte.
 * Each fixture of test/fixtures/mime (plus a ~5 MiB attachment made here) is put alone into a Maildir
 * (stored as it is: LF, or CRLF for the hand-dropped one; name with ,S=,W=), Dovecot's imap binary
 * runs in preauth mode on it (commands on stdin, TZ=UTC), and its answers to FETCH BODYSTRUCTURE,
 * BODY, ENVELOPE, RFC822.SIZE and BODY.PEEK[section]<partial> for every part of the message are
 * compared with what src/imap/fetch/* produce for the same bytes.
 *
 * Allow-list (RFC 3501 choices where we deliberately differ): none. One tolerance, for Dovecot's own
 * inconsistency: HEADER.FIELDS of a top-level header that has no blank line at all (the file ends
 * inside the header) comes with or without the final CRLF depending on Dovecot's cache state (the
 * same command answered 69 then 67 bytes in one session); there either form is accepted.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStructure } from '../../src/mail/mime/parse-structure.js';
import { crlfSize } from '../../src/mail/mime/line-ends.js';
import type { MimePart } from '../../src/mail/mime/structure.js';
import { bodystructureString, bodyString } from '../../src/imap/fetch/bodystructure.js';
import { envelopeFields } from '../../src/imap/fetch/envelope.js';
import { parseSectionSpec, sectionBytes, type SectionPartial } from '../../src/imap/fetch/section.js';
import { answerTag, ImapUnitSplitter } from './harness/imap-units.js';
import { makeTempDir, type TempDir } from './harness/tmpdir.js';
import { chownTree } from './harness/chown-tree.js';

const IMAP = '/usr/lib/dovecot/imap';
const FIXTURES = join(import.meta.dirname, '../fixtures/mime');

let tmp: TempDir;
beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('this test runs Dovecot as the mail user and must run as root');
  await access(IMAP).catch(() => {
    throw new Error(`${IMAP} is missing: install dovecot-imapd (scripts/install-test-peers.sh)`);
  });
  tmp = await makeTempDir('imap-fetch-diff');
});
afterAll(async () => {
  await tmp?.remove();
});


interface DovecotOutput {
  readonly units: Buffer[];
  /** The start of the transcript, for error messages. */
  head(): string;
}

/**
 * Runs Dovecot's imap on a Maildir holding `message` alone with `commands` (tagged t0, t1, ...; no LOGOUT);
 * returns its answers as response units. Its input stays open until every command has its tagged answer,
 * then EOF ends the session. Neither a pipelined LOGOUT nor an early EOF will do: imap disconnects at once
 * and drops what is still in its output buffer (a reader slow under load saw a 5 MiB answer cut 821 bytes
 * short, Dovecot logging "Logged out ... out=" with all of it counted, and the commands after it unanswered).
 */
async function dovecot(name: string, message: Buffer, commands: readonly string[]): Promise<DovecotOutput> {
  const dir = join(tmp.path, name.replace(/[^a-z0-9-]/gi, '_'));
  const maildir = join(dir, 'Maildir');
  const home = join(dir, 'home');
  for (const d of ['cur', 'new', 'tmp']) await mkdir(join(maildir, d), { recursive: true });
  await mkdir(home, { recursive: true });
  const file = `1733000000.M1P1.fixture,S=${message.length},W=${crlfSize(message)}:2,`;
  await writeFile(join(maildir, 'cur', file), message);
  await chownTree(dir);
  const conf = join(dir, 'dovecot.conf');
  await writeFile(conf, 'protocols =\nssl = no\nlog_path = /dev/stderr\n');
  const args = ['-c', conf, '-o', `mail_location=maildir:${maildir}`, '-o', 'mail_uid=8', '-o', 'mail_gid=8', '-o', 'first_valid_uid=1', '-o', 'first_valid_gid=1'];
  const splitter = new ImapUnitSplitter();
  const head = (): string => Buffer.concat([...splitter.units.slice(0, 200), splitter.rest()]).toString('latin1', 0, 4000);
  return new Promise((resolve, reject) => {
    // through real pipes: on a socket imap takes itself for started by inetd
    const child = spawn('/bin/sh', ['-c', 'cat | "$@" | cat', 'sh', IMAP, ...args], {
      env: { USER: 'alice', HOME: home, PATH: '/usr/bin:/bin', TZ: 'UTC' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const answered = new Set<string>();
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      for (const unit of splitter.push(d)) {
        const tag = answerTag(unit);
        if (tag !== undefined) answered.add(tag);
      }
      if (answered.size === commands.length) child.stdin.end();
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.stdin.on('error', () => undefined);
    child.stdin.write(commands.map((c, i) => `t${i} ${c}\r\n`).join(''));
    // a hang guard below the test's own timeout, so that a hang says what was missing
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, 50_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      if (err.includes('Fatal') || err.includes('Panic')) reject(new Error(err));
      else if (hung || answered.size < commands.length)
        reject(new Error(`${name}: Dovecot answered ${answered.size} of ${commands.length} commands${hung ? ' in 50 s' : ''}\n${err}\n${head()}`));
      else resolve({ units: splitter.units, head });
    });
  });
}

/**
 * The `* 1 FETCH` answers by their item ("BODYSTRUCTURE", "BODY[1.MIME]", "BODY[]<3>"): Dovecot runs
 * pipelined FETCH commands concurrently, so answers do not come in command order.
 */
function fetchAnswers(units: readonly Buffer[]): Map<string, Buffer> {
  const map = new Map<string, Buffer>();
  for (const u of units) {
    if (u.toString('latin1', 0, 11) !== '* 1 FETCH (') continue;
    const m = /^(BODY\[[^\]]*\](?:<\d+>)?|[A-Z0-9.]+)/.exec(u.toString('latin1', 11, 11 + 300));
    if (m !== null) map.set(m[1] as string, u);
  }
  return map;
}

/** The item name Dovecot answers a FETCH item with. */
function answerKey(c: SectionCase): string {
  return `BODY[${c.spec.toUpperCase()}]${c.partial === undefined ? '' : `<${c.partial.offset}>`}`;
}

/** The string value after `key` in a FETCH unit: literal, quoted or NIL. */
function valueAfter(unit: Buffer, key: RegExp): Buffer | null {
  const text = unit.toString('latin1');
  const m = key.exec(text);
  if (m === null) throw new Error(`no ${key} in ${text}`);
  const at = m.index + m[0].length;
  const lit = /^\{(\d+)\}\r\n/.exec(text.slice(at));
  if (lit !== null) {
    const start = at + lit[0].length;
    return unit.subarray(start, start + Number(lit[1]));
  }
  if (text.startsWith('NIL', at)) return null;
  const q = /^"((?:[^"\\]|\\.)*)"/.exec(text.slice(at));
  if (q === null) throw new Error(`no string after ${key} in ${text}`);
  return Buffer.from((q[1] as string).replace(/\\(.)/g, '$1'), 'latin1');
}

/** Every part number of the tree, as IMAP names them. */
function partNumbers(root: MimePart): string[] {
  const out: string[] = [];
  const walk = (p: MimePart, prefix: string): void => {
    const kids = p.kind === 'multipart' ? p.children : p.kind === 'message' ? (p.children[0]?.kind === 'multipart' ? p.children[0].children : p.children) : [];
    if (p.kind === 'message' && p.children[0] !== undefined && p.children[0].kind !== 'multipart') {
      out.push(`${prefix}1`);
      walk(p.children[0], `${prefix}1.`);
      return;
    }
    kids.forEach((k, i) => {
      const n = `${prefix}${i + 1}`;
      out.push(n);
      walk(k, `${n}.`);
    });
  };
  if (root.kind === 'multipart') walk(root, '');
  else {
    out.push('1');
    if (root.kind === 'message') walk(root, '1.');
  }
  return out;
}

interface SectionCase {
  readonly spec: string;
  readonly partial?: SectionPartial;
}

function sectionCases(root: MimePart): SectionCase[] {
  const cases: SectionCase[] = [
    { spec: '' },
    { spec: 'HEADER' },
    { spec: 'TEXT' },
    { spec: 'HEADER.FIELDS (From Subject)' },
    { spec: 'HEADER.FIELDS (SUBJECT content-type X-Missing)' },
    { spec: 'HEADER.FIELDS.NOT (Received Subject)' },
    { spec: 'HEADER.FIELDS (From To Subject)', partial: { offset: 5, length: 30 } },
    { spec: 'HEADER', partial: { offset: 0, length: 1 } },
    { spec: '', partial: { offset: 0, length: 10 } },
    { spec: '', partial: { offset: 3, length: 1 } },
    { spec: '', partial: { offset: 10_000_000, length: 5 } },
    { spec: 'TEXT', partial: { offset: 1, length: 7 } },
    { spec: 'TEXT', partial: { offset: 500, length: 40 } },
    { spec: '', partial: { offset: 600, length: 40 } },
    { spec: '1', partial: { offset: 450, length: 40 } },
    { spec: '9' },
    { spec: '1.9' },
    { spec: '2.1.1.1' },
    { spec: '1.9.MIME' },
  ];
  for (const n of partNumbers(root).slice(0, 40)) {
    cases.push({ spec: n }, { spec: `${n}.MIME` }, { spec: `${n}.HEADER` }, { spec: `${n}.TEXT` });
    cases.push({ spec: `${n}.HEADER.FIELDS (From Subject Content-Type)` }, { spec: `${n}.HEADER.FIELDS.NOT (Subject)` });
    cases.push({ spec: n, partial: { offset: 2, length: 5 } }, { spec: `${n}.TEXT`, partial: { offset: 1, length: 3 } });
  }
  return cases;
}

function fetchItem(c: SectionCase): string {
  return `BODY.PEEK[${c.spec}]${c.partial === undefined ? '' : `<${c.partial.offset}.${c.partial.length}>`}`;
}

async function compare(name: string, message: Buffer, few = false): Promise<void> {
  if (process.env.MIME_DIFF_DUMP !== undefined) await writeFile(join(process.env.MIME_DIFF_DUMP, `${name}.eml`), message);
  const root = parseStructure(message);
  const cases = few ? sectionCases(root).filter((c, i) => i < 4 || /^[0-9.]+(\.MIME)?$/.test(c.spec)).slice(0, 12) : sectionCases(root);
  const commands = ['SELECT INBOX', 'FETCH 1 (BODYSTRUCTURE)', 'FETCH 1 (BODY)', 'FETCH 1 (ENVELOPE)', 'FETCH 1 (RFC822.SIZE)'];
  for (const c of cases) commands.push(`FETCH 1 (${fetchItem(c)})`);
  const out = await dovecot(name, message, commands);
  const answers = fetchAnswers(out.units);
  const answer = (key: string): Buffer => {
    const u = answers.get(key);
    if (u === undefined) throw new Error(`${name}: no answer for ${key}:\n${out.head()}`);
    return u;
  };
  const latin = (s: string): string => s;
  expect(answer('BODYSTRUCTURE').toString('latin1'), `${name} BODYSTRUCTURE`).toBe(latin(`* 1 FETCH (BODYSTRUCTURE ${bodystructureString(root)})\r\n`));
  expect(answer('BODY').toString('latin1'), `${name} BODY`).toBe(`* 1 FETCH (BODY ${bodyString(root)})\r\n`);
  expect(answer('ENVELOPE').toString('latin1'), `${name} ENVELOPE`).toBe(`* 1 FETCH (ENVELOPE (${envelopeFields(root.envelope)}))\r\n`);
  expect(answer('RFC822.SIZE').toString('latin1'), `${name} RFC822.SIZE`).toBe(`* 1 FETCH (RFC822.SIZE ${root.header.virtual + root.body.virtual})\r\n`);
  cases.forEach((c) => {
    const unit = answer(answerKey(c));
    const theirs = valueAfter(unit, /BODY\[[^\]]*\](?:<\d+>)? /) ?? Buffer.alloc(0);
    const spec = parseSectionSpec(c.spec);
    if (spec === null) throw new Error(`bad spec ${c.spec}`);
    const ours = sectionBytes(message, root, spec, c.partial);
    const headerWithoutBlank = spec.part.length === 0 && spec.text === 'header.fields' && root.body.physical === 0 && !/\n\r?\n/.test(message.toString('latin1'));
    if (headerWithoutBlank && ours.length === theirs.length + 2 && ours.toString('latin1').endsWith('\r\n\r\n')) return;
    expect(ours.toString("latin1"), `${name} ${fetchItem(c)} (Dovecot: ${unit.toString("latin1", 0, 200)})`).toBe(theirs.toString("latin1"));
  });
}

const fixtureNames = (await readdir(FIXTURES)).filter((f) => f.endsWith('.eml')).sort();
const fixtureBytes = await Promise.all(fixtureNames.map((f) => readFile(join(FIXTURES, f))));

/** Pieces MIME parsers trip on, for generated messages. */
const PIECES = [
  '\n', '\r\n', '\r', '--', '--b', '--b--', '--bb', '--c', '\n\n', ': ', ' ', '\t', '"', '\\', '(', ')', '<', '>', '@', ',', ';', ':', '=?', '?=', '.',
  'Content-Type: multipart/mixed; boundary=b\n', 'Content-Type: multipart/digest; boundary=c\n', 'Content-Type: message/rfc822\n',
  'Content-Type: text/plain; charset=x\n', 'MIME-Version: 1.0\n', 'From: a <b@c>, g: x@y;\n', 'To: u@v\n', 'Subject: =?utf-8?q?x?=\n',
  "Content-Disposition: attachment; name*0*=utf-8''%41; name*1=b\n", 'Content-ID: <i@d>\n', 'Content-Transfer-Encoding: base64\n', '\xe9',
  'From: "a\\"b" <c@[1.2.3.4]>\n', 'Cc: x (c(nested)) <y@z>, ;\n', 'Reply-To: <@a:b@c>\n', 'Date: x\n y\n', 'Subject: \t a  b\n', '\0', '[', ']',
  'Content-Language: en, (x) de\n', 'Content-Location: a\n b\n', 'Message-ID: <\n x>\n', 'g:;', '<>', 'Content-Type: text/plain; a*=x; a*0=y\n',
];
const messageArb = fc.oneof(
  fc.array(fc.constantFrom(...PIECES), { maxLength: 120 }).map((a) => Buffer.from(a.join(''), 'latin1')),
  fc
    .tuple(fc.constantFrom(...fixtureBytes), fc.array(fc.tuple(fc.nat(), fc.constantFrom(...PIECES), fc.nat({ max: 20 })), { maxLength: 10 }))
    .map(([base, edits]) => {
      let t = base.toString('latin1');
      for (const [at, piece, del] of edits) {
        const i = t.length === 0 ? 0 : at % t.length;
        t = t.slice(0, i) + piece + t.slice(i + del);
      }
      return Buffer.from(t, 'latin1');
    }),
);

describe('FETCH output matches Dovecot', () => {
  for (const f of fixtureNames) {
    it(f, async () => {
      await compare(f, await readFile(join(FIXTURES, f)));
    }, 60_000);
  }

  // the same messages stored with CRLF (files dropped into a Maildir by other programs)
  for (const f of fixtureNames.filter((x) => x !== 'crlf-stored.eml')) {
    it(`${f} stored CRLF`, async () => {
      const lf = await readFile(join(FIXTURES, f));
      await compare(`crlf-${f}`, Buffer.from(lf.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1'));
    }, 60_000);
  }

  it('nesting past the 100-level limit', async () => {
    let msg = 'From: deep@example.org\nSubject: deep\nMIME-Version: 1.0\n';
    const depth = 105;
    for (let i = 0; i < depth; i++) msg += `Content-Type: multipart/mixed; boundary=b${i}\n\n--b${i}\n`;
    msg += 'Content-Type: text/plain\n\nleaf\n';
    for (let i = depth - 1; i >= 0; i--) msg += `--b${i}--\n`;
    await compare('deep', Buffer.from(msg));
  }, 60_000);

  it('message/rfc822 nested past the limit', async () => {
    const msg = 'Subject: r\n' + 'Content-Type: message/rfc822\n\n'.repeat(103) + 'Subject: leaf\n\nbody\n';
    await compare('deep-rfc822', Buffer.from(msg));
  }, 60_000);

  it('more parts than the 10,000-part limit', async () => {
    let msg = 'From: many@example.org\nSubject: many\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=m\n\n';
    for (let i = 0; i < 10_005; i++) msg += `--m\nContent-Type: text/plain\n\n${i}\n`;
    msg += '--m--\n';
    const message = Buffer.from(msg);
    const root = parseStructure(message);
    expect(root.children.length).toBeLessThan(10_000);
    await compare('many', message);
  }, 120_000);

  it('random and mutated messages (fast-check, fixed seed)', async () => {
    const samples = fc.sample(messageArb, { seed: Number(process.env.MIME_DIFF_SEED ?? 20261203), numRuns: Number(process.env.MIME_DIFF_RUNS ?? 200) });
    for (let i = 0; i < samples.length; i += 4) {
      await Promise.all(samples.slice(i, i + 4).map((m, k) => compare(`random-${i + k}`, m, true)));
    }
  }, 300_000);

  it('a ~5 MiB base64 attachment', async () => {
    const b64 = randomBytes(3_800_000).toString('base64').replace(/.{76}/g, '$&\n');
    const message = Buffer.from(
      'From: big@example.org\nSubject: large attachment\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=BIG\n\n' +
        '--BIG\nContent-Type: text/plain\n\nsee attachment\n--BIG\nContent-Type: application/octet-stream; name=big.bin\n' +
        `Content-Transfer-Encoding: base64\n\n${b64}\n--BIG--\n`,
    );
    expect(message.length).toBeGreaterThan(5_000_000);
    await compare('large', message);
  }, 120_000);
});
