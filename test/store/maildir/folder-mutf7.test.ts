/** The private mUTF-7 codec for folder directory names: RFC 3501's examples, strictness, round trips. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFolderMutf7, encodeFolderMutf7 } from '../../../src/store/maildir/folder-mutf7.js';

describe('folder mUTF-7', () => {
  it('encodes and decodes RFC 3501 §5.1.3 examples', () => {
    expect(encodeFolderMutf7('~peter/mail/台北/日本語')).toBe('~peter/mail/&U,BTFw-/&ZeVnLIqe-');
    expect(decodeFolderMutf7('~peter/mail/&U,BTFw-/&ZeVnLIqe-')).toBe('~peter/mail/台北/日本語');
    expect(encodeFolderMutf7('Café')).toBe('Caf&AOk-');
    expect(encodeFolderMutf7('a&b')).toBe('a&-b');
    expect(decodeFolderMutf7('a&-b')).toBe('a&b');
    expect(encodeFolderMutf7('😀')).toBe('&2D3eAA-');
    expect(decodeFolderMutf7('&2D3eAA-')).toBe('😀');
    expect(encodeFolderMutf7('éé')).toBe('&AOkA6Q-');
  });

  it('refuses what a canonical encoder never writes', () => {
    for (const bad of ['&', '&AOk', '&AGE-', '&AOl-', '&AOk-&AOk-', 'é', 'a\u0001', '&2D0-', '&3gA-', '&!!-', '&A-']) {
      expect(() => decodeFolderMutf7(bad), bad).toThrow();
    }
    expect(() => encodeFolderMutf7('a\ud800b')).toThrow();
  });

  it('round-trips every Unicode string, and its output is printable ASCII', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        const enc = encodeFolderMutf7(s);
        expect(enc).toMatch(/^[\x20-\x7e]*$/);
        expect(decodeFolderMutf7(enc)).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes only to strings it would encode the same way (one spelling per name)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('&', '-', 'A', 'O', 'k', '6', 'Q', ',', '+', 'a', '2', 'D', '3', 'e') }), (s) => {
        let decoded: string;
        try {
          decoded = decodeFolderMutf7(s);
        } catch {
          return;
        }
        expect(encodeFolderMutf7(decoded)).toBe(s);
      }),
      { numRuns: 5000 },
    );
  });
});
