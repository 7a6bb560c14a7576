/** Dovecot's subscriptions file: the text Dovecot 2.3 wrote, escaping, round trips, locked updates. */
import fc from 'fast-check';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkMailboxName } from '../../../src/store/maildir/mailbox-names.js';
import { formatSubscriptions, parseSubscriptions, readSubscriptions, setSubscribed, subscriptionLine } from '../../../src/store/maildir/subscriptions-file.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

/** Written by Dovecot 2.3.19 (listescape, separator '/') after SUBSCRIBE of these three. */
const DOVECOT = 'V\t2\n\nArchive\\2e2024\tQ1\nSent\nCaf&AOk-\n';

describe('subscriptions file', () => {
  it('reads what Dovecot wrote', () => {
    expect(parseSubscriptions(DOVECOT)).toEqual(['Archive.2024/Q1', 'Sent', 'Café']);
    expect(formatSubscriptions(['Archive.2024/Q1', 'Sent', 'Café'])).toBe(DOVECOT);
  });

  it('lines: INBOX canonical, levels joined by a tab, escapes', () => {
    expect(subscriptionLine('inbox')).toBe('INBOX');
    expect(subscriptionLine('inbox/x')).toBe('INBOX\tx');
    expect(subscriptionLine('~a/b\\c')).toBe('\\7ea\tb\\5cc');
    expect(() => subscriptionLine('a/../b')).toThrow();
  });

  it('skips lines that are not valid names, reads version 1 files', () => {
    const skipped: string[] = [];
    expect(parseSubscriptions('V\t2\n\nok\n\\2e\\2e\nx\t\t\n&Jjo\n', (l) => skipped.push(l))).toEqual(['ok']);
    expect(skipped).toEqual(['\\2e\\2e', 'x\t\t', '&Jjo']);
    expect(parseSubscriptions('INBOX\nArchive.Q1\n')).toEqual(['INBOX', 'Archive/Q1']);
  });

  it('round-trips valid names', () => {
    const name = fc.string({ unit: fc.constantFrom('a', 'B', '/', '.', '~', 'é', '&', '\\', ' ', '日'), minLength: 1, maxLength: 20 }).filter((n) => checkMailboxName(n).ok);
    fc.assert(
      fc.property(fc.uniqueArray(name, { maxLength: 10, selector: (n) => (checkMailboxName(n).ok ? (checkMailboxName(n) as { name: string }).name : n) }), (names) => {
        const canon = names.map((n) => (checkMailboxName(n) as { name: string }).name);
        expect(parseSubscriptions(formatSubscriptions(names))).toEqual(canon);
      }),
      { numRuns: 1000 },
    );
  });

  describe('updates', () => {
    let tmp: TempDir;
    beforeEach(async () => {
      tmp = await makeTempDir('subscriptions');
    });
    afterEach(async () => {
      await tmp.remove();
    });
    it('subscribes and unsubscribes, keeping lines it cannot read', async () => {
      expect(await readSubscriptions(tmp.path)).toEqual([]);
      expect(await setSubscribed(tmp.path, 'Sent', true)).toBe(true);
      expect(await setSubscribed(tmp.path, 'Sent', true)).toBe(false);
      expect(await setSubscribed(tmp.path, 'A.b/c', true)).toBe(true);
      const path = join(tmp.path, 'subscriptions');
      await writeFile(path, (await readFile(path, 'utf8')) + 'weird\\zz\n');
      expect(await setSubscribed(tmp.path, 'Sent', false)).toBe(true);
      expect(await readFile(path, 'utf8')).toBe('V\t2\n\nA\\2eb\tc\nweird\\zz\n');
      expect(await readSubscriptions(tmp.path)).toEqual(['A.b/c']);
    });
  });
});
