/**
 * SEARCH's shortcuts give the answers of the plain way, checked by property tests (fast-check, fixed
 * seed) against the plain way kept in text-match.ts: body-match.ts over layout.ts's layout (BODY/TEXT
 * without decoding where the bytes settle it) against `bodyTexts` + `containsAny`; header-cache.ts records against matching the
 * parsed fields; the message's own header read up to its first blank line against its structure's root
 * header; and the per-character folding of latin1 text the byte table relies on.
 */
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bodyContains, needleOf } from '../../../src/imap/search/body-match.js';
import { headerRecord, recordMatches, validRecord } from '../../../src/imap/search/header-cache.js';
import { decodeLayout, encodeLayout, layoutOf } from '../../../src/imap/search/layout.js';
import { bodyTexts, containsAny, fold, headerText, rootFields } from '../../../src/imap/search/text-match.js';
import { parseHeaderBlock } from '../../../src/mail/mime/header-block.js';
import { parseStructure } from '../../../src/mail/mime/parse-structure.js';

const SEED = 20261203;
const FIXTURES = join(import.meta.dirname, '../../fixtures/mime');
const fixtures = readdirSync(FIXTURES)
  .filter((x) => x.endsWith('.eml'))
  .map((f) => readFileSync(join(FIXTURES, f)));

const CHARSETS = ['', 'utf-8', 'UTF-8', 'us-ascii', 'iso-8859-1', 'ISO-8859-15', 'windows-1252', 'koi8-r', 'utf-16le', 'utf-7', 'iso-2022-jp', 'x-unknown', 'shift_jis'];
const ENCODINGS = ['', '7bit', '8bit', 'binary', 'base64', 'quoted-printable', 'x-uuencode'];
const TYPES = ['text/plain', 'text/html', 'application/octet-stream', 'image/png', 'message/rfc822', 'message/delivery-status', ''];
/** Text pieces with the characters folding treats specially: case, NFKC compatibility forms, combining marks. */
const WORDS = ['Hello', 'WORLD', 'marmalade', 'MARMALADE', 'ﬁle', 'ＡＢＣ', 'ª', '²', '½', 'µ', 'Ä', 'ä', 'e\u0301', '\u0301', 'İ', 'K', 'Σ', 'ς', 'ß', '\u00a0', '=', '=3D', '=C3=A9', '\r\n', '\n', ' ', 'ab', 'x'];

const wordsArb = fc.array(fc.constantFrom(...WORDS), { maxLength: 12 }).map((w) => w.join(''));
const bodyBytesArb = fc.oneof(
  wordsArb.map((s) => Buffer.from(s, 'utf8')),
  wordsArb.map((s) => Buffer.from(s, 'latin1')),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(Buffer.from(a).toString('base64').replace(/.{20}/g, '$&\n'))),
  wordsArb.map((s) => Buffer.from(Buffer.from(s, 'utf8').toString('base64'))),
);

/** A leaf part, or a multipart of two, with a random type, charset and encoding. */
const leafArb = fc.record({ type: fc.constantFrom(...TYPES), charset: fc.constantFrom(...CHARSETS), encoding: fc.constantFrom(...ENCODINGS), body: bodyBytesArb });
type Leaf = { type: string; charset: string; encoding: string; body: Buffer };
function partHeader(l: Leaf): string {
  let h = '';
  if (l.type !== '') h += `Content-Type: ${l.type}${l.charset === '' ? '' : `; charset="${l.charset}"`}\n`;
  if (l.encoding !== '') h += `Content-Transfer-Encoding: ${l.encoding}\n`;
  return h;
}
const messageArb = fc.oneof(
  leafArb.map((l) => Buffer.concat([Buffer.from(`Subject: x\nMIME-Version: 1.0\n${partHeader(l)}\n`), l.body])),
  fc
    .tuple(leafArb, leafArb)
    .map(([a, b]) =>
      Buffer.concat([
        Buffer.from('Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=BB\n\npreamble Hello\n--BB\n'),
        Buffer.from(`${partHeader(a)}X-Note: =?utf-8?q?Gr=C3=BC=C3=9Fe?= Hello\n\n`),
        a.body,
        Buffer.from(`\n--BB\n${partHeader(b)}\n`),
        b.body,
        Buffer.from('\n--BB--\nepilogue WORLD\n'),
      ]),
    ),
  fc.constantFrom(...fixtures),
);

