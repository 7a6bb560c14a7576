/** Dovecot's listescape escaping of one folder level: the cases seen from Dovecot 2.3, and round trips. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeListComponent, unescapeListComponent } from '../../../src/store/maildir/listescape.js';

describe('listescape', () => {
  it('escapes as Dovecot does', () => {
    expect(escapeListComponent('Archive.2024')).toBe('Archive\\2e2024');
    expect(escapeListComponent('back\\slash')).toBe('back\\5cslash');
    expect(escapeListComponent('~root')).toBe('\\7eroot');
    expect(escapeListComponent('a~b')).toBe('a~b');
    expect(escapeListComponent('.hidden')).toBe('\\2ehidden');
    expect(escapeListComponent('..')).toBe('\\2e\\2e');
    expect(escapeListComponent('a/b')).toBe('a\\2fb');
    expect(escapeListComponent('\\2e')).toBe('\\5c2e');
  });

  it('unescapes only canonical escapes', () => {
    expect(unescapeListComponent('\\7eroot')).toBe('~root');
    expect(unescapeListComponent('x\\5cy')).toBe('x\\y');
    for (const bad of ['\\', '\\2', '\\zz', '\\2E', '\\41', 'a\\7e', '\\5c\\7e']) expect(() => unescapeListComponent(bad), bad).toThrow();
  });

  it('round-trips any printable ASCII level; the result never holds "." or "/" nor starts with "~"', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'.~/\\ab2e7c&-'.split('')), minLength: 1 }), (s) => {
        const esc = escapeListComponent(s);
        expect(esc).not.toMatch(/[./]/);
        expect(esc.startsWith('~')).toBe(false);
        expect(unescapeListComponent(esc)).toBe(s);
      }),
      { numRuns: 3000 },
    );
  });
});
