/**
 * UIDs another writer of dovecot-uidlist gave (Dovecot's LDA or IMAP on the same Maildir): the uidlist,
 * under its lock, is the authority for the next UID (Dovecot's rule), so Mailgate never gives such a UID to
 * another message, the file it belongs to keeps it, and the uidlist stays ascending (readable by Dovecot).
 * The other writer is played by hand (a line appended as Dovecot appends, the header's N raised as its
 * rewrite does) and by a real Dovecot IMAP session appending to the Maildir Mailgate has open.
 */
import { existsSync } from 'node:fs';
import { appendFile, readFile, readdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { MailboxStore } from '../../../src/store/mailbox/mailbox-store.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { formatUidlist, parseUidlist, type Uidlist } from '../../../src/store/maildir/uidlist.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';
import { appendCommand, dovecotSession, requireDovecot } from '../maildir/dovecot-preauth.js';
import { message } from './contract.js';

let tmp: TempDir | undefined;
let store: MailboxStore | undefined;
afterEach(async () => {
  await store?.close();
  await tmp?.remove();
  store = tmp = undefined;
});

async function setup(): Promise<{ maildir: string; user: Awaited<ReturnType<MailboxStore['openUser']>> }> {
  tmp = await makeTempDir('foreign-uids');
  const maildir = join(await tmp.sub('mail'), 'alice');
  store = openMaildirMailboxStore({ maildirOf: () => maildir, hostname: 'mx.example.org' });
  const user = await store.openUser('alice');
  for (const s of ['one', 'two', 'three']) await user.append('INBOX', { content: message(s) });
  return { maildir, user };
}

async function uidlistOf(maildir: string): Promise<Uidlist> {
  return parseUidlist(await readFile(join(maildir, 'dovecot-uidlist'), 'utf8'));
}

/** What Dovecot's delivery does: the file into new/, its line appended with the next UID (N left as it is). */
async function dovecotDelivers(maildir: string, base: string, uid: number, subject: string): Promise<void> {
  await writeFile(join(maildir, 'new', base), message(subject));
  await appendFile(join(maildir, 'dovecot-uidlist'), `${uid} :${base}\n`);
}

/** The folder's UIDs and subjects as a fresh session of `user` sees them. */
async function subjects(user: Awaited<ReturnType<MailboxStore['openUser']>>): Promise<Map<number, string>> {
  const box = await user.open('INBOX', 'read-only');
  try {
    const { list } = await box.snapshot();
    const out = new Map<number, string>();
    for (const uid of list.uids) {
      const content = await box.openContent(uid);
      const text = (await content!.readAll()).toString('utf8');
      await content!.close();
      out.set(uid, /^Subject: (.*?)\r?$/m.exec(text)?.[1] ?? '');
    }
    return out;
  } finally {
    await box.close();
  }
}

it('an APPEND after a line Dovecot appended (N not raised) takes the UID after it; the file keeps its UID', async () => {
  const { maildir, user } = await setup();
  const box = await user.open('INBOX', 'read-write');
  await box.snapshot();
  await dovecotDelivers(maildir, '1700000000.M1P1.dovecot', 4, 'from dovecot');
  // No sync in between: the APPEND is the first to see the line.
  expect((await user.append('INBOX', { content: message('four') })).uid).toBe(5);
  const list = await uidlistOf(maildir);
  expect(list.records.map((r) => r.uid)).toEqual([1, 2, 3, 4, 5]);
  expect(list.records[3]!.base).toBe('1700000000.M1P1.dovecot');
  expect(
    await subjects(user),
  ).toEqual(
    new Map([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
      [4, 'from dovecot'],
      [5, 'four'],
    ]),
  );
  // The open session learns of both, with those UIDs.
  const changes = await box.changesSince(0);
  expect(changes.uidNext).toBe(6);
  await box.close();
});

it('a sync of a file Dovecot gave a UID keeps it, and the uidlist gets no second line for it', async () => {
  const { maildir, user } = await setup();
  expect((await user.status('INBOX')).uidNext).toBe(4); // scanned: the next sync reads new/ only
  await dovecotDelivers(maildir, '1700000000.M1P1.dovecot', 4, 'from dovecot');
  const st = await user.status('INBOX');
  expect(st.messages).toBe(4);
  expect(st.uidNext).toBe(5);
  expect((await uidlistOf(maildir)).records.map((r) => r.uid)).toEqual([1, 2, 3, 4]);
  expect((await subjects(user)).get(4)).toBe('from dovecot');
});

it("no UID below the header's N is given (Dovecot rewrote the file after giving and expunging UIDs 4 and 5)", async () => {
  const { maildir, user } = await setup();
  const before = await uidlistOf(maildir);
  await writeFile(join(maildir, 'dovecot-uidlist'), formatUidlist({ header: { ...before.header, nextUid: 6 }, records: before.records }));
  expect((await user.append('INBOX', { content: message('four') })).uid).toBe(6);
  const after = await uidlistOf(maildir);
  expect(after.records.map((r) => r.uid)).toEqual([1, 2, 3, 6]);
  expect((await user.status('INBOX')).uidNext).toBe(7);
});

it('a file Dovecot gave a UID, listed twice in cur/ (a readdir racing its rename), is indexed once with that UID', async () => {
  const { maildir, user } = await setup();
  const base = '1700000000.M1P1.dovecot';
  await writeFile(join(maildir, 'cur', `${base}:2,`), message('from dovecot'));
  await writeFile(join(maildir, 'cur', `${base}:2,S`), message('from dovecot'));
  await appendFile(join(maildir, 'dovecot-uidlist'), `4 :${base}\n`);
  // Used to fail with UNIQUE constraint failed: message.mailbox, message.base (after the file was written).
  expect((await user.append('INBOX', { content: message('four') })).uid).toBe(5);
  expect((await uidlistOf(maildir)).records.map((r) => r.uid)).toEqual([1, 2, 3, 4, 5]);
  expect((await subjects(user)).get(4)).toBe('from dovecot');
});

it('a line Dovecot appended whose file a read missed gives that file a new UID when it is seen, never one below the UIDNEXT announced', async () => {
  const { maildir, user } = await setup();
  expect((await user.status('INBOX')).uidNext).toBe(4); // scanned: later syncs read the uidlist from the next UID
  const base = '1700000000.M1P1.dovecot';
  // The line is read (by the APPEND) while the file is not to be found: the index's next UID moves past 4.
  await appendFile(join(maildir, 'dovecot-uidlist'), `4 :${base}\n`);
  expect((await user.append('INBOX', { content: message('four') })).uid).toBe(5);
  const announced = (await user.status('INBOX')).uidNext;
  expect(announced).toBe(6);
  await writeFile(join(maildir, 'cur', `${base}:2,S`), message('from dovecot'));
  const st = await user.status('INBOX');
  expect(st.messages).toBe(5);
  expect(st.uidNext).toBe(7);
  const seen = await subjects(user);
  expect([...seen.keys()]).toEqual([1, 2, 3, 5, 6]);
  expect(seen.get(6)).toBe('from dovecot');
  // A second line for the file, later and ascending: Dovecot's reader (and ours) takes the later one.
  expect(rawUids(await readFile(join(maildir, 'dovecot-uidlist'), 'utf8'))).toEqual([1, 2, 3, 4, 5, 6]);
  expect((await uidlistOf(maildir)).records.find((r) => r.base === base)?.uid).toBe(6);
});

it('an expunged message whose file is put back gets a new UID, not its old one (a late line below the next UID is never adopted)', async () => {
  const { maildir, user } = await setup();
  expect((await user.status('INBOX')).uidNext).toBe(4);
  await appendFile(join(maildir, 'dovecot-uidlist'), '4 :1700000000.M1P1.late\n');
  expect((await user.append('INBOX', { content: message('five') })).uid).toBe(5);
  const five = (await uidlistOf(maildir)).records.find((r) => r.uid === 5)!.base;
  const name = (await readdir(join(maildir, 'cur'))).find((f) => f.startsWith(five)) ?? (await readdir(join(maildir, 'new'))).find((f) => f.startsWith(five))!;
  const sub = existsSync(join(maildir, 'cur', name)) ? 'cur' : 'new';
  const saved = await readFile(join(maildir, sub, name));
  await unlink(join(maildir, sub, name));
  const gone = await user.status('INBOX'); // the sync expunges 5
  expect(gone.messages).toBe(3);
  expect(gone.uidNext).toBe(6);
  await writeFile(join(maildir, sub, name), saved);
  const back = await user.status('INBOX');
  expect(back.messages).toBe(4);
  const seen = await subjects(user);
  expect(seen.has(5)).toBe(false);
  const uid = [...seen].find(([, subject]) => subject === 'five')![0];
  expect(uid).toBeGreaterThanOrEqual(6);
  const uids = rawUids(await readFile(join(maildir, 'dovecot-uidlist'), 'utf8'));
  expect(uids.every((u, i) => i === 0 || u > uids[i - 1]!)).toBe(true);
});

/** The UIDs of a uidlist's lines as written, in file order (a base listed twice counted twice). */
function rawUids(text: string): number[] {
  return text.split('\n').slice(1).filter((l) => l !== '').map((l) => Number(l.split(' ')[0]));
}

it("an APPEND after another writer's line cut short (no newline) starts its own line, so neither is lost", async () => {
  const { maildir, user } = await setup();
  await appendFile(join(maildir, 'dovecot-uidlist'), '4 :1700000000.M1P1.cut');
  expect((await user.append('INBOX', { content: message('four') })).uid).toBe(5);
  const text = await readFile(join(maildir, 'dovecot-uidlist'), 'utf8');
  expect(text).toMatch(/\n4 :1700000000\.M1P1\.cut\n5 :[^\n]+\n$/);
  expect((await uidlistOf(maildir)).records.map((r) => r.uid)).toEqual([1, 2, 3, 4, 5]);
});

it('a uidlist of another UIDVALIDITY gives neither UIDs nor a floor, and is written again with the index\'s', async () => {
  const { maildir, user } = await setup();
  const ours = await uidlistOf(maildir);
  const foreign = { ...ours.header, uidValidity: ours.header.uidValidity + 1, nextUid: 50 };
  await writeFile(join(maildir, 'dovecot-uidlist'), formatUidlist({ header: foreign, records: [{ uid: 40, base: '1700000000.M1P1.elsewhere', extensions: [] }] }));
  expect((await user.append('INBOX', { content: message('four') })).uid).toBe(4);
  const after = await uidlistOf(maildir);
  expect(after.header.uidValidity).toBe(ours.header.uidValidity);
  expect(after.records.map((r) => r.uid)).toEqual([1, 2, 3, 4]);
  expect(after.nextUid).toBe(5);
});

it('Dovecot IMAP appending to the Maildir Mailgate has open: neither gives a UID the other gave', async () => {
  await requireDovecot();
  const { maildir, user } = await setup();
  const box = await user.open('INBOX', 'read-write');
  await box.snapshot();
  const work = await tmp!.sub('dovecot');
  const appended = await dovecotSession(work, maildir, [appendCommand('INBOX', [], 'From: d@example.org\r\nSubject: from dovecot\r\n\r\nHi.\r\n')]);
  expect(appended, appended).toMatch(/^t0 OK \[APPENDUID \d+ 4\]/m);
  expect((await user.append('INBOX', { content: message('four') })).uid).toBe(5);
  expect((await box.changesSince(0)).uidNext).toBe(6);
  await box.close();
  const seen = await subjects(user);
  expect([...seen]).toEqual([
    [1, 'one'],
    [2, 'two'],
    [3, 'three'],
    [4, 'from dovecot'],
    [5, 'four'],
  ]);
  // Dovecot, reading the uidlist again, agrees on every UID.
  const transcript = await dovecotSession(work, maildir, ['SELECT INBOX', 'UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])']);
  expect(transcript, transcript).toContain('zz OK');
  const dovecotSees = [...transcript.matchAll(/^\* \d+ FETCH \(UID (\d+) BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: (.*)\r$/gm)].map(
    (m) => [Number(m[1]), m[2]] as const,
  );
  expect(dovecotSees).toEqual([...seen]);
});
