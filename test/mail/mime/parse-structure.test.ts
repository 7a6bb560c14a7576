/**
 * The structure parser on hand-made messages: the tree, offsets and sizes Dovecot would give (the
 * differential test checks the same against a real Dovecot), JSON round trips, limits.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bodystructureString } from '../../../src/imap/fetch/bodystructure.js';
import { parseStructure } from '../../../src/mail/mime/parse-structure.js';
import type { MimePart } from '../../../src/mail/mime/structure.js';
import { checkTree } from './invariants.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/mime');
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, name));

describe('parseStructure', () => {
  it('keeps every invariant on every fixture, LF and CRLF', () => {
    for (const f of readdirSync(FIXTURES).filter((x) => x.endsWith('.eml'))) {
      const lf = fixture(f);
      checkTree(lf, parseStructure(lf));
      const crlf = Buffer.from(lf.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
      checkTree(crlf, parseStructure(crlf));
    }
  });

  it('gives the CRLF before a boundary to the boundary', () => {
    const msg = Buffer.from('Content-Type: multipart/mixed; boundary=b\n\n--b\n\nab\n--b--\n');
    const root = parseStructure(msg);
    const part = root.children[0] as MimePart;
    expect(msg.toString('latin1', part.bodyStart, part.end)).toBe('ab');
    expect(part.body).toEqual({ physical: 2, virtual: 2, lines: 0 });
    expect(part.kind).toBe('text');
  });

  it('nests message/rfc822 with its own envelope', () => {
    const root = parseStructure(fixture('nested-rfc822.eml'));
    expect(root.kind).toBe('multipart');
    const fwd = root.children[1] as MimePart;
    expect(fwd.kind).toBe('message');
    const inner = fwd.children[0] as MimePart;
    expect(inner.envelope?.subject).toBe('First level');
    const second = (inner.children[1] as MimePart).children[0] as MimePart;
    expect(second.envelope?.subject).toBe('Second level');
    expect(second.envelope?.sender?.[0]?.host).toBe('example.com');
  });

  it('defaults parts of multipart/digest to message/rfc822', () => {
    const root = parseStructure(fixture('digest.eml'));
    expect(root.children.map((c) => c.kind)).toEqual(['message', 'text', 'message']);
  });

  it('forgets Content-* fields without MIME-Version or Content-Type', () => {
    const root = parseStructure(fixture('not-mime.eml'));
    expect(root.encoding).toBeNull();
    expect(root.description).toBeNull();
    expect(root.kind).toBe('text');
  });

  it('an outer boundary closes inner parts', () => {
    const root = parseStructure(fixture('boundary-prefix.eml'));
    // the stray '--abcdef' after the inner part closed is a prefix match of 'abc': one more part
    expect(root.children.map((c) => c.kind)).toEqual(['text', 'multipart', 'text', 'text']);
    expect(root.children[1]?.children).toHaveLength(1);
  });

  it('serialises to JSON and back without losing anything (the store caches it)', () => {
    for (const f of ['nested-rfc822.eml', 'headers-8bit.eml', 'headers-utf8.eml', 'nul-in-header.eml', 'groups.eml', 'rfc2231.eml']) {
      const root = parseStructure(fixture(f));
      const back = JSON.parse(JSON.stringify(root)) as MimePart;
      expect(back).toEqual(root);
      expect(bodystructureString(back)).toBe(bodystructureString(root));
    }
  });

  it('stops nesting at the limit and keeps the rest opaque', () => {
    const depth = 130;
    let msg = 'Content-Type: multipart/mixed; boundary=b0\n\n';
    for (let i = 1; i < depth; i++) msg += `--b${i - 1}\nContent-Type: multipart/mixed; boundary=b${i}\n\n`;
    const buf = Buffer.from(msg);
    const root = parseStructure(buf);
    checkTree(buf, root);
    let d = 0;
    for (let p: MimePart | undefined = root; p !== undefined; p = p.children[0]) d++;
    expect(d).toBe(100);
  });

  it('parses an empty message and a one-byte message', () => {
    for (const s of ['', 'x', '\n', '\r', '--']) {
      const buf = Buffer.from(s);
      const root = parseStructure(buf);
      checkTree(buf, root);
      expect(root.kind).toBe('text');
    }
  });
});
