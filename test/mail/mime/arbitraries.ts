/**
 * Messages MIME parsers trip on, for property tests (fast-check): random bytes, strings of tricky pieces,
 * and the fixtures with pieces spliced in.
 */
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const FIXTURES = join(import.meta.dirname, '../../fixtures/mime');
const fixtures = readdirSync(FIXTURES)
  .filter((x) => x.endsWith('.eml'))
  .map((f) => readFileSync(join(FIXTURES, f)));

/** Pieces MIME parsers trip on. */
const PIECES = [
  '\n', '\r\n', '\r', '--', '--b', '--b--', '--bb', '--c', '\n\n', ': ', ' ', '\t', '\0', '"', '\\', '(', ')', '<', '>', '@', ',', ';', '=?', '?=',
  'Content-Type: multipart/mixed; boundary=b\n', 'Content-Type: multipart/digest; boundary=c\n', 'Content-Type: message/rfc822\n',
  'Content-Type: text/plain\n', 'MIME-Version: 1.0\n', 'From: a <b@c>, g: x@y;\n', 'Subject: =?utf-8?q?x?=\n', "name*0*=utf-8''%41;", '\xff\xfe',
];

export const messageArb = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)),
  fc.array(fc.constantFrom(...PIECES), { maxLength: 200 }).map((a) => Buffer.from(a.join(''), 'latin1')),
  fc
    .tuple(fc.constantFrom(...fixtures), fc.array(fc.tuple(fc.nat(), fc.constantFrom(...PIECES), fc.nat({ max: 20 })), { maxLength: 12 }))
    .map(([base, edits]) => {
      let s = base.toString('latin1');
      for (const [at, piece, del] of edits) {
        const i = s.length === 0 ? 0 : at % s.length;
        s = s.slice(0, i) + piece + s.slice(i + del);
      }
      return Buffer.from(s, 'latin1');
    }),
);

