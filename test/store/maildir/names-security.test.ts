/**
 * A user can never reach another user's mail through a mailbox name or a link (plan §4.3): traversal,
 * mUTF-7 spellings of '..' and '/', control characters, case tricks, over-long names, and symlinks as
 * folders, as cur/ and as messages. Every accepted name maps to the Maildir root or a direct child of it.
 */
import fc from 'fast-check';
import { readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeFolderMutf7 } from '../../../src/store/maildir/folder-mutf7.js';
import { checkMailboxName } from '../../../src/store/maildir/mailbox-names.js';
import { createFolder, existingFolderPath, folderDirName, folderPath, listFolders } from '../../../src/store/maildir/maildir-folders.js';
import { scanMaildir } from '../../../src/store/maildir/maildir-scan.js';
import { ensureMaildir } from '../../../src/store/maildir/maildir-writer.js';
import { isDirectChild, openMessageFile } from '../../../src/store/maildir/safe-fs.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

const ROOT = '/data/mail/example.test/alice';

describe('names that must be refused', () => {
  const refused = ['../bob/INBOX', 'INBOX/../../', '.', '..', 'a/../b', 'a/./b', 'a\u0000b', '/etc', 'INBOX/', '//x', 'x//y', '', '%', 'INBOX/*', 'x'.repeat(2000), '\u00e9'.repeat(1000)];
  for (const name of refused) {
    it(`refuses ${JSON.stringify(name.length > 40 ? `${name.slice(0, 10)}… (${Buffer.byteLength(name)} bytes)` : name)}`, () => {
      const c = checkMailboxName(name);
      expect(c.ok).toBe(false);
      if (!c.ok) expect(c.reason.length).toBeGreaterThan(0);
      expect(() => folderPath(ROOT, name)).toThrow();
    });
  }

  it("refuses the mUTF-7 spellings of '..' and '/': the strict decoder refuses them, and so would the name check", () => {
    // A canonical encoder never shifts printable ASCII, so the strict decoder refuses these spellings;
    // a lenient decoder would hand over "..", "/" and "a/..", which the name check refuses.
    for (const [spelled, decoded] of [
      ['&AC4ALg-', '..'],
      ['&AC8-', '/'],
      ['a&AC8ALgAu-', 'a/..'],
    ] as const) {
      expect(() => decodeFolderMutf7(spelled)).toThrow();
      expect(checkMailboxName(decoded).ok).toBe(false);
    }
  });
});

describe('names that are fine stay inside the Maildir', () => {
  it('odd but valid names map to direct children', () => {
    const cases: Array<[string, string]> = [
      ['~root', '.\\7eroot'],
      ['\\', '.\\5c'],
      ['&AC4ALg-', '.&-AC4ALg-'], // taken literally, not decoded: a harmless name
      ['&AC8-', '.&-AC8-'],
      ['..a', '.\\2e\\2ea'],
      ['a..', '.a\\2e\\2e'],
    ];
    for (const [name, dir] of cases) {
      expect(folderDirName(name), name).toBe(dir);
      expect(isDirectChild(ROOT, folderPath(ROOT, name))).toBe(true);
    }
  });

  it('INBOX in any case is one mailbox; other names keep their case', () => {
    for (const n of ['inbox', 'InBoX', 'INBOX']) expect(folderPath(ROOT, n)).toBe(ROOT);
    expect(folderPath(ROOT, 'inbox/Sub')).toBe(folderPath(ROOT, 'INBOX/Sub'));
    expect(folderPath(ROOT, 'Sent')).not.toBe(folderPath(ROOT, 'sent'));
    expect(folderPath(ROOT, 'x/inbox')).not.toBe(folderPath(ROOT, 'x/INBOX'));
  });

  it('NFC and NFD twins are two distinct mailboxes (as in Dovecot), both inside', () => {
    const nfc = 'Caf\u00e9';
    const nfd = 'Cafe\u0301';
    expect(folderPath(ROOT, nfc)).not.toBe(folderPath(ROOT, nfd));
    expect(isDirectChild(ROOT, folderPath(ROOT, nfd))).toBe(true);
  });

  it('every accepted name is the root (INBOX) or a direct child of it', () => {
    const unit = fc.constantFrom('a', '.', '/', '\\', '~', '&', '-', 'A', 'C', '4', 'L', 'g', '\u0000', '\n', 'é', ' ', '%');
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 30 }), (name) => {
        const c = checkMailboxName(name);
        if (!c.ok) {
          expect(() => folderPath(ROOT, name)).toThrow();
          return;
        }
        const path = folderPath(ROOT, name);
        expect(path === ROOT || isDirectChild(ROOT, path)).toBe(true);
        if (path !== ROOT) expect(folderDirName(name)).not.toMatch(/\/|^\.\.?$/);
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('symlinks on disk', () => {
  let tmp: TempDir;
  let alice: string;
  let bob: string;
  beforeEach(async () => {
    tmp = await makeTempDir('names-security');
    alice = join(tmp.path, 'alice');
    bob = join(tmp.path, 'bob');
    await ensureMaildir(alice);
    await ensureMaildir(bob);
    await writeFile(join(bob, 'cur', '1.M1P1.h,S=6,W=6:2,S'), 'secret');
    await createFolder(bob, 'Private');
  });
  afterEach(async () => {
    await tmp.remove();
  });

  it("a folder that is a symlink to bob's Maildir is neither listed nor opened", async () => {
    await symlink(bob, join(alice, '.Bob'));
    await symlink(join(bob, '.Private'), join(alice, '.Private'));
    expect(await listFolders(alice)).toEqual([]);
    expect(await existingFolderPath(alice, 'Bob')).toBeUndefined();
    expect(await existingFolderPath(alice, 'Private')).toBeUndefined();
    const scan = await scanMaildir(join(alice, '.Bob'));
    expect(scan.entries).toEqual([]);
    await expect(createFolder(alice, 'Bob')).rejects.toMatchObject({ code: 'ALREADYEXISTS' });
    expect(await readdir(join(bob, 'cur'))).toEqual(['1.M1P1.h,S=6,W=6:2,S']);
  });

  it("a cur/ that is a symlink to bob's cur/ is not read", async () => {
    const folder = await createFolder(alice, 'Trap');
    await rm(join(folder, 'cur'), { recursive: true });
    await symlink(join(bob, 'cur'), join(folder, 'cur'));
    const scan = await scanMaildir(folder);
    expect(scan.cur).toBeUndefined();
    expect(scan.entries).toEqual([]);
  });

  it('a message file that is a symlink is skipped by the scan and not opened', async () => {
    const link = join(alice, 'cur', '2.M2P2.h,S=6,W=6:2,');
    await symlink(join(bob, 'cur', '1.M1P1.h,S=6,W=6:2,S'), link);
    expect((await scanMaildir(alice)).entries).toEqual([]);
    expect(await openMessageFile(link)).toBeUndefined();
  });
});
