/**
 * BODY[section]<partial>: the section-spec syntax, Dovecot's part walk, HEADER/TEXT/MIME of parts and
 * embedded messages, missing parts as empty strings, partial offsets in CRLF octets.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPart, locateSection, parseSectionSpec, sectionBytes, type SectionSpec } from '../../../src/imap/fetch/section.js';
import { parseStructure } from '../../../src/mail/mime/parse-structure.js';

const nested = readFileSync(join(import.meta.dirname, '../../fixtures/mime/nested-rfc822.eml'));
const root = parseStructure(nested);
const spec = (s: string): SectionSpec => {
  const r = parseSectionSpec(s);
  if (r === null) throw new Error(`bad ${s}`);
  return r;
};
const text = (s: string, partial?: { offset: number; length: number }): string => sectionBytes(nested, root, spec(s), partial).toString('latin1');

describe('section specs', () => {
  it('parses RFC 3501 section-specs and refuses others', () => {
    expect(parseSectionSpec('')).toEqual({ part: [], text: 'full' });
    expect(parseSectionSpec('1.2.3')).toEqual({ part: [1, 2, 3], text: 'full' });
    expect(parseSectionSpec('2.header.fields.not (From "To")')).toEqual({ part: [2], text: 'header.fields.not', fields: ['From', 'To'] });
    expect(parseSectionSpec('1.MIME')).toEqual({ part: [1], text: 'mime' });
    for (const bad of ['MIME', '0', '1.', '.1', '1..2', 'BODY', 'HEADER.FIELDS', 'HEADER.FIELDS ()', '01']) expect(parseSectionSpec(bad), bad).toBeNull();
  });

  it('walks parts as Dovecot does', () => {
    expect(findPart(root, [1])?.kind).toBe('text');
    expect(findPart(root, [2])?.kind).toBe('message');
    // inside a message/rfc822 the numbers address the embedded message's parts
    expect(findPart(root, [2, 1])?.kind).toBe('text');
    expect(findPart(root, [2, 2, 1])?.kind).toBe('text');
    // a non-multipart has one part, itself: 1.1 is 1 again, 1.2 and 1.1.1 are nothing
    expect(findPart(root, [1, 1])).toBe(findPart(root, [1]));
    expect(findPart(root, [1, 2])).toBeNull();
    expect(findPart(root, [1, 1, 1])).toBeNull();
    expect(findPart(root, [9])).toBeNull();
    const plain = parseStructure(Buffer.from('Subject: x\n\nbody\n'));
    expect(findPart(plain, [1])).toBe(plain);
    expect(findPart(plain, [2])).toBeNull();
  });
});

describe('section bytes', () => {
  it('gives the parts of a message CRLF', () => {
    expect(text('1')).toBe('See the forwarded message below.\r\n');
    expect(text('1.MIME')).toBe('Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n');
    expect(text('2.HEADER')).toMatch(/^From: Middle <middle@example.com>\r\n.*\r\n\r\n$/s);
    expect(text('2.2.1')).toBe('Innermost body\r\nwith two lines.\r\n');
    expect(text('2.2.HEADER.FIELDS (subject)')).toBe('Subject: Second level\r\n\r\n');
  });

  it('HEADER and TEXT of a part that is not message/rfc822 are empty; so is a missing part', () => {
    expect(text('1.HEADER')).toBe('');
    expect(text('1.TEXT')).toBe('');
    expect(text('7')).toBe('');
    expect(text('7.MIME')).toBe('');
    expect(locateSection(root, spec('3.1.1'))).toEqual({ kind: 'empty' });
  });

  it('counts partial offsets in CRLF octets', () => {
    const full = text('');
    expect(full.length).toBe(root.header.virtual + root.body.virtual);
    expect(text('', { offset: 10, length: 20 })).toBe(full.slice(10, 30));
    const nl = full.indexOf('\r\n');
    expect(text('', { offset: nl + 1, length: 3 })).toBe(full.slice(nl + 1, nl + 4));
    expect(text('', { offset: full.length, length: 5 })).toBe('');
    expect(text('1', { offset: 4, length: 1000 })).toBe('the forwarded message below.\r\n');
  });

  it('HEADER.FIELDS.NOT keeps the other fields, folded lines included', () => {
    const msg = Buffer.from('A: 1\nB: 2\n 3\nC: 4\n\nbody');
    const r = parseStructure(msg);
    expect(sectionBytes(msg, r, spec('HEADER.FIELDS.NOT (a c)')).toString()).toBe('B: 2\r\n 3\r\n\r\n');
    expect(sectionBytes(msg, r, spec('HEADER.FIELDS (B)'), { offset: 3, length: 4 }).toString()).toBe('2\r\n ');
  });

  it('sends NUL as 0x80', () => {
    const msg = Buffer.from('S: x\n\na\0b\n');
    expect([...sectionBytes(msg, parseStructure(msg), spec('TEXT'))]).toEqual([0x61, 0x80, 0x62, 0x0d, 0x0a]);
  });
});
