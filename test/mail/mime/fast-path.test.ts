/**
 * The structure parser's fast paths (header fields it does not use are skipped without strings, body
 * lines are looked at only where they start with "--") against the parser before them, kept frozen in
 * reference/: for the same bytes the same tree, the same JSON and the same FETCH texts — on the property
 * tests' inputs, the fixtures, and messages shaped like bench:imap's corpus (fast-check, fixed seed).
 */
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { textsOf } from '../../../src/imap/fetch/text-cache.js';
import { headerFields, parseHeaderBlock } from '../../../src/mail/mime/header-block.js';
import { parseStructure } from '../../../src/mail/mime/parse-structure.js';
import { corpusMessage } from '../../../bench/imap/corpus.js';
import { parseHeaderBlock as parseHeaderBlockV1 } from './reference/header-block-v1.js';
import { parseStructure as parseStructureV1 } from './reference/parse-structure-v1.js';
import { messageArb } from './arbitraries.js';

const SEED = 20261204;
const FIXTURES = join(import.meta.dirname, '../../fixtures/mime');
const fixtures = readdirSync(FIXTURES)
  .filter((x) => x.endsWith('.eml'))
  .map((f) => readFileSync(join(FIXTURES, f)));

/** The tree's JSON without what the parser added after v1 (searchText: the last of two Content-Types). */
const v1Json = (root: unknown): string => JSON.stringify(root, (key, value: unknown) => (key === 'searchText' ? undefined : value));

function same(buf: Buffer): void {
  const now = parseStructure(buf);
  const before = parseStructureV1(buf);
  expect(v1Json(now)).toBe(JSON.stringify(before));
  expect(textsOf(now)).toEqual(textsOf(before));
}

describe('parseStructure fast paths = the parser before them', () => {
  it('on the fixtures, as stored and with CRLF line ends', () => {
    for (const f of fixtures) {
      same(f);
      same(Buffer.from(f.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1'));
    }
  });

  it("on messages shaped like bench:imap's corpus", () => {
    for (let i = 0; i < 300; i++) same(corpusMessage(7, i, 300, 'bench@bench.example').bytes);
  });

  it('on random and mutated messages', () => {
    fc.assert(
      fc.property(messageArb, (buf) => same(buf)),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('header blocks: every field as before, and a filter keeps exactly the fields it names', () => {
    fc.assert(
      fc.property(messageArb, fc.nat(), fc.nat(), (buf, cut, from) => {
        const end = buf.length === 0 ? 0 : cut % (buf.length + 1);
        const start = from % 3 === 0 ? 0 : from % (end + 1);
        const all = parseHeaderBlock(buf, start, end);
        expect(all).toEqual(parseHeaderBlockV1(buf, start, end));
        const some = parseHeaderBlock(buf, start, end, (name) => name.startsWith('content-') || name === 'from');
        expect(some).toEqual(all.filter((f) => f.hasColon && (f.name.toLowerCase().startsWith('content-') || f.name.toLowerCase() === 'from')));
      }),
      { seed: SEED, numRuns: 4000 },
    );
  });

  it('header fields read from a whole message text between any two offsets (the parser passes part headers so): as before', () => {
    fc.assert(
      fc.property(messageArb, fc.nat(), fc.nat(), (buf, cut, from) => {
        const end = buf.length === 0 ? 0 : cut % (buf.length + 1);
        const start = from % (end + 1);
        const s = buf.toString('latin1');
        const before = parseHeaderBlockV1(buf, start, end);
        expect(headerFields(s, start, end)).toEqual(before);
        expect(headerFields(s, start, end, undefined, 0, buf)).toEqual(before);
      }),
      { seed: SEED, numRuns: 4000 },
    );
  });
});
