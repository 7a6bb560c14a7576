/** Dovecot quota_rule values and sizes (quota-rule.ts): examples with Dovecot's units, and fast-check properties. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseQuotaRule, parseSize, quotaOfExtraFields } from '../../../src/store/accounts/quota-rule.js';

const G = 1024 ** 3;

describe('parseSize', () => {
  test.each([
    ['0', 0],
    ['1000', 1000],
    ['1k', 1024],
    ['500M', 500 * 1024 ** 2],
    ['2g', 2 * G],
    ['1T', 1024 ** 4],
    ['7b', 7],
    [' 3M ', 3 * 1024 ** 2],
    ['1GB', G],
    ['100mb', 100 * 1024 ** 2],
  ])('%j is %d bytes', (text, bytes) => expect(parseSize(text)).toBe(bytes));

  test.each(['', '-1', '1.5G', '1GBB', '1bb', 'G', '10%', '+100M', '1 G', '99999999999999999T'])('%j is no size', (text) => expect(parseSize(text)).toBeUndefined());

  test('digits alone count in the unit given (Dovecot: storage= in kilobytes)', () => expect(parseSize('1048576', 1024)).toBe(G));

  test('property: never throws; a formatted size reads back', () => {
    fc.assert(fc.property(fc.string(), (s) => void parseSize(s)));
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 22 }), fc.constantFrom('', 'b', 'k', 'M', 'G'), (n, unit) => {
        expect(parseSize(`${n}${unit}`)).toBe(n * ({ '': 1, b: 1, k: 1024, M: 1024 ** 2, G: G } as Record<string, number>)[unit]!);
      }),
    );
  });
});

describe('parseQuotaRule', () => {
  test.each([
    ['*:storage=1G', { bytes: G }],
    ['*:storage=1048576', { bytes: G }],
    ['*:bytes=5000', { bytes: 5000 }],
    ['*:messages=1000', { messages: 1000 }],
    ['*:storage=100M:messages=50', { bytes: 100 * 1024 ** 2, messages: 50 }],
    ['*:storage=0', { bytes: 0 }],
    ['*:ignore:storage=1k', { bytes: 1024 }],
    ['*:storage=100MB:messages=10k', { bytes: 100 * 1024 ** 2, messages: 10240 }],
    ['?:storage=1G', { bytes: G }],
  ])('%j', (value, quota) => expect(parseQuotaRule(value)).toEqual(quota));

  test.each(['Trash:storage=+100M', '*:storage=10%', '*:storage=+1G', '*', '*:storage=', 'INBOX:messages=5', '*:foo=1'])('%j is refused with a reason', (value) => {
    expect(typeof parseQuotaRule(value)).toBe('string');
  });

  test('property: never throws', () => fc.assert(fc.property(fc.string(), (s) => void parseQuotaRule(s)), { numRuns: 5000 }));
});

describe('quotaOfExtraFields', () => {
  test('quota_rule or userdb_quota_rule, the last one winning; other fields and rules ignored', () => {
    // a limit the rule leaves out is none (the userdb's rule replaces Dovecot's configured one)
    expect(quotaOfExtraFields('userdb_quota_rule=*:storage=1G')).toEqual({ bytes: G, messages: 0 });
    expect(quotaOfExtraFields('uid=5 quota_rule=*:messages=9 quota_rule2=Trash:storage=+100M')).toEqual({ bytes: 0, messages: 9 });
    expect(quotaOfExtraFields('quota_rule=*:storage=1G userdb_quota_rule=*:storage=2G')).toEqual({ bytes: 2 * G, messages: 0 });
    expect(quotaOfExtraFields('home=/x nopassword')).toBeUndefined();
    expect(typeof quotaOfExtraFields('quota_rule=*:storage=10%')).toBe('string');
  });

  test('property: never throws', () => fc.assert(fc.property(fc.string(), (s) => void quotaOfExtraFields(s)), { numRuns: 5000 }));
});
