/** Account address normal form and the Maildir path built from it, with fast-check properties. */
import { sep } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { normaliseAddress, parseAccountAddress } from '../../../src/store/accounts/address.js';
import { maildirPath } from '../../../src/store/accounts/maildir-path.js';

const ROOT = '/var/lib/mailgate';
const localChar = fc.constantFrom(...'abcxyzABCXYZ0189+-_=~.#$&\'*?^`{|}/%!@\\ "\0\n\u00e9\u4e2d'.split(''));
const anyAddress = fc.tuple(fc.array(localChar, { maxLength: 12 }), fc.constantFrom('example.org', 'EXAMPLE.org', 'x', '', 'a..b', '-a.b', 'a/b', 'ex ample.org', '[192.0.2.1]')).map(([l, d]) => `${l.join('')}@${d}`);

describe('normaliseAddress', () => {
  test.each([
    ['Alice@Example.ORG', 'alice@example.org'],
    ['first.last+tag@example.org', 'first.last+tag@example.org'],
    ['j\u00f6rg@example.org', 'j\u00f6rg@example.org'],
  ])('%s → %s', (text, normal) => {
    expect(normaliseAddress(text)).toBe(normal);
  });

  test.each(['alice', '@example.org', 'alice@', '.alice@example.org', 'alice.@example.org', 'a..b@example.org', '../x@example.org', 'a/b@example.org',
    'a\\b@example.org', 'user%other.example@example.org', 'other.example!user@example.org', '"a b"@example.org', 'a@b@example.org', 'alice@example.org.', 'alice@[192.0.2.1]',
    'alice@-example.org', 'a\0b@example.org', ' alice@example.org', `${'a'.repeat(65)}@example.org`])('refused: %j', (text) => {
    expect(normaliseAddress(text)).toBeUndefined();
    expect(typeof parseAccountAddress(text)).toBe('string');
  });

  test('property: idempotent, case-insensitive, and never a path component that escapes', () => {
    fc.assert(
      fc.property(anyAddress, (text) => {
        const n = normaliseAddress(text);
        if (n === undefined) {
          expect(() => maildirPath(ROOT, text)).toThrow();
          return;
        }
        expect(normaliseAddress(n)).toBe(n);
        expect(normaliseAddress(text.toUpperCase())).toBe(normaliseAddress(text.toLowerCase()));
        expect(n).toBe(n.toLowerCase());
        expect(n).not.toMatch(/[/\\\0%!\s"]/);
        const dir = maildirPath(ROOT, text);
        expect(dir.startsWith(`${ROOT}/mail/`)).toBe(true);
        expect(dir.split(sep).slice(5)).toHaveLength(2);
        expect(dir.split(sep)).not.toContain('..');
      }),
      { numRuns: 5000 },
    );
  });
});

describe('maildirPath', () => {
  test('<data_dir>/mail/<domain>/<localpart>, lower-cased', () => {
    expect(maildirPath(ROOT, 'Alice@Example.ORG')).toBe('/var/lib/mailgate/mail/example.org/alice');
  });
  test.each(['../../etc@example.org', 'alice@../../etc', '..@example.org', 'a/../../b@example.org', 'alice@example.org\0'])('refused: %j', (user) => {
    expect(() => maildirPath(ROOT, user)).toThrow(/no Maildir/);
  });
});
