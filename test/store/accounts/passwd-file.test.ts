/** Dovecot passwd-file lines: examples and fast-check properties (never throws; fields round-trip). */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parsePasswdFile, parsePasswdLine } from '../../../src/store/accounts/passwd-file.js';

describe('parsePasswdLine', () => {
  test.each([
    ['alice@example.org:{PLAIN}secret::::::', { kind: 'entry', line: 1, user: 'alice@example.org', password: '{PLAIN}secret' }],
    ['bob:{SHA512-CRYPT}$6$abc$def:1000:1000::/home/bob::userdb_quota_rule=*:storage=1G', { kind: 'entry', line: 1, user: 'bob', password: '{SHA512-CRYPT}$6$abc$def', quota: { bytes: 1024 ** 3, messages: 0 } }],
    ['eve:{PLAIN}x::::::quota_rule=*:storage=1048576:messages=10 quota_rule2=Trash:storage=+100M', { kind: 'entry', line: 1, user: 'eve', password: '{PLAIN}x', quota: { bytes: 1024 ** 3, messages: 10 } }],
    ['fay:{PLAIN}x::::::quota_rule=*:storage=10%', { kind: 'error', line: 1, message: 'fay: quota_rule "*:storage=10%": "storage=10%" is not a limit Mailgate keeps (storage=, bytes=, messages=; no % or +/-)' }],
    ['carol@example.org:$2y$05$x\r', { kind: 'entry', line: 1, user: 'carol@example.org', password: '$2y$05$x' }],
    ['# a comment', { kind: 'skip' }],
    ['   ', { kind: 'skip' }],
    ['', { kind: 'skip' }],
    ['no-colon', { kind: 'error', line: 1, message: 'no ":" after the user name' }],
    [':{PLAIN}x', { kind: 'error', line: 1, message: 'empty user name' }],
    ['dave@example.org:', { kind: 'error', line: 1, message: 'dave@example.org: no password (a user without one could not log in)' }],
  ])('%j', (text, expected) => {
    expect(parsePasswdLine(text, 1)).toEqual(expected);
  });

  test('property: never throws; a user:password:rest line gives back its first two fields', () => {
    const field = fc.string({ unit: fc.constantFrom(...'ab@.{}$/+=Z9 \t#\r\0'.split('')), maxLength: 20 });
    fc.assert(
      fc.property(field, field, fc.string(), (user, password, rest) => {
        const cleanUser = user.replace(/[:\s\0\r]/g, '');
        const cleanPassword = password.replace(/[:\r\0]/g, '');
        const line = `${cleanUser}:${cleanPassword}:${rest.replace(/[\n\r]/g, '')}`;
        const r = parsePasswdLine(line, 7);
        if (cleanUser === '' || cleanUser.startsWith('#')) {
          expect(r.kind === 'error' || r.kind === 'skip').toBe(true);
        } else if (cleanPassword === '' || line.includes('\0')) {
          expect(r.kind).toBe('error');
        } else {
          expect(r).toEqual({ kind: 'entry', line: 7, user: cleanUser, password: cleanPassword });
        }
      }),
      { numRuns: 5000 },
    );
    fc.assert(fc.property(fc.string(), (text) => void parsePasswdFile(text)), { numRuns: 5000 });
  });
});

describe('parsePasswdFile', () => {
  test('entries and problems with their line numbers', () => {
    const text = '# users\nalice@example.org:{PLAIN}a\n\nbroken\nbob@example.org:{PLAIN}b:1000\n';
    expect(parsePasswdFile(text)).toEqual({
      entries: [
        { line: 2, user: 'alice@example.org', password: '{PLAIN}a' },
        { line: 5, user: 'bob@example.org', password: '{PLAIN}b' },
      ],
      problems: [{ line: 4, message: 'no ":" after the user name' }],
    });
  });
});
