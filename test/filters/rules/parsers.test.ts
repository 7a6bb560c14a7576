/** Property tests for the small parsers of the rules options: patterns, replies, and the matcher's time limit. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { captureGroups, parsePatternText, parseReply } from '../../../src/config/builtins/rules.js';
import { Matcher } from '../../../src/filters/rules/matcher.js';
import { positionFinder } from '../../../src/cli/regex.js';

describe('parsePatternText', () => {
  it('never throws; /source/flags and source + flags give the same RegExp', () => {
    const flags = fc.subarray(['i', 'm', 's', 'u']).map((f) => f.join(''));
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), flags, (source, f) => {
        // A bare pattern written like "/…/flags" is read as that form (e.g. "//"), not as a source.
        fc.pre(!/^\/.*\/[A-Za-z]*$/s.test(source));
        const slash = parsePatternText(`/${source}/${f}`, undefined);
        const bare = parsePatternText(source, f);
        if (source === '') {
          expect(typeof slash).toBe('string');
          return;
        }
        if (typeof bare === 'string') {
          expect(typeof slash).toBe('string');
          return;
        }
        expect(slash).toEqual(bare);
      }),
    );
  });

  it('counts numbered and named groups', () => {
    expect(captureGroups(/a/)).toEqual({ count: 0, names: [] });
    expect(captureGroups(/(a)(?:b)(?<c>c)|(d)/)).toEqual({ count: 3, names: ['c'] });
  });
});

describe('parseReply', () => {
  it('reads back any code / enhanced code / one-line text it is given', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('reject' as const, 'tempfail' as const),
        fc.integer({ min: 0, max: 99 }),
        fc.tuple(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 999 })),
        fc.string({ maxLength: 30 }).filter((s) => !/[\r\n$]/.test(s) && s.trim() === s),
        (kind, code, [a, b], text) => {
          const klass = kind === 'reject' ? 5 : 4;
          const reply = parseReply(`${klass}${String(code).padStart(2, '0')} ${klass}.${a}.${b} ${text}`, kind, { count: 0, names: [] });
          expect(reply).toEqual({ code: klass * 100 + code, enhancedCode: `${klass}.${a}.${b}`, text: text === '' ? [] : [text] });
        },
      ),
    );
  });

  it('never throws on any text', () => {
    fc.assert(fc.property(fc.string(), (text) => void parseReply(text, 'reject', { count: 1, names: [] })));
  });
});

describe('positionFinder', () => {
  it('line and column agree with counting newlines before the offset', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '\n', 'é', '\r') }), fc.nat(), (text, n) => {
        const offset = text.length === 0 ? 0 : n % text.length;
        const before = text.slice(0, offset);
        const lines = before.split('\n');
        expect(positionFinder(text)(offset)).toEqual({ line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 });
      }),
    );
  });
});

describe('Matcher', () => {
  it('gives the first match of each job, in order', () => {
    const m = new Matcher(1000, () => {
      throw new Error('no failure expected');
    });
    const results = m.run([
      { pattern: /b+/g, text: 'abbc' },
      { pattern: /z/, text: 'abc' },
    ]);
    expect(results.map((r) => r?.[0] ?? null)).toEqual(['bb', null]);
  });

  it('stops a runaway pattern, reports it once, and runs the jobs after it', () => {
    const failures: string[] = [];
    const m = new Matcher(30, (job, reason) => failures.push(`${job.label}: ${reason}`));
    const results = m.run([
      { pattern: /^(a+)+$/, text: `${'a'.repeat(40)}!`, label: 'slow' },
      { pattern: /!/, text: 'ok!', label: 'fast' },
    ]);
    expect(results[0]).toBeNull();
    expect(results[1]?.[0]).toBe('!');
    expect(failures).toEqual(['slow: ran longer than 30 ms']);
  });
});
