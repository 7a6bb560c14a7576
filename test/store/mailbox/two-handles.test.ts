/**
 * Changes made through one handle reach the others: in one process through the change hub (watch fires at
 * once), between processes through the shared index and the files (a second store on the same Maildir
 * stands for another process), and a file written by another program wakes a watcher through fs.watch.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Mailbox, MailboxStore } from '../../../src/store/mailbox/mailbox-store.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

let tmp: TempDir;
const stores: MailboxStore[] = [];

function open(): MailboxStore {
  const store = openMaildirMailboxStore({ maildirOf: (u) => join(tmp.path, 'mail', u), hostname: 'mx.test' });
  stores.push(store);
  return store;
}

beforeEach(async () => {
  tmp = await makeTempDir('two-handles');
});
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await tmp.remove();
});

/** Resolves at the listener's next call; a hang guard fails the test instead of timing it out silently. */
function nextCall(box: Mailbox): { fired: Promise<void>; stop: () => void } {
  let stop = (): void => undefined;
  const fired = new Promise<void>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error('watch did not fire within 10 s')), 10_000);
    stop = box.watch(() => {
      clearTimeout(guard);
      resolve();
    });
  });
  return { fired, stop: () => stop() };
}

const body = (n: number): Buffer => Buffer.from(`Subject: ${n}\r\n\r\n${n}\r\n`);

it('one process: a change through one handle shows at the other\'s changesSince, and watch fires for delivery', async () => {
  const store = open();
  const a = await (await store.openUser('alice')).open('INBOX', 'read-write');
  const bUser = await store.openUser('alice');
  const b = await bUser.open('INBOX', 'read-write');
  const seen = (await b.snapshot()).status.highestModseq;

  const delivered = nextCall(b);
  await store.delivery.deliver('alice', () => Readable.from([body(1)]), { hostname: 'mx.test' });
  await delivered.fired;
  delivered.stop();
  const first = await b.changesSince(seen);
  expect(first.added.map((r) => r.uid)).toEqual([1]);
  expect(first.recent).toEqual([1]);

  await a.snapshot();
  const flagged = nextCall(b);
  await a.setFlags([1], { mode: 'add', flags: ['\\Seen'] });
  await flagged.fired;
  flagged.stop();
  const second = await b.changesSince(first.highestModseq);
  expect(second.changed.map((r) => [r.uid, r.flags])).toEqual([[1, ['\\Seen']]]);

  await a.setFlags([1], { mode: 'add', flags: ['\\Deleted'] });
  await a.expunge();
  expect((await b.changesSince(second.highestModseq)).expunged).toEqual([1]);
  await a.close();
  await b.close();
});

it('two processes (two stores on one Maildir): the other sees appends, flag changes and expunges', async () => {
  const one = await open().openUser('alice');
  const two = await open().openUser('alice');
  const a = await one.open('INBOX', 'read-write');
  const b = await two.open('INBOX', 'read-only');
  const start = (await b.snapshot()).status.highestModseq;
  const { uid } = await one.append('INBOX', { content: body(1) });
  await one.append('INBOX', { content: body(2) });
  const seen = await b.changesSince(start);
  expect(seen.added.map((r) => r.uid)).toEqual([uid, uid + 1]);
  await a.snapshot();
  await a.setFlags([uid], { mode: 'add', flags: ['\\Flagged', 'later'] });
  const changed = await b.changesSince(seen.highestModseq);
  expect(changed.changed.map((r) => [r.uid, [...r.flags].sort()])).toEqual([[uid, ['\\Flagged', 'later']]]);
  await a.setFlags([uid + 1], { mode: 'add', flags: ['\\Deleted'] });
  await a.expunge();
  expect((await b.changesSince(changed.highestModseq)).expunged).toEqual([uid + 1]);
  // And the UIDs both hand out never collide.
  const fromTwo = await two.append('INBOX', { content: body(3) });
  expect(fromTwo.uid).toBe(uid + 2);
  await a.close();
  await b.close();
});

it('a file another program drops into new/ wakes a watcher (fs.watch)', async () => {
  const store = open();
  const user = await store.openUser('alice');
  const box = await user.open('INBOX', 'read-write');
  await box.snapshot();
  const woke = nextCall(box);
  await writeFile(join(tmp.path, 'mail', 'alice', 'new', '1700000000.M1P9.other,S=3,W=4'), 'x\ny');
  await woke.fired;
  woke.stop();
  expect((await box.changesSince(0)).added.map((r) => r.vsize)).toEqual([4]);
  await box.close();
});

