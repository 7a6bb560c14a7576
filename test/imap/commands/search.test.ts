/**
 * SEARCH and UID SEARCH as transcripts over the in-memory store: every RFC 3501 key, OR/NOT and
 * parenthesised nesting, sequence and UID sets, CHARSET (UTF-8, US-ASCII, others BADCHARSET), dates on the
 * internal date and on the Date: header, decoded text (RFC 2047 words, quoted-printable/base64 bodies,
 * charsets), MODSEQ; BAD cases; and a property test: the search-key parser throws nothing but ParseError.
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ArgCursor } from '../../../src/imap/wire/cursor.js';
import { parseSearch } from '../../../src/imap/search/parse.js';
import { ParseError } from '../../../src/imap/wire/frame.js';
import type { UserMailboxes } from '../../../src/store/mailbox/mailbox-store.js';
import { Env, loggedIn, type Client } from '../harness/transcript.js';

const day = (y: number, m: number, d: number, h = 12): { ms: number; tzMinutes: number } => ({ ms: Date.UTC(y, m - 1, d, h), tzMinutes: 0 });

/** Five messages: ASCII, RFC 2047 and raw UTF-8 headers, QP and base64 bodies, flags and keywords. */
const MESSAGES: { content: string; flags?: string[]; date: { ms: number; tzMinutes: number } }[] = [
  {
    content: 'From: Ann Lee <ann@example.org>\nTo: bob@example.net\nCc: carol@example.com\nSubject: Quarterly report\nDate: Mon, 1 Jan 2024 23:30:00 -0500\nX-Tag: alpha\n\nThe numbers are in.\n',
    flags: ['\\Seen', '\\Answered'],
    date: day(2024, 1, 2),
  },
  {
    content:
      'From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>\nTo: ann@example.org\nBcc: secret@example.org\nSubject: =?ISO-8859-1?Q?Gr=FC=DFe?= aus =?UTF-8?B?S8O2bG4=?=\nDate: 15 Feb 2024 08:00:00 +0100\nMIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nViele Gr=FC=DFe vom Rhein\n',
    flags: ['\\Flagged', '$Label1'],
    date: day(2024, 2, 15),
  },
  {
    content: `From: zoe@example.com\nTo: ann@example.org\nSubject: Caf\xc3\xa9 tonight\nDate: Fri, 1 Mar 2024 18:00:00 +0000\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n${Buffer.from('Rendez-vous au café, à 20h.').toString('base64')}\n--XX\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAECAw==\n--XX--\n`,
    flags: ['\\Deleted', '\\Draft'],
    date: day(2024, 3, 1),
  },
  {
    content: 'From: bob@example.net\nSubject: no date here\n\nshort\n',
    date: day(2024, 3, 10),
  },
  {
    content: `From: ann@example.org\nSubject: big one\nDate: Sun, 10 Mar 2024 09:00:00 +0000\n\n${'x'.repeat(5000)}\n`,
    flags: ['\\Seen'],
    date: day(2024, 3, 10),
  },
];

let env: Env;
let user: UserMailboxes;

async function fresh(): Promise<Client> {
  env = new Env();
  user = await env.store.openUser('alice');
  for (const m of MESSAGES) await user.append('INBOX', { content: Buffer.from(m.content, 'latin1'), flags: m.flags ?? [], internalDate: m.date });
  const c = await loggedIn(env);
  await c.run(`
    C: s SELECT INBOX
  `);
  while (!(await c.line()).startsWith('s ')) {
    /* SELECT's responses */
  }
  return c;
}


async function search(c: Client, args: string, tag = 'a'): Promise<string> {
  c.send(`${tag} ${args}\r\n`);
  const lines: string[] = [];
  for (;;) {
    const line = await c.line();
    if (line.startsWith(`${tag} `)) {
      if (!line.startsWith(`${tag} OK`)) return line;
      return lines.join('\n');
    }
    lines.push(line);
  }
}

