/**
 * list-match against an oracle: the dynamic-programming matcher agrees with a straightforward regular
 * expression ('*' → '.*', '%' → '[^/]*', everything else literal) on random names and patterns over a
 * small alphabet that makes matches likely; and it answers fast even for wildcard-heavy patterns.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern } from '../../../src/imap/list-match.js';

const SEED = 11_2026;
const nameChar = fc.constantFrom('a', 'b', '/', 'é', '.');
const patternChar = fc.constantFrom('a', 'b', '/', 'é', '.', '*', '%');

function oracle(pattern: string, name: string): boolean {
  const source = Array.from(pattern)
    .map((ch) => (ch === '*' ? '.*' : ch === '%' ? '[^/]*' : ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'su').test(name);
}

describe('list-match properties', () => {
  it('agrees with the regular-expression oracle', () => {
    fc.assert(
      fc.property(fc.string({ unit: patternChar, maxLength: 8 }), fc.string({ unit: nameChar, maxLength: 10 }), (pattern, name) => {
        expect(compilePattern('', pattern).matches(name)).toBe(oracle(pattern, name));
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it('reference + pattern is the concatenation unless the pattern is absolute', () => {
    fc.assert(
      fc.property(fc.string({ unit: nameChar, maxLength: 5 }), fc.string({ unit: patternChar, maxLength: 5 }), fc.string({ unit: nameChar, maxLength: 8 }), (ref, pattern, name) => {
        const joined = pattern.startsWith('/') ? pattern : ref + pattern;
        expect(compilePattern(ref, pattern).matches(name)).toBe(compilePattern('', joined).matches(name));
      }),
      { seed: SEED + 1, numRuns: 2000 },
    );
  });
});
