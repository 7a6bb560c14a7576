/** Folder directories: name mapping, create/list/rename/delete on disk, modes, the maildirfolder file. */
import { mkdir, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createFolder,
  deleteFolder,
  folderDirName,
  folderExists,
  folderPath,
  FolderError,
  listFolders,
  mailboxNameOfDir,
  renameFolder,
} from '../../../src/store/maildir/maildir-folders.js';
import { ensureMaildir } from '../../../src/store/maildir/maildir-writer.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

describe('folder names ↔ directories', () => {
  it('maps as Dovecot with listescape does (seen from Dovecot 2.3)', () => {
    const pairs: Array<[string, string]> = [
      ['Sent', '.Sent'],
      ['Archive.2024/Q1', '.Archive\\2e2024.Q1'],
      ['~root', '.\\7eroot'],
      ['~x/~y', '.\\7ex.\\7ey'],
      ['a~b', '.a~b'],
      ['back\\slash', '.back\\5cslash'],
      ['Café', '.Caf&AOk-'],
      ['日本語', '.&ZeVnLIqe-'],
      ['&amp', '.&-amp'],
      ['.hidden', '.\\2ehidden'],
      ['INBOX/kid', '.INBOX.kid'],
      ['inbox/kid2', '.INBOX.kid2'],
      ['sp ace', '.sp ace'],
      ['\\2e', '.\\5c2e'],
    ];
    for (const [name, dir] of pairs) {
      expect(folderDirName(name), name).toBe(dir);
      expect(mailboxNameOfDir(dir), dir).toBe(name.replace(/^inbox/, 'INBOX'));
    }
  });

  it('has one directory per name: non-canonical directories are no folder', () => {
    for (const dir of ['.inbox.x', '.INBOX', '.', '..', 'Sent', '.a..b', '.a.', '.\\2E', '.Caf&AOk', '.&AGE-', '.a\\7eb', '.\\2e\\2e', '.x.\\2e']) {
      expect(mailboxNameOfDir(dir), dir).toBeUndefined();
    }
  });

  it('INBOX is the root; other paths are direct children', () => {
    expect(folderPath('/m/u', 'inbox')).toBe('/m/u');
    expect(folderPath('/m/u', 'a/b')).toBe('/m/u/.a.b');
    expect(() => folderPath('/m/u', '../x')).toThrow(FolderError);
    expect(() => folderDirName('INBOX')).toThrow(FolderError);
  });
});

describe('folders on disk', () => {
  let tmp: TempDir;
  let root: string;
  beforeEach(async () => {
    tmp = await makeTempDir('folders');
    root = join(tmp.path, 'alice');
    await ensureMaildir(root);
  });
  afterEach(async () => {
    await tmp.remove();
  });

  it('creates a whole folder with final modes and lists it', async () => {
    const path = await createFolder(root, 'Archive.2024/Q1');
    expect(path).toBe(join(root, '.Archive\\2e2024.Q1'));
    expect((await readdir(path)).sort()).toEqual(['cur', 'maildirfolder', 'new', 'tmp']);
    for (const sub of ['', 'cur', 'new', 'tmp']) expect((await stat(join(path, sub))).mode & 0o777, sub).toBe(0o700);
    expect((await stat(join(path, 'maildirfolder'))).mode & 0o777).toBe(0o600);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    await createFolder(root, 'Sent');
    expect((await listFolders(root)).map((f) => f.name)).toEqual(['Archive.2024/Q1', 'Sent']);
    expect(await folderExists(root, 'Sent')).toBe(true);
    expect(await folderExists(root, 'Archive.2024')).toBe(false);
    await expect(createFolder(root, 'Sent')).rejects.toMatchObject({ code: 'ALREADYEXISTS' });
    await expect(createFolder(root, 'INBOX')).rejects.toMatchObject({ code: 'ALREADYEXISTS' });
    await expect(createFolder(root, 'a//b')).rejects.toMatchObject({ code: 'CANNOT' });
  });

  it('lists only real directories with canonical names', async () => {
    await createFolder(root, 'Real');
    await mkdir(join(root, '.inbox.x'));
    await mkdir(join(root, '.bad\\zz'));
    await writeFile(join(root, '.afile'), '');
    await symlink(join(root, '.Real'), join(root, '.Link'));
    const skipped: string[] = [];
    expect((await listFolders(root, { onSkip: (d) => skipped.push(d) })).map((f) => f.name)).toEqual(['Real']);
    expect(skipped.sort()).toEqual(['.Link', '.afile', '.bad\\zz', '.inbox.x']);
  });

  it('renames a folder with its children, parent first', async () => {
    for (const n of ['a', 'a/x', 'a/x/y', 'ab', 'b']) await createFolder(root, n);
    await writeFile(join(root, '.a.x', 'cur', 'm1:2,S'), 'x');
    expect(await renameFolder(root, 'a', 'c/d')).toEqual([
      ['a', 'c/d'],
      ['a/x', 'c/d/x'],
      ['a/x/y', 'c/d/x/y'],
    ]);
    expect((await listFolders(root)).map((f) => f.name)).toEqual(['ab', 'b', 'c/d', 'c/d/x', 'c/d/x/y']);
    expect(await readdir(join(root, '.c.d.x', 'cur'))).toEqual(['m1:2,S']);
    await expect(renameFolder(root, 'b', 'ab')).rejects.toMatchObject({ code: 'ALREADYEXISTS' });
    await expect(renameFolder(root, 'nope', 'z')).rejects.toMatchObject({ code: 'NONEXISTENT' });
    await expect(renameFolder(root, 'b', 'b/c')).rejects.toMatchObject({ code: 'CANNOT' });
    await expect(renameFolder(root, 'INBOX', 'z')).rejects.toMatchObject({ code: 'CANNOT' });
    // As the memory store: a parent without its own directory is no source, but may be a target.
    await expect(renameFolder(root, 'c', 'e')).rejects.toMatchObject({ code: 'NONEXISTENT' });
    await createFolder(root, 'z/x');
    expect(await renameFolder(root, 'b', 'z')).toEqual([['b', 'z']]);
    expect((await listFolders(root)).map((f) => f.name)).toEqual(['ab', 'c/d', 'c/d/x', 'c/d/x/y', 'z', 'z/x']);
    await createFolder(root, 'q');
    await createFolder(root, 'q/d');
    await expect(renameFolder(root, 'q', 'c')).rejects.toMatchObject({ code: 'ALREADYEXISTS' }); // q/d → c/d exists
    expect(await folderExists(root, 'q/d')).toBe(true);
  });

  it('deletes one folder (children stay), never through a symlink', async () => {
    await createFolder(root, 'a');
    await createFolder(root, 'a/b');
    await writeFile(join(root, '.a', 'cur', 'm'), 'x');
    await deleteFolder(root, 'a');
    expect((await listFolders(root)).map((f) => f.name)).toEqual(['a/b']);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    await expect(deleteFolder(root, 'a')).rejects.toMatchObject({ code: 'NONEXISTENT' });
    await expect(deleteFolder(root, 'INBOX')).rejects.toMatchObject({ code: 'CANNOT' });
    const other = join(tmp.path, 'bob');
    await ensureMaildir(other);
    await writeFile(join(other, 'cur', 'keep'), 'bob');
    await symlink(other, join(root, '.Bob'));
    await expect(deleteFolder(root, 'Bob')).rejects.toMatchObject({ code: 'NONEXISTENT' });
    expect(await readdir(join(other, 'cur'))).toEqual(['keep']);
  });
});