/** Needles: pieces of the message's own decoded text (so that some match), words, and random strings. */
function needlesFor(stored: Buffer, root: ReturnType<typeof parseStructure>, pick: number): string[] {
  const texts = bodyTexts(stored, root, true).filter((t) => t.length > 0);
  const out = ['', 'hello', 'marmalade', 'file', 'abc', 'a', '2', '1⁄2', 'μ', 'é', 'ä', 'x-note', 'grüße', '\u0301'];
  for (const t of texts) {
    const at = pick % t.length;
    out.push(t.slice(at, at + 1 + (pick % 7)));
  }
  return out;
}

describe('BODY and TEXT shortcuts (body-match.ts)', () => {
  it('answer as decoding and folding every part does', () => {
    fc.assert(
      fc.property(messageArb, fc.nat(), fc.string({ maxLength: 4 }), (stored, pick, extra) => {
        const root = parseStructure(stored);
        // the layout as the store gives it back
        const steps = decodeLayout(encodeLayout(layoutOf(root)))!;
        for (const raw of [...needlesFor(stored, root, pick), extra]) {
          const needle = fold(raw);
          for (const headers of [false, true]) {
            const plain = containsAny(bodyTexts(stored, root, headers), needle);
            expect(bodyContains(stored, steps, needleOf(needle), headers), `${headers ? 'TEXT' : 'BODY'} ${JSON.stringify(needle)}`).toBe(plain);
          }
        }
      }),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('finds an ASCII word in a latin1-read message/* part (not text, yet searched) exactly where folding does', () => {
    // every byte value, around each a word, in a part read as latin1 (not UTF-8, no charset)
    for (let b = 0x80; b < 0x100; b++) {
      const body = Buffer.from([0xff, 0x61, b, 0x62, 0x32, 0xaa, 0xb2, 0x20, 0xbd, 0x4d, 0x41, 0x52, 0xc4]);
      const stored = Buffer.concat([Buffer.from('MIME-Version: 1.0\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n'), Buffer.from(body.toString('base64'))]);
      expect(layoutOf(parseStructure(stored))).toHaveLength(1);
      const root = parseStructure(stored);
      for (const needle of ['a', 'ab', `a${fold(String.fromCharCode(b))}b`, 'b2a', 'a2', '1', '2 1', 'mar', 'ä', ' ', 'o']) {
        expect(bodyContains(stored, layoutOf(root), needleOf(fold(needle)), false), `byte ${b} needle ${needle}`).toBe(containsAny(bodyTexts(stored, root, false), fold(needle)));
      }
    }
  });

  it("go by a part's last Content-Type when it has two, as Dovecot's search does", () => {
    const cases: [string, string, boolean][] = [
      ['Content-Type: text/plain\nContent-Type: application/octet-stream', 'alpaca', false],
      ['Content-Type: application/octet-stream\nContent-Type: text/plain', 'bison', true],
      ['Content-Type: text/plain\nContent-Type:', 'salamander', false],
      ['Content-Type: image/png\nContent-Type: message/delivery-status', 'gecko', true],
      ['Content-Type: text/plain', 'lynx', true],
      ['Content-Type: application/pdf', 'moose', false],
    ];
    for (const [header, word, found] of cases) {
      const stored = Buffer.from(`MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n--B\n${header}\n\n${word}\n--B--\n`);
      const root = parseStructure(stored);
      expect(bodyContains(stored, layoutOf(root), needleOf(word), false), header).toBe(found);
      expect(containsAny(bodyTexts(stored, root, false), word), header).toBe(found);
      // the root's own header too
      const single = Buffer.from(`MIME-Version: 1.0\n${header}\n\n${word}\n`);
      expect(bodyContains(single, layoutOf(parseStructure(single)), needleOf(word), false), `root ${header}`).toBe(found);
    }
  });

  it('find ASCII needles in latin1-read bytes as folding them does (the characters with compatibility forms above all)', () => {
    const SPECIAL = [0xa0, 0xa8, 0xaa, 0xaf, 0xb2, 0xb3, 0xb4, 0xb5, 0xb8, 0xb9, 0xba, 0xbc, 0xbd, 0xbe, 0xc0, 0xdf, 0xff, 0x80];
    const byteArb = fc.oneof(fc.constantFrom(...SPECIAL), fc.constantFrom(0x20, 0x31, 0x32, 0x33, 0x34, 0x61, 0x41, 0x6f, 0x4f), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(fc.array(byteArb, { minLength: 1, maxLength: 30 }), fc.nat(), fc.nat({ max: 5 }), (body, at, len) => {
        // non-UTF-8 bytes in a text part with no charset: read as latin1
        const bytes = Buffer.from([0xff, ...body]);
        const stored = Buffer.concat([Buffer.from('MIME-Version: 1.0\nContent-Type: text/plain\n\n'), bytes]);
        const steps = layoutOf(parseStructure(stored));
        const folded = fold(bytes.toString('latin1'));
        // eslint-disable-next-line no-control-regex
        const ascii = folded.replace(/[^\x00-\x7f]/g, '');
        const start = at % Math.max(folded.length, 1);
        for (const needle of [folded.slice(start, start + 1 + len), ascii.slice(at % Math.max(ascii.length, 1)).slice(0, 1 + len), 'a2', '1', ' 1', '2 ', 'o ']) {
          // eslint-disable-next-line no-control-regex
          if (!/^[\x00-\x7f]*$/.test(needle)) continue;
          expect(bodyContains(stored, steps, needleOf(needle), false), JSON.stringify([...bytes, needle])).toBe(folded.includes(needle));
        }
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('rely on latin1 text folding one character at a time', () => {
    // NFKC could join neighbours (a base letter and a combining mark); in U+0000–U+00FF none does
    const one = Array.from({ length: 256 }, (_, b) => fold(String.fromCharCode(b)));
    for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) if (fold(String.fromCharCode(a, b)) !== one[a]! + one[b]!) throw new Error(`${a} ${b}`);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const s = Buffer.from(bytes).toString('latin1');
        expect(fold(s)).toBe([...s].map((c) => one[c.charCodeAt(0)]!).join(''));
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

const FIELD_LINES = [
  'Subject: Quarterly report\n',
  'subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus\n',
  'SUBJECT:\n',
  'Subject: folded\n  over\tlines\n',
  'X-Tag: alpha\n',
  'X-Tag: beta\n',
  'From: Ann <ann@example.org>\n',
  'Subject : spaced name\n',
  'no colon line\n',
  'Subject: caf\xc3\xa9\n',
  'Subject: caf\xe9\n',
  'Subject: ["json", "like"]\n',
];

describe('HEADER records (header-cache.ts)', () => {
  it('answer as matching the parsed fields does', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...FIELD_LINES), { maxLength: 8 }), fc.constantFrom('subject', 'x-tag', 'from', 'x-none'), fc.constantFrom('', 'report', 'grüße', 'folded over', 'lines', 'alpha', 'beta', 'café', 'json', '"', '1', 'q'), (lines, field, raw) => {
        const stored = Buffer.from(`${lines.join('')}\nbody\n`, 'latin1');
        const fields = parseHeaderBlock(stored, 0, stored.length);
        const needle = fold(raw);
        const plain = fields.some((f) => f.name.toLowerCase() === field && (needle === '' || headerText(f).includes(needle)));
        const record = headerRecord(fields, field);
        expect(validRecord(record)).toBe(true);
        expect(recordMatches(record, needle)).toBe(plain);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('say when they are damaged (and so do layouts)', () => {
    expect(decodeLayout(undefined)).toBeUndefined();
    // versions 1 and 2 decided differently what is searched: such a record is computed again
    expect(decodeLayout('[1,[1,0,1,1,null,null]]')).toBeUndefined();
    expect(decodeLayout('[2,[1,0,1,1,null,null]]')).toBeUndefined();
    expect(decodeLayout('[4,[1,0,1,1,null,null]]')).toBeUndefined();
    expect(decodeLayout('{')).toBeUndefined();
    expect(validRecord('')).toBe(false);
    expect(validRecord('00')).toBe(false);
    expect(validRecord('x')).toBe(false);
    expect(recordMatches('Jnot json', 'a')).toBeUndefined();
    expect(recordMatches('?', 'a')).toBeUndefined();
  });
});

describe("the message's own header", () => {
  it('is the same read up to the first blank line as through the structure', () => {
    fc.assert(
      fc.property(messageArb, (stored) => {
        expect(parseHeaderBlock(stored, 0, stored.length)).toEqual(rootFields(stored, parseStructure(stored)));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
