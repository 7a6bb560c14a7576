/**
 * The header scans are bounded by the header: parsing a message, or reading each part's header as SEARCH
 * TEXT does, looks at each byte a few times, however many parts there are. Counted, not timed: every
 * String and Buffer indexOf is made to add up the characters it went over. A search that runs to the end
 * of the message once per part (a NUL no header has; a blank line searched past the header's end) counts
 * parts × message size and fails by orders of magnitude.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { headerFields, parseHeaderBlock } from '../../../src/mail/mime/header-block.js';
import { parseStructure } from '../../../src/mail/mime/parse-structure.js';
import type { MimePart } from '../../../src/mail/mime/structure.js';

const stringIndexOf = String.prototype.indexOf;
const bufferIndexOf = Buffer.prototype.indexOf;
let scanned = 0;

/** Characters (bytes) `search` went over in `within` from `from`: up to the end of the match, or to the end. */
function went(within: number, at: number, from: number | undefined, length: number): number {
  return (at < 0 ? within : at + length) - Math.max(0, from ?? 0);
}

function counting<T>(run: () => T): T {
  scanned = 0;
  vi.spyOn(String.prototype, 'indexOf').mockImplementation(function (this: string, search: string, from?: number) {
    const at = stringIndexOf.call(this, search, from);
    scanned += went(this.length, at, from, search.length);
    return at;
  });
  vi.spyOn(Buffer.prototype, 'indexOf').mockImplementation(function (this: Buffer, ...args: unknown[]) {
    const [search, from] = args as [string | number | Uint8Array, unknown];
    const at = (bufferIndexOf as (this: Buffer, ...a: unknown[]) => number).apply(this, args);
    scanned += went(this.length, at, typeof from === 'number' ? from : 0, typeof search === 'number' ? 1 : Buffer.byteLength(search));
    return at;
  });
  try {
    return run();
  } finally {
    vi.restoreAllMocks();
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

/** `parts` small parts (headers with ':' but no NUL), then a part with a body of `tail` bytes without ':' or NUL. */
function manyParts(parts: number, tail: number, eol = '\n'): Buffer {
  const line = `tail line without a colon ${'x'.repeat(40)}${eol}`;
  let text = `From: a@example.org${eol}Content-Type: multipart/mixed; boundary="b"${eol}${eol}`;
  for (let i = 0; i < parts; i++) text += `--b${eol}Content-Type: text/plain${eol}X-Part: ${i}${eol}${eol}part ${i}${eol}`;
  text += `--b${eol}Content-Type: text/plain${eol}${eol}${line.repeat(Math.ceil(tail / line.length))}--b--${eol}`;
  return Buffer.from(text, 'latin1');
}

function allParts(root: MimePart): MimePart[] {
  const out: MimePart[] = [root];
  for (const child of root.children) out.push(...allParts(child));
  return out;
}

describe('header scans stay within the header', () => {
  for (const eol of ['\n', '\r\n']) {
    const name = eol === '\n' ? 'LF' : 'CRLF';
    it(`parseStructure of 3,000 parts and a 2 MB tail goes over each byte a few times (${name})`, () => {
      const buf = manyParts(3000, 2 << 20, eol);
      const root = counting(() => parseStructure(buf));
      expect(root.children.length).toBe(3001);
      expect(scanned).toBeLessThan(4 * buf.length);
    });

    it(`each part's header read as SEARCH TEXT does (parseHeaderBlock) costs its header, not the message (${name})`, () => {
      const buf = manyParts(3000, 2 << 20, eol);
      const parts = allParts(parseStructure(buf));
      const headers = parts.reduce((n, p) => n + (p.bodyStart - p.headerStart), 0);
      const fields = counting(() => parts.map((p) => parseHeaderBlock(buf, p.headerStart, p.bodyStart)));
      expect(fields.slice(1, -1).every((f) => f.length === 2 && f[1]!.name === 'X-Part')).toBe(true);
      // each header is gone over once per search: both kinds of blank line, LF, ':' and NUL
      expect(scanned).toBeLessThan(8 * headers);
    });
  }

  it('headerFields over a whole message text searches only between start and end', () => {
    const buf = manyParts(10, 1 << 20);
    const s = buf.toString('latin1');
    const start = s.indexOf('--b\n') + 4;
    const end = s.indexOf('\n\n', start) + 2;
    const fields = counting(() => headerFields(s, start, end - 1));
    expect(fields.map((f) => f.name)).toEqual(['Content-Type', 'X-Part']);
    expect(scanned).toBeLessThan(4 * (end - start));
  });
});
