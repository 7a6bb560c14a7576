/**
 * The Maildir store's own behaviour (the shared rules are in contract.ts): what lands on disk for APPEND,
 * flags, COPY, MOVE, EXPUNGE and folder operations, subscriptions in Dovecot's file, and quota refusals that
 * leave no file and no index row behind; SEARCH's header cache rows and content scans.
 */
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { readdir, readFile, rename, stat, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import type { MailboxStore, UserMailboxes } from '../../../src/store/mailbox/mailbox-store.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

let tmp: TempDir;
let store: MailboxStore;
let root: string;

function open(options: { quotaBytes?: number; quotaMessages?: number; appendLimit?: number; quotaOf?: (user: string) => { bytes?: number; messages?: number } | undefined } = {}): MailboxStore {
  return openMaildirMailboxStore({ maildirOf: (user) => join(tmp.path, 'mail', user), hostname: 'mx.test', ...options });
}

beforeEach(async () => {
  tmp = await makeTempDir('maildir-store');
  root = join(tmp.path, 'mail', 'alice');
  store = open();
});
afterEach(async () => {
  await store.close();
  await tmp.remove();
});

const msg = (n: number): Buffer => Buffer.from(`Subject: m${n}\r\n\r\nbody ${n}\r\n`);

async function files(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

describe('on first openUser', () => {
  it('makes INBOX and the special-use folders as Maildir++ directories, subscribed in Dovecot form', async () => {
    const user = await store.openUser('alice');
    const list = await user.list();
    expect(list.map((m) => [m.name, m.specialUse, m.subscribed, m.selectable])).toEqual([
      ['INBOX', undefined, true, true],
      ['Drafts', '\\Drafts', true, true],
      ['Junk', '\\Junk', true, true],
      ['Sent', '\\Sent', true, true],
      ['Trash', '\\Trash', true, true],
    ]);
    for (const d of ['.Drafts', '.Sent', '.Trash', '.Junk']) {
      expect(await files(join(root, d))).toEqual(['cur', 'dovecot-uidlist', 'maildirfolder', 'new', 'tmp']);
    }
    expect(await readFile(join(root, 'subscriptions'), 'utf8')).toMatch(/^V\t2\n\n/);
    const index = await stat(join(root, 'mailgate-index.sqlite'));
    expect(index.mode & 0o777).toBe(0o600);
    await user.release();
  });
});

describe('messages', () => {
  let user: UserMailboxes;
  beforeEach(async () => {
    user = await store.openUser('alice');
  });
  afterEach(async () => {
    await user.release();
  });

  it('APPEND writes an LF file into cur/ with S=, W=, its flags and the internal date as mtime', async () => {
    const when = Date.UTC(2020, 0, 2, 3, 4, 5);
    const { uid, uidValidity } = await user.append('INBOX', { content: msg(1), flags: ['\\Seen', 'Work'], internalDate: { ms: when, tzMinutes: 120 } });
    expect(uid).toBe(1);
    const cur = await files(join(root, 'cur'));
    expect(cur).toHaveLength(1);
    expect(cur[0]).toMatch(/,S=20,W=23:2,Sa$/);
    expect(await readFile(join(root, 'dovecot-keywords'), 'utf8')).toBe('0 Work\n');
    expect((await stat(join(root, 'cur', cur[0] as string))).mtimeMs).toBe(when);
    expect(await readFile(join(root, 'dovecot-uidlist'), 'utf8')).toMatch(new RegExp(`^3 V${uidValidity} N1 G[0-9a-f]{32}\\n1 :${(cur[0] as string).split(':')[0]}\\n$`));
    const box = await user.open('INBOX', 'read-only');
    const [d] = await box.details([1]);
    expect(d).toMatchObject({ uid: 1, vsize: 23, size: 20, internalDate: { ms: when, tzMinutes: 120 } });
    expect([...(d?.flags ?? [])].sort()).toEqual(['Work', '\\Seen']);
    const content = await box.openContent(1);
    expect((await content?.readAll())?.toString()).toBe('Subject: m1\n\nbody 1\n');
    const chunks: Buffer[] = [];
    for await (const c of content?.read(9, 13) ?? []) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('m1\n\n');
    await content?.close();
    await box.close();
  });

  it('a flag change is a rename; keywords past what the name holds stay in the index', async () => {
    await user.append('INBOX', { content: msg(1) });
    const box = await user.open('INBOX', 'read-write');
    await box.snapshot();
    const before = (await box.changesSince(0)).highestModseq;
    const { updated } = await box.setFlags([1], { mode: 'add', flags: ['\\Flagged', '\\Deleted', '$Label1'] });
    expect(updated[0]?.modseq).toBeGreaterThan(before);
    expect(await files(join(root, 'cur'))).toEqual([expect.stringMatching(/:2,FTa$/)]);
    await box.setFlags([1], { mode: 'remove', flags: ['\\Deleted'] });
    expect(await files(join(root, 'cur'))).toEqual([expect.stringMatching(/:2,Fa$/)]);
    const { updated: again } = await box.setFlags([1], { mode: 'replace', flags: [] });
    expect(again[0]?.flags).toEqual([]);
    expect(await files(join(root, 'cur'))).toEqual([expect.stringMatching(/:2,$/)]);
    await box.close();
  });

  it('COPY hard-links under a new name, MOVE renames, EXPUNGE unlinks', async () => {
    await user.append('INBOX', { content: msg(1), flags: ['\\Seen'] });
    await user.append('INBOX', { content: msg(2), flags: ['\\Deleted'] });
    const box = await user.open('INBOX', 'read-write');
    await box.snapshot();
    const copied = await box.copy([1, 2], 'Trash');
    expect(copied.pairs).toEqual([
      [1, 1],
      [2, 2],
    ]);
    const trash = await files(join(root, '.Trash', 'cur'));
    expect(trash).toHaveLength(2);
    const inode = (await stat(join(root, '.Trash', 'cur', trash[0] as string))).ino;
    const sourceInodes = await Promise.all((await files(join(root, 'cur'))).map(async (f) => (await stat(join(root, 'cur', f))).ino));
    expect(sourceInodes).toContain(inode);
    const moved = await box.move([1], 'Sent');
    expect(moved.pairs).toEqual([[1, 1]]);
    expect(await files(join(root, 'cur'))).toHaveLength(1);
    expect(await files(join(root, '.Sent', 'cur'))).toHaveLength(1);
    expect(await box.expunge()).toEqual([2]);
    expect(await files(join(root, 'cur'))).toEqual([]);
    const changes = await box.changesSince(0);
    expect(changes.expunged).toEqual([1, 2]);
    await box.close();
    expect((await user.status('Trash')).messages).toBe(2);
  });

  it('read-write snapshot moves new/ to cur/ and claims \\Recent once', async () => {
    await store.delivery.deliver('alice', () => Readable.from([msg(1)]), { hostname: 'mx.test' });
    expect(await files(join(root, 'new'))).toHaveLength(1);
    const ro = await user.open('INBOX', 'read-only');
    expect((await ro.snapshot()).recent).toEqual([]);
    expect(await files(join(root, 'new'))).toHaveLength(1);
    const rw = await user.open('INBOX', 'read-write');
    const snap = await rw.snapshot();
    expect(snap.recent).toEqual([1]);
    expect(snap.status.recent).toBe(1);
    expect(await files(join(root, 'new'))).toEqual([]);
    expect(await files(join(root, 'cur'))).toEqual([expect.stringMatching(/,S=\d+,W=\d+:2,$/)]);
    const rw2 = await user.open('INBOX', 'read-write');
    expect((await rw2.snapshot()).recent).toEqual([]);
    await Promise.all([ro.close(), rw.close(), rw2.close()]);
  });

  it('a delivery with the same base name is stored once', async () => {
    for (let i = 0; i < 2; i++) await store.delivery.deliver('alice', () => Readable.from([msg(1)]), { hostname: 'mx.test', baseName: '1.M1Q1R1.mx' });
    expect((await user.status('INBOX')).messages).toBe(1);
  });
});

describe('folders', () => {
  let user: UserMailboxes;
  beforeEach(async () => {
    user = await store.openUser('alice');
  });
  afterEach(async () => {
    await user.release();
  });

  it('creates escaped Maildir++ directories; parents without a directory are \\Noselect', async () => {
    await user.create('Archive/2024.Q1');
    await user.create('Ünïcode');
    const entries = await files(root);
    expect(entries).toContain('.Archive.2024\\2eQ1');
    expect(entries).toContain('.&ANw-n&AO8-code');
    const list = await user.list();
    expect(list.find((m) => m.name === 'Archive')).toMatchObject({ selectable: false, hasChildren: true });
    expect(list.find((m) => m.name === 'Archive/2024.Q1')).toMatchObject({ selectable: true, hasChildren: false });
    await expect(user.create('Archive/2024.Q1')).rejects.toMatchObject({ code: 'ALREADYEXISTS' });
    await expect(user.create('a/../b')).rejects.toMatchObject({ code: 'CANNOT' });
    await expect(user.create('inbox')).rejects.toMatchObject({ code: 'ALREADYEXISTS' });
  });

  it('a folder created again gets a greater UIDVALIDITY', async () => {
    await user.create('Work');
    const first = (await user.status('Work')).uidValidity;
    // A new UIDVALIDITY starts MODSEQs at 1, as Dovecot's (a row rebuilt from a uidlist starts at the time).
    expect((await user.status('Work')).highestModseq).toBe(1);
    await user.delete('Work');
    await expect(user.status('Work')).rejects.toMatchObject({ code: 'NONEXISTENT' });
    await user.create('Work');
    expect((await user.status('Work')).uidValidity).toBeGreaterThan(first);
  });

  it('rename moves children and subscriptions; renaming INBOX moves its messages and leaves it empty', async () => {
    await user.create('A');
    await user.create('A/B');
    await user.subscribe('A/B', true);
    await user.append('A/B', { content: msg(1) });
    await user.rename('A', 'C');
    const names = (await user.list()).map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['C', 'C/B']));
    expect(names).not.toContain('A');
    expect((await user.list()).find((m) => m.name === 'C/B')?.subscribed).toBe(true);
    expect((await user.status('C/B')).messages).toBe(1);

    await user.append('INBOX', { content: msg(2), flags: ['\\Seen'] });
    await user.append('INBOX', { content: msg(3) });
    const inboxBefore = await user.status('INBOX');
    await user.rename('INBOX', 'Old');
    const inbox = await user.status('INBOX');
    expect(inbox.messages).toBe(0);
    expect(inbox.uidValidity).toBe(inboxBefore.uidValidity);
    expect(inbox.highestModseq).toBeGreaterThan(inboxBefore.highestModseq);
    expect((await user.status('Old')).messages).toBe(2);
    expect((await user.status('Old')).unseen).toBe(1);
    expect(await files(join(root, 'cur'))).toEqual([]);
  });

  it('delete removes the folder and its files; INBOX cannot be deleted', async () => {
    await user.create('Gone');
    await user.append('Gone', { content: msg(1) });
    await user.delete('Gone');
    expect(await files(root)).not.toContain('.Gone');
    expect((await files(root)).some((e) => e.startsWith('..'))).toBe(false);
    await expect(user.delete('INBOX')).rejects.toMatchObject({ code: 'CANNOT' });
    await expect(user.delete('Gone')).rejects.toMatchObject({ code: 'NONEXISTENT', message: "Mailbox doesn't exist: Gone" });
    // A parent deleted while it has children stays as \Noselect; deleting it again is an error (RFC 3501 §6.3.4).
    await user.create('P');
    await user.create('P/C');
    await user.delete('P');
    expect((await user.list()).find((m) => m.name === 'P')).toMatchObject({ selectable: false, hasChildren: true });
    await expect(user.delete('P')).rejects.toMatchObject({ code: 'CANNOT' });
    await user.delete('P/C');
    expect((await user.list()).map((m) => m.name)).not.toContain('P');
  });

  it('subscriptions are kept in Dovecot\'s subscriptions file', async () => {
    await user.subscribe('x.y/z', true);
    await user.subscribe('Junk', false);
    const text = await readFile(join(root, 'subscriptions'), 'utf8');
    expect(text.startsWith('V\t2\n\n')).toBe(true);
    expect(text.split('\n')).toContain('x\\2ey\tz');
    expect(text.split('\n')).not.toContain('Junk');
  });
});