describe('search keys', () => {
  let c: Client;
  beforeAll(async () => {
    c = await fresh();
  });
  afterAll(async () => {
    await env.close();
  });

  const cases: [string, string][] = [
    ['SEARCH ALL', '* SEARCH 1 2 3 4 5'],
    ['SEARCH ANSWERED', '* SEARCH 1'],
    ['SEARCH UNANSWERED', '* SEARCH 2 3 4 5'],
    ['SEARCH DELETED', '* SEARCH 3'],
    ['SEARCH UNDELETED', '* SEARCH 1 2 4 5'],
    ['SEARCH DRAFT', '* SEARCH 3'],
    ['SEARCH UNDRAFT', '* SEARCH 1 2 4 5'],
    ['SEARCH FLAGGED', '* SEARCH 2'],
    ['SEARCH UNFLAGGED', '* SEARCH 1 3 4 5'],
    ['SEARCH SEEN', '* SEARCH 1 5'],
    ['SEARCH UNSEEN', '* SEARCH 2 3 4'],
    ['SEARCH KEYWORD $Label1', '* SEARCH 2'],
    ['SEARCH UNKEYWORD $Label1', '* SEARCH 1 3 4 5'],
    ['SEARCH KEYWORD $Nothing', '* SEARCH'],
    ['SEARCH RECENT', '* SEARCH 1 2 3 4 5'],
    ['SEARCH NEW', '* SEARCH 2 3 4'],
    ['SEARCH OLD', '* SEARCH'],
    ['SEARCH LARGER 1000', '* SEARCH 5'],
    ['SEARCH SMALLER 100', '* SEARCH 4'],
    ['SEARCH FROM ann', '* SEARCH 1 5'],
    ['SEARCH FROM "ANN LEE"', '* SEARCH 1'],
    ['SEARCH FROM "müller"', '* SEARCH 2'],
    ['SEARCH TO ann@example.org', '* SEARCH 2 3'],
    ['SEARCH CC carol', '* SEARCH 1'],
    ['SEARCH BCC secret', '* SEARCH 2'],
    ['SEARCH SUBJECT report', '* SEARCH 1'],
    ['SEARCH SUBJECT "grüße aus köln"', '* SEARCH 2'],
    ['SEARCH SUBJECT "CAFÉ"', '* SEARCH 3'],
    ['SEARCH HEADER X-Tag ALPHA', '* SEARCH 1'],
    ['SEARCH HEADER x-tag ""', '* SEARCH 1'],
    ['SEARCH HEADER Date ""', '* SEARCH 1 2 3 5'],
    ['SEARCH BODY numbers', '* SEARCH 1'],
    ['SEARCH BODY "grüße vom"', '* SEARCH 2'],
    ['SEARCH BODY "au café"', '* SEARCH 3'],
    ['SEARCH BODY report', '* SEARCH'],
    ['SEARCH BODY AAECAw', '* SEARCH'],
    ['SEARCH TEXT report', '* SEARCH 1'],
    ['SEARCH TEXT "rendez-vous"', '* SEARCH 3'],
    ['SEARCH TEXT x-tag', '* SEARCH 1'],
    ['SEARCH BEFORE 15-Feb-2024', '* SEARCH 1'],
    ['SEARCH ON 15-Feb-2024', '* SEARCH 2'],
    ['SEARCH SINCE 1-Mar-2024', '* SEARCH 3 4 5'],
    ['SEARCH SINCE "10-Mar-2024"', '* SEARCH 4 5'],
    // the Date: header's own day: message 1 was sent on 1 Jan in its zone (2 Jan in UTC); no Date (4) is 1970
    ['SEARCH SENTON 1-Jan-2024', '* SEARCH 1'],
    ['SEARCH SENTBEFORE 15-Feb-2024', '* SEARCH 1 4'],
    ['SEARCH SENTSINCE 1-Mar-2024', '* SEARCH 3 5'],
    ['SEARCH 2:3', '* SEARCH 2 3'],
    ['SEARCH 4:*', '* SEARCH 4 5'],
    ['SEARCH 1,3,9', '* SEARCH 1 3'],
    ['SEARCH UID 2,5', '* SEARCH 2 5'],
    ['SEARCH UID *', '* SEARCH 5'],
    ['SEARCH NOT SEEN NOT DELETED', '* SEARCH 2 4'],
    ['SEARCH OR FLAGGED DELETED', '* SEARCH 2 3'],
    ['SEARCH OR (SEEN LARGER 1000) OR DRAFT KEYWORD $Label1', '* SEARCH 2 3 5'],
    ['SEARCH NOT (OR SEEN FLAGGED)', '* SEARCH 3 4'],
    ['SEARCH (SUBJECT caf) (FROM zoe)', '* SEARCH 3'],
    ['SEARCH NOT NOT NOT BODY numbers', '* SEARCH 2 3 4 5'],
    ['SEARCH CHARSET UTF-8 SUBJECT "köln"', '* SEARCH 2'],
    ['SEARCH CHARSET us-ascii TEXT rhein', '* SEARCH 2'],
    ['UID SEARCH FROM ann', '* SEARCH 1 5'],
    ['UID SEARCH 5', '* SEARCH 5'],
  ];
  for (const [command, expected] of cases) {
    it(command, async () => {
      expect(await search(c, command)).toBe(expected);
    });
  }

  it('takes a literal as a search string (8-bit UTF-8)', async () => {
    const word = Buffer.from('grüße', 'utf8');
    c.send(`b SEARCH CHARSET UTF-8 BODY {${word.length}+}\r\n`);
    c.send(Buffer.concat([word, Buffer.from('\r\n')]));
    expect(await c.line()).toBe('* SEARCH 2');
    expect(await c.line()).toBe('b OK Search completed.');
  });

  it('answers NO [BADCHARSET] for an unknown charset, and decodes a known one (as Dovecot)', async () => {
    expect(await search(c, 'SEARCH CHARSET X-UNKNOWN TEXT x')).toBe('a NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset X-UNKNOWN');
    c.send('b SEARCH CHARSET ISO-8859-1 SUBJECT {5+}\r\n');
    c.send(Buffer.concat([Buffer.from('gr\xfc\xdfe', 'latin1'), Buffer.from('\r\n')]));
    expect(await c.line()).toBe('* SEARCH 2');
    expect(await c.line()).toBe('b OK Search completed.');
  });

  it('rebuilds address headers for FROM/TO/CC/BCC as Dovecot: Name <addr>, <addr>, groups', async () => {
    expect(await search(c, 'SEARCH FROM "<"')).toBe('* SEARCH 1 2 3 4 5');
    expect(await search(c, 'SEARCH FROM "ann lee <ann@"')).toBe('* SEARCH 1');
    expect(await search(c, 'SEARCH FROM "jürgen müller <jm@example.de>"')).toBe('* SEARCH 2');
    expect(await search(c, 'SEARCH FROM "<bob@example.net>"')).toBe('* SEARCH 4');
    expect(await search(c, 'SEARCH HEADER From "<bob@"')).toBe('* SEARCH');
  });

  it('answers BAD for broken keys, and goes on', async () => {
    for (const bad of ['SEARCH', 'SEARCH FOO', 'SEARCH (', 'SEARCH ()', 'SEARCH (SEEN', 'SEARCH SEEN)', 'SEARCH OR SEEN', 'SEARCH NOT', 'SEARCH LARGER x', 'SEARCH BEFORE 32-Jan-2024', 'SEARCH BEFORE yesterday', 'SEARCH UID', 'SEARCH UID 0', 'SEARCH HEADER', 'SEARCH HEADER X', 'SEARCH KEYWORD', 'SEARCH CHARSET', 'SEARCH CHARSET UTF-8', 'SEARCH MODSEQ x', `SEARCH ${'NOT '.repeat(200)}ALL`, `SEARCH ${'('.repeat(200)}ALL${')'.repeat(200)}`]) {
      expect(await search(c, bad, 'z'), bad).toMatch(/^z BAD /);
      // a good command between (the session closes after many BADs in a row)
      expect(await search(c, 'SEARCH 2')).toBe('* SEARCH 2');
    }
    expect(await search(c, 'SEARCH 1')).toBe('* SEARCH 1');
  });
});

