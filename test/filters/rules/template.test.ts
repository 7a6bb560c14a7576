/** `$1` templates: parsing (config), expansion (filter), and agreement with String.prototype.replace. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { captureGroups, parseTemplate, type CaptureGroups, type Template } from '../../../src/config/builtins/rules.js';
import { expandTemplate, oneLineText } from '../../../src/filters/rules/template.js';

const parse = (text: string, groups: CaptureGroups): Template => {
  const t = parseTemplate(text, groups);
  if (typeof t === 'string') throw new Error(t);
  return t;
};

describe('parseTemplate', () => {
  const groups = captureGroups(/(a)(b)(?<name>c)(d)(e)(f)(g)(h)(i)(j)(k)/);

  it('reads $0, $&, $1..$99, $<name> and $$', () => {
    expect(groups).toEqual({ count: 11, names: ['name'] });
    expect(parse('x $0 $& $1-$11 $<name> $$1 $', groups)).toEqual([
      'x ', { group: 0 }, ' ', { group: 0 }, ' ', { group: 1 }, '-', { group: 11 }, ' ', { name: 'name' }, ' $1 $',
    ]);
  });

  it('takes two digits only when that group exists, like String.prototype.replace', () => {
    expect(parse('$12', groups)).toEqual([{ group: 1 }, '2']);
    expect(parse('$10', groups)).toEqual([{ group: 10 }]);
  });

  it('leaves other dollars literal and rejects groups the pattern lacks', () => {
    expect(parse('cost $x and $<unclosed', groups)).toEqual(['cost $x and $<unclosed']);
    expect(parseTemplate('$1', { count: 0, names: [] })).toBe('$1: the pattern has no capture groups');
    expect(parseTemplate('$<n>', { count: 1, names: [] })).toBe('$<n>: the pattern has no group named "n"');
  });

  it('text without a dollar is one literal part', () => {
    fc.assert(
      fc.property(fc.string().filter((s) => !s.includes('$')), (s) => {
        expect(parse(s, { count: 0, names: [] })).toEqual(s === '' ? [] : [s]);
      }),
    );
  });

  it('never throws, and what it accepts expands exactly as String.prototype.replace does', () => {
    const pieces = fc.constantFrom('$', '$$', '$&', '$0', '$1', '$2', '$3', '$12', '$<n>', '$<m>', '<', '>', 'a', '1', ' ', 'é');
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 12 }).map((p) => p.join('')), fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), (template, a, b) => {
        const re = /(?<n>x+)(y*)(z)?/;
        const parsed = parseTemplate(template, captureGroups(re));
        const text = `${a}xxy${b}`;
        const match = re.exec(text);
        if (match === null) throw new Error('the pattern must match');
        if (typeof parsed === 'string') {
          // Only references to groups the pattern does not have are refused ($0 is the whole match here).
          expect(parsed).toMatch(/^\$(\d+|<.*>): the pattern has/);
          return;
        }
        // replace() reads $0 literally; the template reads it as the whole match, like $& (but $01..$03
        // are groups 1..3 in both).
        const replaceTemplate = template.replace(/\$\$|\$0(?![1-3])/g, (s) => (s === '$0' ? '$&' : s));
        const expected = match[0].replace(re, replaceTemplate);
        expect(expandTemplate(parsed, match)).toBe(expected);
      }),
    );
  });
});

describe('expandTemplate', () => {
  it('fills groups; a group that did not take part is empty', () => {
    const re = /(?<user>\w+)@(\w+)(\.org)?/;
    const match = re.exec('mail from bob@example') as RegExpExecArray;
    expect(expandTemplate(parse('$<user> at $2$3 ($0)', captureGroups(re)), match)).toBe('bob at example (bob@example)');
  });

  it('oneLineText flattens control characters and cuts long text', () => {
    expect(oneLineText('a\r\n b\tc', 100)).toBe('a b c');
    expect(oneLineText('x'.repeat(20), 10)).toBe('xxxxxxx...');
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 4, max: 50 }), (s, max) => {
        const out = oneLineText(s, max);
        expect(out.length).toBeLessThanOrEqual(max);
        // eslint-disable-next-line no-control-regex
        expect(out).not.toMatch(/[\u0000-\u001f\u007f]/);
      }),
    );
  });
});
