/**
 * Checks every MimePart invariant the formatters and the section code rely on, for tests: offsets
 * nested and in order, sizes equal to what the stored bytes give (CRLF size, LF count), kinds and
 * children consistent.
 */
import { expect } from 'vitest';
import { crlfSize } from '../../../src/mail/mime/line-ends.js';
import type { MimePart } from '../../../src/mail/mime/structure.js';

function lfCount(buf: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = buf.indexOf(10, start); i >= 0 && i < end; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

function check(ok: boolean, what: string, p: MimePart): void {
  if (!ok) throw new Error(`${what} (part at ${p.headerStart}: ${JSON.stringify({ ...p, children: p.children.length, envelope: undefined })})`);
}

/** Throws when the tree disagrees with the bytes (plain checks: it runs on trees of 200,000 parts). */
export function checkTree(buf: Buffer, root: MimePart): void {
  expect(root.headerStart).toBe(0);
  expect(root.end).toBe(buf.length);
  expect(root.envelope).not.toBeNull();
  const walk = (p: MimePart, from: number, to: number): void => {
    check(p.headerStart >= from, 'starts before its parent or its previous sibling', p);
    check(p.bodyStart === p.headerStart + p.header.physical, 'bodyStart', p);
    check(p.end === p.bodyStart + p.body.physical, 'end', p);
    check(p.end <= to, 'ends after its parent', p);
    check(p.header.virtual === crlfSize(buf, p.headerStart, p.bodyStart), 'header CRLF size', p);
    check(p.body.virtual === crlfSize(buf, p.bodyStart, p.end), 'body CRLF size', p);
    check(p.header.lines === lfCount(buf, p.headerStart, p.bodyStart), 'header lines', p);
    check(p.body.lines === lfCount(buf, p.bodyStart, p.end), 'body lines', p);
    if (p.kind === 'message') check(p.children.length === 1 && p.children[0]?.envelope != null, 'message/rfc822 child', p);
    if (p.kind !== 'message' && p.kind !== 'multipart') check(p.children.length === 0, 'leaf with children', p);
    let at = p.bodyStart;
    for (const c of p.children) {
      walk(c, at, p.end);
      at = c.end;
    }
  };
  walk(root, 0, buf.length);
}