describe('MODSEQ and expunges', () => {
  afterEach(async () => {
    await env.close();
  });
  it('MODSEQ filters, adds (MODSEQ n) and turns CONDSTORE on', async () => {
    const c = await fresh();
    const h = await user.open('INBOX', 'read-only');
    const m = (await h.details([1, 2, 3, 4, 5])).map((d) => d.modseq);
    await h.close();
    c.send(`a SEARCH MODSEQ ${m[3]!}\r\n`);
    expect(await c.line()).toBe(`* OK [HIGHESTMODSEQ ${m[4]!}] Highest`);
    expect(await c.line()).toBe(`* SEARCH 4 5 (MODSEQ ${m[4]!})`);
    expect(await c.line()).toBe('a OK Search completed.');
    expect(await search(c, `SEARCH MODSEQ "/flags/\\\\seen" all ${m[4]! + 1}`)).toBe('* SEARCH');
  });

  it('does not send EXPUNGE during SEARCH, and leaves the expunged message out', async () => {
    const c = await fresh();
    const h = await user.open('INBOX', 'read-write');
    await h.expunge(); // message 3 is \Deleted
    await h.close();
    expect(await search(c, 'SEARCH ALL')).toBe('* SEARCH 1 2 4 5');
    expect(await search(c, 'NOOP', 'b')).toBe('* 3 EXPUNGE');
    expect(await search(c, 'SEARCH ALL')).toBe('* SEARCH 1 2 3 4');
  });
});