describe('quota', () => {
  it('refusals leave no file and no index row', async () => {
    await store.close();
    store = open({ quotaBytes: 60, quotaMessages: 3 });
    const user = await store.openUser('alice');
    await user.append('INBOX', { content: msg(1) });
    await user.append('INBOX', { content: msg(2) });
    await expect(user.append('INBOX', { content: msg(3) })).rejects.toMatchObject({ code: 'OVERQUOTA' });
    expect(await files(join(root, 'cur'))).toHaveLength(2);
    expect(await files(join(root, 'tmp'))).toEqual([]);
    const box = await user.open('INBOX', 'read-write');
    await box.snapshot();
    await expect(box.copy([1, 2], 'Trash')).rejects.toMatchObject({ code: 'OVERQUOTA' });
    expect(await files(join(root, '.Trash', 'cur'))).toEqual([]);
    await expect(store.delivery.deliver('alice', () => Readable.from([msg(4)]), { hostname: 'mx.test' })).rejects.toMatchObject({ code: 'OVERQUOTA' });
    expect(await files(join(root, 'new'))).toEqual([]);
    expect(await user.quota()).toEqual({ bytes: 46, messages: 2, bytesLimit: 60, messagesLimit: 3 });
    // A move does not grow the usage: allowed at the limit.
    expect((await box.move([1], 'Trash')).pairs).toEqual([[1, 1]]);
    await box.close();
    await user.release();
  });

  it("a user's own quota overrides the configured one, field by field, from the next opening", async () => {
    await store.close();
    const own = new Map<string, { bytes?: number; messages?: number }>([['alice', { messages: 1 }], ['carol', { bytes: 0 }]]);
    store = open({ quotaBytes: 60, quotaMessages: 3, quotaOf: (user) => own.get(user) });
    const alice = await store.openUser('alice');
    expect(await alice.quota()).toEqual({ bytes: 0, messages: 0, bytesLimit: 60, messagesLimit: 1 });
    await alice.append('INBOX', { content: msg(1) });
    await expect(alice.append('INBOX', { content: msg(2) })).rejects.toMatchObject({ code: 'OVERQUOTA' });
    await expect(store.delivery.deliver('alice', () => Readable.from([msg(3)]), { hostname: 'mx.test' })).rejects.toMatchObject({ code: 'OVERQUOTA' });
    // bob has none of his own: the configured limits
    const bob = await store.openUser('bob');
    expect(await bob.quota()).toMatchObject({ bytesLimit: 60, messagesLimit: 3 });
    await bob.release();
    // carol's own 0 bytes: no byte limit at all
    const carol = await store.openUser('carol');
    expect(await carol.quota()).toEqual({ bytes: 0, messages: 0, messagesLimit: 3 });
    await carol.release();
    // a change applies to what opens next (a delivery, a login), as Dovecot's userdb quota_rule
    own.set('alice', { messages: 5 });
    await store.delivery.deliver('alice', () => Readable.from([msg(3)]), { hostname: 'mx.test' });
    await alice.release();
    const again = await store.openUser('alice');
    expect(await again.quota()).toMatchObject({ messages: 2, messagesLimit: 5 });
    await again.release();
  });

  it('TOOBIG above the append limit', async () => {
    await store.close();
    store = open({ appendLimit: 10 });
    const user = await store.openUser('alice');
    await expect(user.append('INBOX', { content: msg(1) })).rejects.toMatchObject({ code: 'TOOBIG' });
    await user.release();
  });
});

