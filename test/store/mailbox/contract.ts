/**
 * The rules of src/store/mailbox/mailbox-store.ts as one suite, run against every implementation (the
 * in-memory reference and the Maildir store), as the greylist stores share theirs. A new store passes
 * this suite before anything else uses it.
 */
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { MailboxError, type MailboxStore, type MailboxErrorCode, type MessageRecord, type RecordColumns } from '../../../src/store/mailbox/mailbox-store.js';

export interface ContractStoreOptions {
  readonly quotaBytes?: number;
  readonly quotaMessages?: number;
  readonly appendLimit?: number;
}

export type ContractStoreFactory = (options: ContractStoreOptions) => Promise<{ readonly store: MailboxStore; cleanup(): Promise<void> }>;

const ALICE = 'alice@example.org';
const BOB = 'bob@example.org';

export function message(subject: string, body = 'Hello.\r\n'): Buffer {
  return Buffer.from(`From: a@example.org\r\nTo: b@example.org\r\nSubject: ${subject}\r\n\r\n${body}`);
}

async function refused(promise: Promise<unknown>, code: MailboxErrorCode): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected MailboxError ${code}`).toBeInstanceOf(MailboxError);
  expect((err as MailboxError).code).toBe(code);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

/** records()' columns as one record per message, to compare with a snapshot's records. */
function rows(c: RecordColumns): MessageRecord[] {
  expect(new Set([c.uids.length, c.flags.length, c.modseqs.length, c.vsizes.length]).size).toBe(1);
  return c.uids.map((uid, i) => ({ uid, flags: c.flags[i]!, modseq: c.modseqs[i]!, vsize: c.vsizes[i]! }));
}

export function mailboxStoreContract(name: string, factory: ContractStoreFactory): void {
  describe(`mailbox store contract: ${name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });
    async function open(options: ContractStoreOptions = {}): Promise<MailboxStore> {
      const { store, cleanup } = await factory(options);
      cleanups.push(async () => {
        await store.close();
        await cleanup();
      });
      return store;
    }

    it('gives every user INBOX and the special-use folders, subscribed', async () => {
      const user = await (await open()).openUser(ALICE);
      const list = await user.list();
      expect(list.map((m) => m.name)).toEqual(['INBOX', ...['Drafts', 'Junk', 'Sent', 'Trash']]);
      expect(list.find((m) => m.name === 'Sent')).toMatchObject({ specialUse: '\\Sent', subscribed: true, selectable: true });
      expect(list.find((m) => m.name === 'INBOX')?.specialUse).toBeUndefined();
    });

    it('appends, lists in a snapshot and returns the bytes', async () => {
      const user = await (await open()).openUser(ALICE);
      const first = await user.append('INBOX', { content: message('one'), flags: ['\\Seen', 'work'], internalDate: { ms: Date.UTC(2024, 0, 2, 3, 4, 5), tzMinutes: 60 } });
      const second = await user.append('inbox', { content: message('two') });
      expect(second.uid).toBeGreaterThan(first.uid);
      expect(second.uidValidity).toBe(first.uidValidity);
      const box = await user.open('INBOX', 'read-write');
      const snap = await box.snapshot();
      expect(snap.records.map((r) => r.uid)).toEqual([first.uid, second.uid]);
      expect([...snap.records[0]!.flags].sort()).toEqual(['\\Seen', 'work']);
      expect(snap.records[0]!.vsize).toBe(message('one').length);
      expect(snap.status).toMatchObject({ messages: 2, unseen: 1, uidValidity: first.uidValidity, uidNext: second.uid + 1 });
      expect(snap.status.keywords).toContain('work');
      const [details] = await box.details([first.uid]);
      expect(details!.internalDate.ms).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
      const content = await box.openContent(second.uid);
      const bytes = await content!.readAll();
      expect(bytes.toString().replace(/\r\n/g, '\n')).toBe(message('two').toString().replace(/\r\n/g, '\n'));
      expect(bytes.subarray(0, 5).equals(await readAll(content!.read(0, 5)))).toBe(true);
      await content!.close();
      await box.close();
    });

    it('gives the snapshot as parallel arrays that agree with its records, and records() of any UIDs', async () => {
      const user = await (await open()).openUser(ALICE);
      const uids: number[] = [];
      for (const [i, flags] of [['\\Seen'], ['\\Seen', 'work'], [], ['\\Flagged']].entries()) {
        uids.push((await user.append('INBOX', { content: message(`m${i}`), flags })).uid);
      }
      const box = await user.open('INBOX', 'read-write');
      const snap = await box.snapshot();
      expect(snap.list.uids).toEqual(uids);
      expect(snap.list.firstUnseen).toBe(2);
      snap.records.forEach((r, i) => {
        expect(snap.list.flags[i]).toEqual(r.flags);
        expect(snap.list.modseqs[i]).toBe(r.modseq);
        expect(snap.list.vsizes[i]).toBe(r.vsize);
      });
      // As columns, in the order given, unknown UIDs left out; the same records as the snapshot's.
      const picked = await box.records([uids[3]!, 999_999, uids[0]!]);
      expect(picked.uids).toEqual([uids[3], uids[0]]);
      expect(rows(picked)[1]).toEqual(snap.records[0]);
      expect(rows(picked)[0]).toEqual(snap.records[3]);
      // A run of the mailbox (a FETCH of a range), the whole of it, and none.
      expect(rows(await box.records(uids.slice(1, 3)))).toEqual(snap.records.slice(1, 3));
      expect(rows(await box.records(uids))).toEqual(snap.records);
      expect(rows(await box.records([]))).toEqual([]);
      // Ascending with a gap, and a UID asked twice.
      expect((await box.records([uids[0]!, uids[2]!, uids[3]!])).uids).toEqual([uids[0], uids[2], uids[3]]);
      expect((await box.records([uids[1]!, uids[1]!])).uids).toEqual([uids[1], uids[1]]);
      // A change through another handle shows in records() and the next snapshot, not in the list held.
      const other = await user.open('INBOX', 'read-write');
      await other.setFlags([uids[2]!], { mode: 'add', flags: ['\\Seen'] });
      await other.setFlags([uids[1]!], { mode: 'add', flags: ['\\Deleted'] });
      await other.expunge();
      expect((await box.records([uids[2]!])).flags).toEqual([['\\Seen']]);
      expect(rows(await box.records([uids[1]!]))).toEqual([]);
      // The run around the expunged message: the others, in order.
      expect((await box.records(uids)).uids).toEqual([uids[0], uids[2], uids[3]]);
      expect(snap.list.uids).toEqual(uids);
      expect(snap.list.flags[2]).toEqual([]);
      const again = await box.snapshot();
      expect(again.list.uids).toEqual([uids[0], uids[2], uids[3]]);
      expect(again.list.firstUnseen).toBe(2);
      expect(again.status).toMatchObject({ messages: 3, unseen: 1 });
      const next = (await user.append('INBOX', { content: message('late') })).uid;
      const changes = await box.changesSince(again.status.highestModseq);
      expect(changes.added.map((r) => r.uid)).toEqual([next]);
      expect((await box.snapshot()).list.uids).toEqual([uids[0], uids[2], uids[3], next]);
    });

    it('never reuses a UID, and a name created again gets a greater UIDVALIDITY', async () => {
      const user = await (await open()).openUser(ALICE);
      await user.create('Work');
      const a = await user.append('Work', { content: message('a'), flags: ['\\Deleted'] });
      const box = await user.open('Work', 'read-write');
      expect(await box.expunge()).toEqual([a.uid]);
      const b = await user.append('Work', { content: message('b') });
      expect(b.uid).toBeGreaterThan(a.uid);
      await box.close();
      await user.delete('Work');
      await user.create('Work');
      const c = await user.append('Work', { content: message('c') });
      expect(c.uidValidity).toBeGreaterThan(a.uidValidity);
    });

    it('raises MODSEQ with every change and reports changes to other handles', async () => {
      const user = await (await open()).openUser(ALICE);
      const { uid } = await user.append('INBOX', { content: message('m') });
      const one = await user.open('INBOX', 'read-write');
      const two = await user.open('INBOX', 'read-write');
      const s1 = await one.snapshot();
      const s2 = await two.snapshot();
      const before = s1.status.highestModseq;
      const { updated } = await one.setFlags([uid], { mode: 'add', flags: ['\\Flagged'] });
      expect(updated[0]!.modseq).toBeGreaterThan(before);
      const seen = await two.changesSince(s2.status.highestModseq);
      expect(seen.changed.map((r) => [r.uid, r.flags])).toEqual([[uid, ['\\Flagged']]]);
      expect(seen.highestModseq).toBe(updated[0]!.modseq);
      const added = await user.append('INBOX', { content: message('n') });
      const next = await two.changesSince(seen.highestModseq);
      expect(next.added.map((r) => r.uid)).toEqual([added.uid]);
      expect(next.highestModseq).toBeGreaterThan(seen.highestModseq);
      await one.setFlags([uid], { mode: 'add', flags: ['\\Deleted'] });
      await one.expunge();
      const gone = await two.changesSince(next.highestModseq);
      expect(gone.expunged).toEqual([uid]);
      expect(gone.highestModseq).toBeGreaterThan(next.highestModseq);
      const quiet = await two.changesSince(gone.highestModseq);
      expect([quiet.added, quiet.changed, quiet.expunged]).toEqual([[], [], []]);
      await one.close();
      await two.close();
    });

    it('lets one read-write session claim each message as \\Recent', async () => {
      const user = await (await open()).openUser(ALICE);
      const { uid } = await user.append('INBOX', { content: message('r') });
      expect((await user.status('INBOX')).recent).toBe(1);
      const reader = await user.open('INBOX', 'read-only');
      expect((await reader.snapshot()).recent).toEqual([]);
      const first = await user.open('INBOX', 'read-write');
      expect((await first.snapshot()).recent).toEqual([uid]);
      const second = await user.open('INBOX', 'read-write');
      expect((await second.snapshot()).recent).toEqual([]);
      expect((await user.status('INBOX')).recent).toBe(0);
      const later = await user.append('INBOX', { content: message('s') });
      const changes = await second.changesSince(0);
      expect(changes.recent).toEqual([later.uid]);
      expect((await first.changesSince(0)).recent).toEqual([]);
      for (const box of [reader, first, second]) await box.close();
    });

    it('changes flags by add, remove and replace, with UNCHANGEDSINCE', async () => {
      const user = await (await open()).openUser(ALICE);
      const { uid } = await user.append('INBOX', { content: message('f') });
      const box = await user.open('INBOX', 'read-write');
      const snap = await box.snapshot();
      await box.setFlags([uid], { mode: 'add', flags: ['\\Seen', 'todo'] });
      await box.setFlags([uid], { mode: 'remove', flags: ['\\Seen'] });
      let [r] = await box.details([uid]);
      expect([...r!.flags].sort()).toEqual(['todo']);
      await box.setFlags([uid], { mode: 'replace', flags: ['\\Answered'] });
      [r] = await box.details([uid]);
      expect(r!.flags).toEqual(['\\Answered']);
      const stale = await box.setFlags([uid], { mode: 'add', flags: ['\\Flagged'] }, { unchangedSince: snap.status.highestModseq });
      expect(stale).toEqual({ updated: [], modified: [uid] });
      const unchanged = await box.setFlags([uid], { mode: 'add', flags: ['\\Answered'] });
      expect(unchanged.updated[0]!.modseq).toBe(r!.modseq);
      await box.close();
    });

    it('refuses changes through a read-only handle', async () => {
      const user = await (await open()).openUser(ALICE);
      const { uid } = await user.append('INBOX', { content: message('x'), flags: ['\\Deleted'] });
      const box = await user.open('INBOX', 'read-only');
      await refused(box.setFlags([uid], { mode: 'add', flags: ['\\Seen'] }), 'NOPERM');
      await refused(box.expunge(), 'NOPERM');
      await box.close();
    });

    it('copies and moves with UIDPLUS results, and expunges only \\Deleted ones (within uids for UID EXPUNGE)', async () => {
      const user = await (await open()).openUser(ALICE);
      const a = await user.append('INBOX', { content: message('a'), flags: ['\\Deleted'] });
      const b = await user.append('INBOX', { content: message('b'), flags: ['\\Deleted'] });
      const c = await user.append('INBOX', { content: message('c'), flags: ['\\Seen'] });
      const box = await user.open('INBOX', 'read-write');
      await box.snapshot();
      const copied = await box.copy([a.uid, c.uid], 'Trash');
      expect(copied.uidValidity).toBe((await user.status('Trash')).uidValidity);
      expect(copied.pairs.map(([from]) => from)).toEqual([a.uid, c.uid]);
      const trash = await user.open('Trash', 'read-only');
      const trashSnap = await trash.snapshot();
      expect(trashSnap.records.map((r) => r.uid)).toEqual(copied.pairs.map(([, to]) => to));
      expect(trashSnap.records[1]!.flags).toEqual(['\\Seen']);
      expect(await box.expunge([b.uid])).toEqual([b.uid]);
      const moved = await box.move([c.uid], 'Drafts');
      expect(moved.pairs.map(([from]) => from)).toEqual([c.uid]);
      expect((await box.changesSince(0)).expunged).toEqual([b.uid, c.uid]);
      expect((await user.status('INBOX')).messages).toBe(1);
      expect((await user.status('Drafts')).messages).toBe(1);
      await refused(box.copy([a.uid], 'Nowhere'), 'NONEXISTENT');
      await box.close();
      await trash.close();
    });

    it('creates, renames with children, deletes, and lists parents that were never created as \\Noselect', async () => {
      const user = await (await open()).openUser(ALICE);
      await user.create('Projects/2024/Q1');
      let list = await user.list();
      expect(list.find((m) => m.name === 'Projects')).toMatchObject({ selectable: false, hasChildren: true });
      expect(list.find((m) => m.name === 'Projects/2024/Q1')).toMatchObject({ selectable: true, hasChildren: false });
      await refused(user.create('Projects/2024/Q1'), 'ALREADYEXISTS');
      await user.create('Projects');
      await user.append('Projects/2024/Q1', { content: message('q') });
      await user.rename('Projects', 'Archive');
      list = await user.list();
      expect(list.some((m) => m.name.startsWith('Projects'))).toBe(false);
      expect((await user.status('Archive/2024/Q1')).messages).toBe(1);
      await refused(user.rename('Archive', 'Sent'), 'ALREADYEXISTS');
      await refused(user.rename('Nothing', 'Else'), 'NONEXISTENT');
      await user.delete('Archive');
      list = await user.list();
      expect(list.find((m) => m.name === 'Archive')).toMatchObject({ selectable: false, hasChildren: true });
      await refused(user.open('Archive', 'read-only'), 'NONEXISTENT');
      await refused(user.delete('INBOX'), 'CANNOT');
      await refused(user.delete('Nothing'), 'NONEXISTENT');
    });

    it('renames INBOX by moving its messages and leaving it empty', async () => {
      const user = await (await open()).openUser(ALICE);
      await user.append('INBOX', { content: message('1') });
      await user.append('INBOX', { content: message('2') });
      await user.rename('INBOX', 'Old');
      expect((await user.status('Old')).messages).toBe(2);
      expect((await user.status('INBOX')).messages).toBe(0);
    });

    // Review finding (issue 11), checked: RENAME of an open (selected) folder keeps the handle consistent —
    // it follows the folder to its new name (Dovecot instead ends such a session as inconsistent).
    it('a handle open on a folder follows it through RENAME', async () => {
      const user = await (await open()).openUser(ALICE);
      await user.create('Work');
      await user.append('Work', { content: message('w') });
      const box = await user.open('Work', 'read-write');
      expect((await box.snapshot()).records).toHaveLength(1);
      await user.rename('Work', 'Work2');
      await user.append('Work2', { content: message('x') });
      const after = await box.snapshot();
      expect(box.name).toBe('Work2');
      expect(after.records).toHaveLength(2);
      expect(after.status.messages).toBe(2);
      await box.close();
    });

    it('keeps subscriptions, also to names that do not exist', async () => {
      const user = await (await open()).openUser(ALICE);
      await user.create('News');
      await user.subscribe('News', true);
      await user.subscribe('Ghost', true);
      expect((await user.list()).find((m) => m.name === 'News')?.subscribed).toBe(true);
      await user.subscribe('News', false);
      expect((await user.list()).find((m) => m.name === 'News')?.subscribed).toBe(false);
      // subscriptions() has them all, a name that is no folder (any more) too (LSUB lists it).
      await user.create('Gone');
      await user.subscribe('Gone', true);
      await user.delete('Gone');
      const names = await user.subscriptions();
      expect(names).toContain('Ghost');
      expect(names).toContain('Gone');
      expect(names).toContain('INBOX');
      expect(names).not.toContain('News');
    });

    it('lists every subscription, also one whose folder was deleted (RFC 3501 §6.3.9)', async () => {
      const user = await (await open()).openUser(ALICE);
      await user.create('Old');
      await user.subscribe('Old', true);
      await user.delete('Old');
      expect(await user.subscriptions()).toContain('Old');
      expect((await user.list()).some((m) => m.name === 'Old')).toBe(false);
      await user.subscribe('Old', false);
      expect(await user.subscriptions()).not.toContain('Old');
    });

    it('refuses names that are paths, wildcards or empty levels, and keeps users apart', async () => {
      const store = await open();
      const alice = await store.openUser(ALICE);
      const bob = await store.openUser(BOB);
      await bob.append('INBOX', { content: message('secret') });
      for (const bad of ['../bob/INBOX', 'INBOX/../../x', '.', '..', 'a/../b', '/etc', 'INBOX/', '//x', 'a%', 'b*', 'a\u0000b', ''])
        await refused(alice.create(bad), 'CANNOT');
      await refused(alice.open('../bob@example.org/INBOX', 'read-only'), 'CANNOT');
      expect((await alice.status('INBOX')).messages).toBe(0);
      expect((await bob.status('INBOX')).messages).toBe(1);
      expect((await alice.list()).map((m) => m.name)).not.toContain('bob');
      expect((await alice.status('inbox')).uidValidity).toBe((await alice.status('INBOX')).uidValidity);
      await alice.create('Sent/sub');
      await refused(alice.status('sent/sub'), 'NONEXISTENT');
    });

    it('refuses what does not fit the quota or the size limit, and leaves nothing behind', async () => {
      const store = await open({ quotaBytes: 300, appendLimit: 250 });
      const user = await store.openUser(ALICE);
      const big = message('big', 'x'.repeat(260));
      await refused(user.append('INBOX', { content: big }), 'TOOBIG');
      const fits = message('fits', 'y'.repeat(150));
      const { uid } = await user.append('INBOX', { content: fits });
      await refused(user.append('INBOX', { content: fits }), 'OVERQUOTA');
      const box = await user.open('INBOX', 'read-write');
      await box.snapshot();
      await refused(box.copy([uid], 'Trash'), 'OVERQUOTA');
      await refused(
        store.delivery.deliver(ALICE, () => Readable.from([fits]), { hostname: 'mx.example.org' }),
        'OVERQUOTA',
      );
      expect((await user.status('Trash')).messages).toBe(0);
      expect((await user.status('INBOX')).messages).toBe(1);
      const usage = await user.quota();
      expect(usage).toMatchObject({ messages: 1, bytesLimit: 300 });
      expect(usage.bytes).toBe(fits.length);
      await box.close();
    });

    it('announces a delivery to watching handles', async () => {
      const store = await open();
      const user = await store.openUser(ALICE);
      const box = await user.open('INBOX', 'read-write');
      await box.snapshot();
      let woken = 0;
      const stop = box.watch(() => woken++);
      const written = await store.delivery.deliver(ALICE, () => Readable.from([message('d')]), { hostname: 'mx.example.org' });
      expect(written.vsize).toBeGreaterThanOrEqual(written.size);
      for (let i = 0; i < 100 && woken === 0; i++) await tick();
      expect(woken).toBeGreaterThan(0);
      expect((await box.changesSince(0)).added).toHaveLength(1);
      stop();
      await box.close();
    });

    it('holds the POP3 maildrop lock for one session at a time', async () => {
      const store = await open();
      const user = await store.openUser(ALICE);
      const lock = await user.lockMaildrop('pop3-1');
      expect(lock).toBeDefined();
      expect(await user.lockMaildrop('pop3-2')).toBeUndefined();
      await lock!.release();
      const again = await user.lockMaildrop('pop3-3');
      expect(again).toBeDefined();
      await again!.release();
    });

    it('keeps derived data per message', async () => {
      const user = await (await open()).openUser(ALICE);
      const { uid } = await user.append('INBOX', { content: message('m') });
      const box = await user.open('INBOX', 'read-only');
      await box.snapshot();
      expect((await box.meta([uid], 'structure')).size).toBe(0);
      await box.saveMeta('structure', new Map([[uid, '{"type":"text"}']]));
      expect((await box.meta([uid, uid + 1], 'structure')).get(uid)).toBe('{"type":"text"}');
      await box.close();
    });

    it('reads many small messages whole in one call, leaving out larger and expunged ones', async () => {
      const user = await (await open()).openUser(ALICE);
      const contents = [message('s1'), message('s2'), Buffer.concat([message('big'), Buffer.alloc(3000, 0x61)]), message('s3')];
      const uids: number[] = [];
      for (const content of contents) uids.push((await user.append('INBOX', { content })).uid);
      const box = await user.open('INBOX', 'read-write');
      await box.snapshot();
      await box.setFlags([uids[3]!], { mode: 'add', flags: ['\\Deleted'] });
      await box.expunge();
      const got = await box.readSmall([...uids, uids[3]! + 1], 2000);
      expect([...got.keys()].sort((a, b) => a - b)).toEqual([uids[0], uids[1]]);
      // the stored form, as openContent reads it
      const stored = async (uid: number): Promise<Buffer> => {
        const content = (await box.openContent(uid))!;
        try {
          return await content.readAll();
        } finally {
          await content.close();
        }
      };
      expect(got.get(uids[0]!)).toEqual(await stored(uids[0]!));
      expect(got.get(uids[1]!)).toEqual(await stored(uids[1]!));
      expect((await box.readSmall(uids, 1 << 20)).get(uids[2]!)).toEqual(await stored(uids[2]!));
      // more than one group of file lookups (the Maildir store's), every one read once and in full
      const many: number[] = [];
      for (let i = 0; i < 140; i++) many.push((await user.append('INBOX', { content: message(`many ${i}`) })).uid);
      await box.changesSince(0);
      const all = await box.readSmall(many, 2000);
      expect(all.size).toBe(many.length);
      // every one (the Maildir store reads small files into views of shared slabs: none may overlap another)
      for (const uid of many) expect(all.get(uid)).toEqual(await stored(uid));
      await box.close();
    });

    it('reads the derived data of many messages at once, only the kind and the UIDs asked, and drops it with the message', async () => {
      const user = await (await open()).openUser(ALICE);
      const uids: number[] = [];
      for (let i = 0; i < 20; i++) uids.push((await user.append('INBOX', { content: message(`m${i}`) })).uid);
      const box = await user.open('INBOX', 'read-write');
      await box.snapshot();
      // 8-bit text (one char per byte, as FETCH's texts are) comes back as it went in
      await box.saveMeta('fetch-text', new Map(uids.filter((_, i) => i % 3 !== 0).map((u) => [u, `F1 \xe9${u}`])));
      await box.saveMeta('structure', new Map(uids.map((u) => [u, `{"uid":${u}}`])));
      const asked = uids.filter((_, i) => i % 2 === 0);
      const got = await box.meta([...asked, uids[uids.length - 1]! + 1], 'fetch-text');
      expect([...got.keys()].sort((a, b) => a - b)).toEqual(asked.filter((u) => uids.indexOf(u) % 3 !== 0));
      for (const [u, v] of got) expect(v).toBe(`F1 \xe9${u}`);
      expect((await box.meta(uids, 'structure')).size).toBe(uids.length);
      await box.setFlags([uids[4]!], { mode: 'add', flags: ['\\Deleted'] });
      await box.expunge();
      expect((await box.meta(uids, 'structure')).has(uids[4]!)).toBe(false);
      expect((await box.meta(uids, 'structure')).size).toBe(uids.length - 1);
      await box.close();
    });

    it('keeps header records per field, read over a UID range, gone with their message', async () => {
      const user = await (await open()).openUser(ALICE);
      const uids: number[] = [];
      for (let i = 0; i < 8; i++) uids.push((await user.append('INBOX', { content: message(`m${i}`) })).uid);
      const box = await user.open('INBOX', 'read-write');
      await box.snapshot();
      await box.saveMeta('header:subject', new Map(uids.map((u) => [u, `1m${u}`])));
      await box.saveMeta('header:x-tag', new Map([[uids[2]!, '0']]));
      // an unknown UID is not kept
      await box.saveMeta('header:subject', new Map([[uids[7]! + 100, '1ghost']]));
      const some = [uids[1]!, uids[3]!, uids[4]!, uids[7]! + 100];
      expect([...(await box.meta(some, 'header:subject'))]).toEqual(some.slice(0, 3).map((u) => [u, `1m${u}`]));
      expect([...(await box.meta([uids[0]!, uids[7]!], 'header:subject'))]).toEqual([[uids[0]!, `1m${uids[0]!}`], [uids[7]!, `1m${uids[7]!}`]]);
      expect([...(await box.meta(uids, 'header:x-tag'))]).toEqual([[uids[2]!, '0']]);
      expect((await box.meta(uids, 'structure')).size).toBe(0);
      // only the records holding a text, and the messages without a record
      await box.saveMeta('header:x-tag', new Map([[uids[5]!, '1beta gamma']]));
      const hits = await box.metaContaining(uids, 'header:x-tag', 'gam');
      expect([...hits.found]).toEqual([[uids[5]!, '1beta gamma']]);
      expect(hits.missing).toEqual(uids.filter((u) => u !== uids[2] && u !== uids[5]));
      const subjects = await box.metaContaining(uids.slice(0, 4), 'header:subject', `m${uids[1]!}`);
      expect([...subjects.found]).toEqual([[uids[1]!, `1m${uids[1]!}`]]);
      expect(subjects.missing).toEqual([]);
      await box.setFlags([uids[3]!], { mode: 'add', flags: ['\\Deleted'] });
      await box.expunge();
      expect([...(await box.meta(uids, 'header:subject')).keys()]).toEqual(uids.filter((u) => u !== uids[3]));
      await box.close();
    });

    it('hands the stored bytes of many messages to a scan, the gone ones left out', async () => {
      const user = await (await open()).openUser(ALICE);
      const uids: number[] = [];
      for (let i = 0; i < 20; i++) uids.push((await user.append('INBOX', { content: message(`m${i}`, 'x'.repeat(i * 1000)) })).uid);
      const box = await user.open('INBOX', 'read-write');
      await box.snapshot();
      await box.setFlags([uids[5]!], { mode: 'add', flags: ['\\Deleted'] });
      await box.expunge();
      const seen = new Map<number, Buffer>();
      await box.scanContent([...uids, uids[19]! + 1], (uid, stored) => {
        expect(seen.has(uid)).toBe(false);
        // valid during the call only: kept as a copy
        seen.set(uid, Buffer.from(stored));
      });
      expect([...seen.keys()].sort((a, b) => a - b)).toEqual(uids.filter((u) => u !== uids[5]));
      for (const [uid, stored] of seen) {
        const content = (await box.openContent(uid))!;
        expect(stored.equals(await content.readAll())).toBe(true);
        await content.close();
      }
      await box.scanContent([], () => expect.fail('nothing to scan'));
      await box.close();
    });
  });
}
