/** Mailbox-name validation and canonical form; properties over random names. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkMailboxName, isInboxName, isSameOrUnder, mailboxParent } from '../../../src/store/maildir/mailbox-names.js';

const ok = (name: string): string => {
  const c = checkMailboxName(name);
  if (!c.ok) throw new Error(`refused "${name}": ${c.reason}`);
  return c.name;
};

describe('mailbox names', () => {
  it('canonicalises INBOX at the top level only', () => {
    expect(ok('inbox')).toBe('INBOX');
    expect(ok('InBoX/x')).toBe('INBOX/x');
    expect(ok('x/inbox')).toBe('x/inbox');
    expect(ok('Sent')).toBe('Sent');
    expect(ok('sent')).toBe('sent');
    expect(ok('Archive.2024/Q1')).toBe('Archive.2024/Q1');
    expect(ok('日本語/Café ~x')).toBe('日本語/Café ~x');
    expect(isInboxName('iNbOx')).toBe(true);
    expect(isInboxName('INBOX/x')).toBe(false);
  });

  it('refuses with a reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['/x', /starts/],
      ['x/', /ends/],
      ['a//b', /empty level/],
      ['.', /"\." level/],
      ['a/../b', /"\.\." level/],
      ['a\u0000b', /control/],
      ['a\u007fb', /control/],
      ['a\u0085b', /control/],
      ['a%', /wildcard/],
      ['*', /wildcard/],
      ['x\ud800', /Unicode/],
      ['x'.repeat(1001), /longer than 1000/],
      ['x'.repeat(256), /255 bytes on disk/],
      [Array(17).fill('a').join('/'), /levels/],
    ];
    for (const [name, reason] of cases) {
      const c = checkMailboxName(name);
      expect(c.ok, JSON.stringify(name)).toBe(false);
      if (!c.ok) expect(c.reason).toMatch(reason);
    }
  });

  it('parents and ancestry', () => {
    expect(mailboxParent('a/b/c')).toBe('a/b');
    expect(mailboxParent('a')).toBeUndefined();
    expect(isSameOrUnder('a/b', 'a')).toBe(true);
    expect(isSameOrUnder('ab', 'a')).toBe(false);
  });

  it('canonical names are fixed points and have only non-empty, non-dot levels', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'I', 'n', 'b', 'o', 'x', 'B', 'O', 'X', 'N', '/', '.', '~', 'é', '&', '\\', ' ') }), (s) => {
        const c = checkMailboxName(s);
        if (!c.ok) return;
        const again = checkMailboxName(c.name);
        expect(again.ok && again.name).toBe(c.name);
        for (const level of c.components) {
          expect(level).not.toBe('');
          expect(level).not.toBe('.');
          expect(level).not.toBe('..');
          expect(level).not.toContain('/');
        }
      }),
      { numRuns: 5000 },
    );
  });
});