it('the POP3 maildrop lock holds against another store on the same Maildir, and a dead holder\'s row is taken over', async () => {
  const one = await open().openUser('alice');
  const two = await open().openUser('alice');
  const lock = await one.lockMaildrop('pop3 session 1');
  expect(lock).toBeDefined();
  expect(await two.lockMaildrop('pop3 session 2')).toBeUndefined();
  await lock?.release();
  const second = await two.lockMaildrop('pop3 session 2');
  expect(second).toBeDefined();
  await second?.release();

  // A row left by a process that is gone (a pid no process has) does not lock anyone out.
  const { openIndexDb } = await import('../../../src/store/mailbox/index-db.js');
  const db = openIndexDb(join(tmp.path, 'mail', 'alice'));
  db.putLock.run('maildrop', 'crashed', 2 ** 22 + 12345, Date.now());
  db.close();
  const third = await one.lockMaildrop('pop3 session 3');
  expect(third).toBeDefined();
  await third?.release();
});

it('concurrent appends, deliveries and flag changes from several handles and two stores: unique UIDs, a uidlist in order', async () => {
  const stores = [open(), open()];
  const users = await Promise.all([stores[0]!.openUser('alice'), stores[0]!.openUser('alice'), stores[1]!.openUser('alice')]);
  const work: Promise<unknown>[] = [];
  for (let i = 0; i < 30; i++) {
    const user = users[i % users.length]!;
    work.push(user.append('INBOX', { content: body(i), flags: i % 2 === 0 ? ['\\Seen'] : [] }));
    work.push(stores[i % 2]!.delivery.deliver('alice', () => Readable.from([body(100 + i)]), { hostname: 'mx.test' }));
  }
  const box = await users[2]!.open('INBOX', 'read-write');
  work.push(box.snapshot().then((s) => box.setFlags(s.records.map((r) => r.uid), { mode: 'add', flags: ['\\Flagged'] })));
  await Promise.all(work);
  const snap = await box.snapshot();
  const uids = snap.records.map((r) => r.uid);
  expect(uids).toEqual([...Array(60).keys()].map((k) => k + 1));
  const lines = (await readFile(join(tmp.path, 'mail', 'alice', 'dovecot-uidlist'), 'utf8')).split('\n').slice(1).filter(Boolean);
  expect(lines.map((l) => Number(l.split(' ')[0]))).toEqual(uids);
  await box.close();
  for (const user of users) await user.release();
});

it('concurrent moves, copies, expunges and flag changes from two stores keep every message exactly once', async () => {
  const one = await open().openUser('alice');
  const two = await open().openUser('alice');
  for (let i = 0; i < 20; i++) await one.append('INBOX', { content: body(i), flags: i % 4 === 0 ? ['\\Deleted'] : [] });
  const a = await one.open('INBOX', 'read-write');
  const b = await two.open('INBOX', 'read-write');
  await Promise.all([a.snapshot(), b.snapshot()]);
  const odd = [...Array(10).keys()].map((k) => 2 * k + 1);
  const results = await Promise.allSettled([
    a.move(odd, 'Trash'),
    b.copy([2, 4, 6, 8, 10], 'Drafts'),
    b.expunge(),
    a.setFlags([2, 3, 6, 7], { mode: 'add', flags: ['\\Flagged'] }),
    b.setFlags([1, 5, 9], { mode: 'add', flags: ['$Later'] }),
  ]);
  expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
  // Every original message is in INBOX or Trash exactly once (the expunged \Deleted ones in neither).
  const subjects = async (user: typeof one, name: string): Promise<string[]> => {
    const box = await user.open(name, 'read-only');
    const snap = await box.snapshot();
    const out: string[] = [];
    for (const r of snap.records) {
      const content = await box.openContent(r.uid);
      out.push(/Subject: (\d+)/.exec((await content!.readAll()).toString())?.[1] ?? '?');
      await content!.close();
    }
    await box.close();
    return out;
  };
  const inbox = await subjects(two, 'INBOX');
  const trash = await subjects(one, 'Trash');
  const all = [...inbox, ...trash].map(Number).sort((x, y) => x - y);
  expect(new Set(all).size).toBe(all.length);
  for (let i = 0; i < 20; i++) if (i % 4 !== 0) expect(all).toContain(i);
  await a.close();
  await b.close();
  await one.release();
  await two.release();
});
