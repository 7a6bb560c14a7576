/**
 * The index follows the files: messages dropped by hand into new/ and cur/ (Dovecot names with S=/W=,
 * foreign names without, CRLF content), files removed or renamed by hand (a flag change), folders made and
 * removed by hand, symlinks never taken for messages or folders.
 */
import { mkdir, readFile, rename, rm, symlink, unlink, utimes, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Mailbox, MailboxStore, UserMailboxes } from '../../../src/store/mailbox/mailbox-store.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

let tmp: TempDir;
let store: MailboxStore;
let user: UserMailboxes;
let root: string;

beforeEach(async () => {
  tmp = await makeTempDir('index-sync');
  root = join(tmp.path, 'mail', 'alice');
  store = openMaildirMailboxStore({ maildirOf: (u) => join(tmp.path, 'mail', u), hostname: 'mx.test' });
  user = await store.openUser('alice');
});
afterEach(async () => {
  await user.release();
  await store.close();
  await tmp.remove();
});

/** The directory mtime check would skip a scan within the same timestamp: move the mtimes into the past. */
async function age(dir: string): Promise<void> {
  const past = new Date(Date.now() - 10_000);
  for (const sub of ['new', 'cur']) await utimes(join(dir, sub), past, past);
}

async function sorted(box: Mailbox): Promise<{ uid: number; flags: string[]; vsize: number }[]> {
  const snap = await box.snapshot();
  return snap.records.map((r) => ({ uid: r.uid, flags: [...r.flags].sort(), vsize: r.vsize }));
}

it('indexes files dropped into new/ and cur/, with and without S=/W=, CRLF or LF, in arrival order', async () => {
  await writeFile(join(root, 'new', '1700000002.M5P1.host,S=7,W=9'), 'a\nbcde\n');
  await writeFile(join(root, 'cur', '1700000001.M900P1.host:2,S'), 'x\r\ny\r\n'); // CRLF, no sizes
  await writeFile(join(root, 'cur', '1700000001.M10P1.host:2,FR'), 'one\ntwo\nthree'); // LF, no sizes
  await writeFile(join(root, 'new', 'mutt-made-this'), 'hello\n'); // foreign name
  const box = await user.open('INBOX', 'read-only');
  expect(await sorted(box)).toEqual([
    { uid: 1, flags: ['\\Answered', '\\Flagged'], vsize: 15 },
    { uid: 2, flags: ['\\Seen'], vsize: 6 },
    { uid: 3, flags: [], vsize: 9 },
    { uid: 4, flags: [], vsize: 7 },
  ]);
  const details = await box.details([1, 2, 3, 4]);
  expect(details.map((d) => d.size)).toEqual([13, 6, 7, 6]);
  const uidlist = await readFile(join(root, 'dovecot-uidlist'), 'utf8');
  expect(uidlist.split('\n').slice(1, 5)).toEqual([
    '1 :1700000001.M10P1.host',
    '2 :1700000001.M900P1.host',
    '3 :1700000002.M5P1.host,S=7,W=9',
    '4 :mutt-made-this',
  ]);
  await box.close();
});

it('sees files removed and renamed by hand as expunges and flag changes', async () => {
  await user.append('INBOX', { content: Buffer.from('Subject: 1\n\n1\n') });
  await user.append('INBOX', { content: Buffer.from('Subject: 2\n\n2\n'), flags: ['\\Seen'] });
  await user.append('INBOX', { content: Buffer.from('Subject: 3\n\n3\n'), flags: ['work'] });
  const box = await user.open('INBOX', 'read-write');
  const first = await box.snapshot();
  // Which file is which, by content (names sort by microseconds, not as strings).
  const cur = await readdir(join(root, 'cur'));
  const bodies = await Promise.all(cur.map((f) => readFile(join(root, 'cur', f), 'utf8')));
  const named = (n: string): string => cur[bodies.indexOf(`Subject: ${n}\n\n${n}\n`)] as string;
  const [one, two, three] = [named('1'), named('2'), named('3')];
  await unlink(join(root, 'cur', two));
  await rename(join(root, 'cur', one), join(root, 'cur', one.replace(/:2,.*$/, ':2,FS')));
  await rename(join(root, 'cur', three), join(root, 'cur', three.replace(/:2,.*$/, ':2,')));
  await age(root);
  const changes = await box.changesSince(first.status.highestModseq);
  expect(changes.expunged).toEqual([2]);
  expect(changes.added).toEqual([]);
  expect(changes.changed.map((c) => [c.uid, [...c.flags].sort()])).toEqual([
    [1, ['\\Flagged', '\\Seen']],
    [3, []],
  ]);
  expect(changes.highestModseq).toBeGreaterThan(first.status.highestModseq);
  await box.close();
});