describe("SEARCH's header cache and scans", () => {
  it('header records live in search_cache and go with their message or their folder', async () => {
    const user = await store.openUser('alice');
    await user.create('Work');
    for (let n = 1; n <= 3; n++) await user.append('Work', { content: msg(n) });
    const box = await user.open('Work', 'read-write');
    await box.snapshot();
    await box.saveMeta('header:subject', new Map([1, 2, 3].map((u) => [u, `1m${u}`])));
    await box.saveMeta('header:x-tag', new Map([[2, '0']]));
    const db = new Database(join(root, 'mailgate-index.sqlite'), { readonly: true });
    const rows = (): unknown[] => db.prepare('SELECT kind, uid FROM search_cache ORDER BY kind, uid').raw().all();
    expect(rows()).toEqual([['header:subject', 1], ['header:subject', 2], ['header:subject', 3], ['header:x-tag', 2]]);
    await box.setFlags([2], { mode: 'add', flags: ['\\Deleted'] });
    expect(await box.expunge()).toEqual([2]);
    expect(rows()).toEqual([['header:subject', 1], ['header:subject', 3]]);
    await box.close();
    await user.delete('Work');
    expect(rows()).toEqual([]);
    expect(db.prepare('SELECT count(*) FROM search_cache_kind').pluck().get()).toBe(0);
    db.close();
    await user.release();
  });

  it('a scan finds a file renamed behind its back, and never reads a symlink or a FIFO', async () => {
    const user = await store.openUser('alice');
    for (let n = 1; n <= 3; n++) await user.append('INBOX', { content: msg(n) });
    const box = await user.open('INBOX', 'read-write');
    await box.snapshot();
    const cur = join(root, 'cur');
    // In message order by content: names sort by time, and a microsecond count of fewer digits sorts late.
    const names = await files(cur);
    const contents = await Promise.all(names.map((n) => readFile(join(cur, n), 'latin1')));
    const [first, second, third] = [1, 2, 3].map((n) => names[contents.indexOf(msg(n).toString('latin1').replace(/\r\n/g, '\n'))]);
    // another program sets a flag on message 1 (a rename the index has not seen), and swaps message 2
    // for a symlink to message 3 and message 3 for a FIFO
    await rename(join(cur, first!), join(cur, `${first!.split(':')[0]!}:2,F`));
    await unlink(join(cur, second!));
    await symlink(join(cur, third!), join(cur, second!));
    await rename(join(cur, third!), join(tmp.path, 'third'));
    execFileSync('mkfifo', [join(cur, third!)]);
    const seen = new Map<number, string>();
    await box.scanContent([1, 2, 3], (uid, stored) => seen.set(uid, stored.toString()));
    expect([...seen]).toEqual([[1, msg(1).toString().replace(/\r\n/g, '\n')]]);
    await box.close();
    await user.release();
  });
});
