/**
 * Property tests (fast-check, fixed seed): the structure parser never throws, always returns a tree
 * whose offsets and sizes agree with the bytes, and stays linear on hostile input (hang guards only:
 * a quadratic parser would take minutes on these sizes).
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { bodyString, bodystructureString } from '../../../src/imap/fetch/bodystructure.js';
import { envelopeFields } from '../../../src/imap/fetch/envelope.js';
import { sectionBytes } from '../../../src/imap/fetch/section.js';
import { parseStructure } from '../../../src/mail/mime/parse-structure.js';
import { hangGuard } from '../../hang-guard.js';
import type { MimePart } from '../../../src/mail/mime/structure.js';
import { checkTree } from './invariants.js';
import { messageArb } from './arbitraries.js';

const SEED = 20261203;
describe('parseStructure properties', () => {
  it('never throws; the tree always matches the bytes; formatting never throws', () => {
    fc.assert(
      fc.property(messageArb, (buf) => {
        const root = parseStructure(buf);
        checkTree(buf, root);
        bodystructureString(root);
        bodyString(root);
        envelopeFields(root.envelope);
        sectionBytes(buf, root, { part: [1, 1], text: 'mime' }, { offset: 1, length: 10 });
        sectionBytes(buf, root, { part: [], text: 'header.fields', fields: ['From'] });
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it('stays linear on hostile input', () => {
    // 99 open boundaries, then 1 MiB of lines that start like every one of them
    let head = 'MIME-Version: 1.0\n';
    const bs: string[] = [];
    for (let i = 0; i < 99; i++) {
      const b = `${'x'.repeat(70)}${String(i).padStart(2, '0')}`;
      bs.push(b);
      head += `Content-Type: multipart/mixed; boundary="${b}"\n\n--${b}\n`;
    }
    const line = `--${'x'.repeat(70)}zz\n`;
    const hostile = [
      head + line.repeat(Math.floor((1 << 20) / line.length)),
      `Subject: ${'a'.repeat(1 << 20)}\n\nbody`,
      'Content-Type: multipart/mixed; boundary=a\n\n' + '--a\n'.repeat(200_000),
      'Content-Type: multipart/mixed; boundary=a\n\n' + '--a\nContent-Type: multipart/mixed; boundary=a\n\n'.repeat(20_000),
      'Content-Type: message/rfc822\n\n'.repeat(50_000),
      `From: ${'a, '.repeat(100_000)}\n\n`,
      `From: ${'('.repeat(100_000)}\n\n`,
      '\n'.repeat(1 << 20),
      '\r'.repeat(1 << 20),
    ];
    const bufs = hostile.map((h) => Buffer.from(h, 'latin1'));
    // parsing and formatting ~9 MiB of this takes about a second; a quadratic step would take hours
    const guard = hangGuard(2_000);
    const roots = bufs.map((buf) => {
      const root = parseStructure(buf);
      bodystructureString(root);
      return root;
    });
    guard();
    bufs.forEach((buf, i) => checkTree(buf, roots[i] as MimePart));
  }, 120_000);
});