it('sees folders made and removed by hand; a symlinked folder or message is never read', async () => {
  await mkdir(join(root, '.Hand', 'cur'), { recursive: true });
  await mkdir(join(root, '.Hand', 'new'));
  await mkdir(join(root, '.Hand', 'tmp'));
  await writeFile(join(root, '.Hand', 'new', '1.M1P1.h'), 'Subject: x\n\nx\n');
  const other = join(tmp.path, 'mail', 'bob');
  await mkdir(join(other, 'cur'), { recursive: true });
  await writeFile(join(other, 'cur', 'secret:2,'), 'bob only\n');
  await symlink(other, join(root, '.Bob'));
  await symlink(join(other, 'cur', 'secret:2,'), join(root, 'cur', 'linked:2,'));
  let names = (await user.list()).map((m) => m.name);
  expect(names).toContain('Hand');
  expect(names).not.toContain('Bob');
  expect((await user.status('Hand')).messages).toBe(1);
  expect((await user.status('INBOX')).messages).toBe(0);
  await expect(user.open('Bob', 'read-only')).rejects.toMatchObject({ code: 'NONEXISTENT' });
  await rm(join(root, '.Hand'), { recursive: true });
  names = (await user.list()).map((m) => m.name);
  expect(names).not.toContain('Hand');
  await expect(user.status('Hand')).rejects.toMatchObject({ code: 'NONEXISTENT' });
});

it('skips directories whose mtime has not moved, unless it was within 2 s of the scan (Dovecot\'s dirty rule)', async () => {
  const box = await user.open('INBOX', 'read-only');
  const past = new Date(Date.now() - 60_000);
  await utimes(join(root, 'cur'), past, past);
  await utimes(join(root, 'new'), past, past);
  await box.snapshot();
  // A file slipped in with the directory's mtime put back: not looked for (this is what makes SELECT cheap).
  await writeFile(join(root, 'cur', '5.M1P1.h:2,'), 'a\n');
  await utimes(join(root, 'cur'), past, past);
  expect((await box.changesSince(0)).added).toEqual([]);
  // A recent mtime is not trusted: the same trick within the 2-second window is seen.
  const recent = new Date(Date.now() - 500);
  await utimes(join(root, 'cur'), recent, recent);
  expect((await box.changesSince(0)).added.map((r) => r.uid)).toEqual([1]);
  await writeFile(join(root, 'cur', '6.M1P1.h:2,'), 'b\n');
  await utimes(join(root, 'cur'), recent, recent);
  expect((await box.changesSince(0)).added.map((r) => r.uid)).toEqual([2]);
  await box.close();
});

it('a first fill of more files than one insert batch: every file gets its UID in arrival order, uidlist and index agree', async () => {
  // 600 = two batches of 256 and a rest; shuffled on disk, so only the arrival sort gives the order.
  const n = 600;
  const names = Array.from({ length: n }, (_, i) => `${1700000000 + Math.floor(i / 7)}.M${(i % 7) * 1000 + 5}P${i}.host,S=6,W=7:2,${i % 3 === 0 ? 'S' : ''}`);
  for (const i of [...names.keys()].sort((a, b) => ((a * 7919) % n) - ((b * 7919) % n))) await writeFile(join(root, 'cur', names[i]!), 'hello\n');
  const box = await user.open('INBOX', 'read-write');
  const snap = await box.snapshot();
  expect(snap.records.map((r) => r.uid)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  expect(snap.records.map((r) => r.flags.includes('\\Seen'))).toEqual(names.map((_, i) => i % 3 === 0));
  expect(snap.status.recent).toBe(n);
  const lines = (await readFile(join(root, 'dovecot-uidlist'), 'utf8')).split('\n').slice(1).filter(Boolean);
  expect(lines).toEqual(names.map((name, i) => `${i + 1} :${name.split(':')[0]}`));
  // The fill's WAL checkpoint is put off a moment; the index keeps answering and writing meanwhile.
  await box.setFlags([1], { mode: 'add', flags: ['\\Flagged'] });
  await new Promise((r) => setTimeout(r, 1200));
  await box.setFlags([2], { mode: 'add', flags: ['\\Flagged'] });
  expect((await sorted(box)).slice(0, 2).map((r) => r.flags)).toEqual([['\\Flagged', '\\Seen'], ['\\Flagged']]);
  await box.close();
});
