/**
 * Stored passwords: new ones are {SCRYPT}; hashes made by Dovecot's `doveadm pw` for every imported
 * scheme verify with the right password and fail with a wrong one; malformed values fail, never throw.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { hashPassword, normaliseStoredPassword, schemeOf, verifyPassword } from '../../../src/store/accounts/password.js';

/** `doveadm pw -s SCHEME -p 'correct horse'` (Dovecot 2.3). */
const DOVEADM: readonly string[] = [
  '{SHA512-CRYPT}$6$JjeEITPybGbyQxDp$XhDWg34lR5GaVAhuyminwh2AjwSfCSsTAKfEvchrFsbKEJZBic4osLNIksG7p0EnYkRCdoYUPYSaBjORGc5aK0',
  '{BLF-CRYPT}$2y$05$RXBkfPkyXg41pP9aLZcAeeESlmN5/ca5FxXT4F2dBkZDsfd0Tz/Fa',
  '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$FPDbU4jNR0k7yM6C3rLKBw$U0bDkzdoErLlQ8gDfuN5XaXWH50pQF6lTIwcx6DrI7w',
  '{SSHA512}+KowkSer7mPEfpugcfn5Mgnw/e7Ivh+R26PpnZVt/l+WSu2TFipTfiRvVgwtQ2wm9RU9WhvpfIKb/GnC/jXLGUaYd3I=',
  '{SHA512}VraY3v7bWkNbY0r+MyC7rz/c2SC2xQOkRvx7endrKY1HnRumqLYXgI6wv1ec6aldZoNHvKtxSQhayTyyeZUZew==',
  '{PLAIN}correct horse',
];

describe('imported Dovecot hashes', () => {
  test.each(DOVEADM)('%s', async (stored) => {
    const n = normaliseStoredPassword(stored);
    if (typeof n === 'string') throw new Error(n);
    expect(n.stored).toBe(stored);
    expect(await verifyPassword('correct horse', stored)).toBe(true);
    expect(await verifyPassword('correct horsE', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  }, 20_000);

  test('a bare crypt string gets its scheme; {CRYPT} and lower-case scheme names too', () => {
    const sha = '$6$JjeEITPybGbyQxDp$XhDWg34lR5GaVAhuyminwh2AjwSfCSsTAKfEvchrFsbKEJZBic4osLNIksG7p0EnYkRCdoYUPYSaBjORGc5aK0';
    expect(normaliseStoredPassword(sha)).toEqual({ stored: `{SHA512-CRYPT}${sha}`, scheme: 'SHA512-CRYPT' });
    expect(normaliseStoredPassword(`{CRYPT}${sha}`)).toEqual({ stored: `{SHA512-CRYPT}${sha}`, scheme: 'SHA512-CRYPT' });
    expect(normaliseStoredPassword('{blf-crypt}$2y$05$RXBkfPkyXg41pP9aLZcAeeESlmN5/ca5FxXT4F2dBkZDsfd0Tz/Fa')).toMatchObject({ scheme: 'BLF-CRYPT' });
    expect(normaliseStoredPassword('{CLEARTEXT}x')).toEqual({ stored: '{PLAIN}x', scheme: 'PLAIN' });
  });

  test.each([
    ['{MD5-CRYPT}$1$abc$def', /not supported/],
    ['$1$abc$defghijklmnopqrstuvw', /no \{SCHEME\} prefix/],
    ['{SHA512-CRYPT}$6$abc$short', /not a SHA512-CRYPT hash/],
    ['{BLF-CRYPT}$2y$31$RXBkfPkyXg41pP9aLZcAeeESlmN5/ca5FxXT4F2dBkZDsfd0Tz/Fa', /cost 31 out of range/],
    ['{ARGON2ID}$argon2id$v=19$m=4194304,t=3,p=1$FPDbU4jNR0k7yM6C3rLKBw$U0bDkzdoErLlQ8gDfuN5XaXWH50pQF6lTIwcx6DrI7w', /memory cost/],
    ['{SHA512-CRYPT}$6$rounds=999999999$abc$' + 'a'.repeat(86), /rounds 999999999 above/],
    ['{SCRYPT}$scrypt$ln=40,r=8,p=1$abcdabcd$abcdabcdabcdabcdabcdabcd', /out of range/],
  ])('refused on import: %s', (text, why) => {
    expect(normaliseStoredPassword(text)).toMatch(why);
  });
});

describe('new passwords', () => {
  test('scrypt, self-describing, salted', async () => {
    const a = await hashPassword('pässword');
    const b = await hashPassword('pässword');
    expect(a).toMatch(/^\{SCRYPT\}\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
    expect(schemeOf(a)).toBe('SCRYPT');
    expect(normaliseStoredPassword(a)).toEqual({ stored: a, scheme: 'SCRYPT' });
    expect(await verifyPassword('pässword', a)).toBe(true);
    expect(await verifyPassword('password', a)).toBe(false);
  });
});

describe('malformed stored values', () => {
  test('never throw, never match', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('{SCRYPT}', '{SHA512-CRYPT}', '{BLF-CRYPT}', '{ARGON2ID}', '{SSHA512}', '{SHA512}', '{X}', ''), fc.string(), async (prefix, rest) => {
        const stored = prefix + rest;
        await expect(verifyPassword('x', stored)).resolves.toBe(stored === '{PLAIN}x');
      }),
      { numRuns: 300 },
    );
  });
});

describe('the event loop keeps running during a check', () => {
  test.each([
    '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$FPDbU4jNR0k7yM6C3rLKBw$U0bDkzdoErLlQ8gDfuN5XaXWH50pQF6lTIwcx6DrI7w',
    '{SHA512-CRYPT}$6$rounds=50000$abc$' + 'a'.repeat(86),
    '{BLF-CRYPT}$2y$10$RXBkfPkyXg41pP9aLZcAeeESlmN5/ca5FxXT4F2dBkZDsfd0Tz/Fa',
  ])('%s', async (stored) => {
    // Timers fire only if the check yields; the count is not compared with any speed.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await verifyPassword('correct horse', stored);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  }, 30_000);
});