describe('the cached header summary', () => {
  afterEach(async () => {
    await env.close();
  });

  it('is saved by the first SUBJECT/FROM search and answers the next ones alike', async () => {
    const c = await fresh();
    expect(await search(c, 'SEARCH SUBJECT "grüße"')).toBe('* SEARCH 2');
    const h = await user.open('INBOX', 'read-only');
    const meta = await h.meta([1, 2, 3, 4, 5], 'search');
    await h.close();
    expect(meta.size).toBe(5);
    expect(JSON.parse(meta.get(4)!)).toMatchObject({ subject: ['no date here'], from: '<bob@example.net>', sentDay: 0 });
    expect(await search(c, 'SEARCH SUBJECT "grüße"')).toBe('* SEARCH 2');
    expect(await search(c, 'SEARCH OR FROM zoe SENTON 1-Jan-2024')).toBe('* SEARCH 1 3');
    expect(await search(c, 'SEARCH SUBJECT report HEADER X-Tag alpha')).toBe('* SEARCH 1');
  });
});

describe('the header cache', () => {
  afterEach(async () => {
    await env.close();
  });

  it('is filled per field by the first HEADER search and answers the next ones alike', async () => {
    const c = await fresh();
    expect(await search(c, 'SEARCH HEADER X-Tag alpha')).toBe('* SEARCH 1');
    const h = await user.open('INBOX', 'read-only');
    expect([...(await h.meta([1, 2, 3, 4, 5], 'header:x-tag'))]).toEqual([[1, '1alpha'], [2, '0'], [3, '0'], [4, '0'], [5, '0']]);
    expect((await h.meta([1, 2, 3, 4, 5], 'header:subject')).size).toBe(0);
    // a damaged record that the store finds is computed again
    await h.saveMeta('header:x-tag', new Map([[1, 'garbage alpha']]));
    await h.close();
    expect(await search(c, 'SEARCH HEADER X-Tag ALPHA')).toBe('* SEARCH 1');
    expect(await search(c, 'SEARCH HEADER x-tag ""')).toBe('* SEARCH 1');
    expect(await search(c, 'SEARCH NOT HEADER X-Tag ""')).toBe('* SEARCH 2 3 4 5');
    expect(await search(c, 'SEARCH HEADER Subject "grüße aus"')).toBe('* SEARCH 2');
    expect(await search(c, 'SEARCH OR HEADER Subject report HEADER X-Tag alpha SEEN')).toBe('* SEARCH 1');
    expect(await search(c, 'SEARCH HEADER Subject caf BODY "au café"')).toBe('* SEARCH 3');
    expect(await search(c, `SEARCH HEADER ${'X'.repeat(100)} ""`)).toBe('* SEARCH');
  });
});

describe('the search-key parser', () => {
  const WORDS = ['ALL', 'ANSWERED', 'BCC', 'BEFORE', 'BODY', 'CC', 'DELETED', 'DRAFT', 'FLAGGED', 'FROM', 'HEADER', 'KEYWORD', 'LARGER', 'NEW', 'NOT', 'OLD', 'ON', 'OR', 'RECENT', 'SEEN', 'SENTBEFORE', 'SENTON', 'SENTSINCE', 'SINCE', 'SMALLER', 'SUBJECT', 'TEXT', 'TO', 'UID', 'UNANSWERED', 'UNDELETED', 'UNDRAFT', 'UNFLAGGED', 'UNKEYWORD', 'UNSEEN', 'MODSEQ', 'CHARSET', 'UTF-8', '1:*', '*', '0', '4294967296', '1-Jan-2024', '"x"', '"', '(', ')', ' ', '\\', '{3}', 'é', '\0'];
  const input = fc.oneof(
    fc.array(fc.constantFrom(...WORDS), { maxLength: 12 }).map((w) => ' ' + w.join(' ')),
    fc.array(fc.constantFrom(...WORDS), { maxLength: 12 }).map((w) => w.join('')),
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')),
  );

  it('never throws anything but ParseError', () => {
    fc.assert(
      fc.property(input, (text) => {
        const bytes = Buffer.from(text, 'latin1');
        const cursor = new ArgCursor({ segments: [{ kind: 'text', bytes, offset: 0 }], argsOffset: 0 });
        try {
          parseSearch(cursor);
          cursor.end();
        } catch (err) {
          if (!(err instanceof ParseError)) throw err;
        }
      }),
      { numRuns: 20_000 },
    );
  });
});
