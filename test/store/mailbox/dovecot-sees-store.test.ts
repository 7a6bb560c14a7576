/**
 * Dovecot reads what the Maildir store made: after the store appended (with flags and keywords), delivered,
 * copied, moved, flagged, expunged and made folders (a '.' and a hierarchy in a name), Dovecot 2.3 in preauth
 * mode (Maildir++, `separator = /`, listescape) lists the same folders and reports the same UIDVALIDITY,
 * UIDs, flags and keywords in every one of them.
 */
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';
import { appendCommand, dovecotSession, fetchedFlags, listedNames, quote, requireDovecot } from '../maildir/dovecot-preauth.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await makeTempDir('dovecot-sees-store');
});
afterEach(async () => {
  await tmp.remove();
});

const body = (n: number): Buffer => Buffer.from(`From: a@example.org\r\nSubject: ${n}\r\n\r\nmessage ${n}\r\n`);

interface View {
  uidValidity: number;
  uidNext: number;
  flags: Map<number, string[]>;
}

it('Dovecot sees the same folders, UIDVALIDITY, UIDs, flags and keywords', async () => {
  await requireDovecot();
  // The parent must be traversable by the mail user Dovecot runs as.
  const maildir = join(await tmp.sub('mail'), 'alice');
  const store = openMaildirMailboxStore({ maildirOf: () => maildir, hostname: 'mx.example.org' });
  const user = await store.openUser('alice');
  await user.create('Archive/2024.Q1');
  await user.create('Projects');
  await user.append('INBOX', { content: body(1), flags: ['\\Seen', 'work'] });
  await user.append('INBOX', { content: body(2), flags: ['\\Answered', '$Label1', 'work'] });
  await user.append('INBOX', { content: body(3) });
  await user.append('INBOX', { content: body(4), flags: ['\\Draft'] });
  await store.delivery.deliver('alice', () => Readable.from([body(5)]), { hostname: 'mx.example.org' });
  const inbox = await user.open('INBOX', 'read-write');
  await inbox.snapshot();
  await inbox.setFlags([3], { mode: 'add', flags: ['\\Flagged', 'later'] });
  await inbox.setFlags([2], { mode: 'remove', flags: ['work'] });
  await inbox.copy([1, 2], 'Archive/2024.Q1');
  await inbox.move([3], 'Trash');
  await inbox.setFlags([4], { mode: 'add', flags: ['\\Deleted'] });
  await inbox.expunge();
  await inbox.close();
  // A message delivered after the last SELECT stays in new/: Dovecot must find it with our UID too.
  await store.delivery.deliver('alice', () => Readable.from([body(6)]), { hostname: 'mx.example.org' });

  const names = ['INBOX', 'Archive/2024.Q1', 'Projects', 'Trash', 'Sent', 'Drafts', 'Junk'];
  const ours = new Map<string, View>();
  for (const name of names) {
    const box = await user.open(name, 'read-only');
    const snap = await box.snapshot();
    ours.set(name, { uidValidity: snap.status.uidValidity, uidNext: snap.status.uidNext, flags: new Map(snap.records.map((r) => [r.uid, [...r.flags].sort()])) });
    await box.close();
  }
  expect([...(ours.get('INBOX')?.flags ?? [])]).toEqual([
    [1, ['\\Seen', 'work']],
    [2, ['$Label1', '\\Answered']],
    [5, []],
    [6, []],
  ]);
  expect([...(ours.get('Trash')?.flags.values() ?? [])]).toEqual([['\\Flagged', 'later']]);
  await user.release();
  await store.close();

  const work = await tmp.sub('dovecot');
  const commands = ['LIST "" "*"'];
  for (const name of names) commands.push(`SELECT ${quote(name)}`, 'UID FETCH 1:* (UID FLAGS)', 'UNSELECT');
  const transcript = await dovecotSession(work, maildir, commands);
  expect(transcript, transcript).toContain('zz OK');
  expect(listedNames(transcript).map((l) => l.name).sort()).toEqual([...names, 'Archive'].sort());

  // Mailbox i is selected by t(3i+1) and fetched by t(3i+2): its lines lie between t(3i)'s and t(3i+2)'s OK.
  names.forEach((name, i) => {
    const section = transcript.split(new RegExp(`^t${2 + i * 3} OK`, 'm'))[0]?.split(new RegExp(`^t${i * 3} OK`, 'm')).at(-1) ?? '';
    const validity = /\[UIDVALIDITY (\d+)\]/.exec(section)?.[1];
    const view = ours.get(name) as View;
    expect(Number(validity), `${name}\n${section}`).toBe(view.uidValidity);
    expect(Number(/\[UIDNEXT (\d+)\]/.exec(section)?.[1]), name).toBe(view.uidNext);
    const flags = new Map([...fetchedFlags(section)].map(([uid, f]) => [uid, [...f].sort()] as const));
    expect(flags, `${name}\n${section}`).toEqual(view.flags);
  });
});

it('the store adopts a Maildir Dovecot wrote: the same UIDVALIDITY, UIDs, flags and keywords', async () => {
  await requireDovecot();
  const maildir = await tmp.sub('mail/alice');
  const work = await tmp.sub('dovecot');
  const message = (n: number): string => `From: a@example.org\r\nSubject: ${n}\r\n\r\nmessage ${n}\r\n`;
  // Two sessions: Dovecot runs pipelined commands in parallel, so the reading one comes after the writing one.
  const written = await dovecotSession(work, maildir, [
    'CREATE "Lists/dev.list"',
    appendCommand('INBOX', ['\\Seen', 'work'], message(1)),
    appendCommand('INBOX', ['\\Flagged', '$Label2'], message(2)),
    appendCommand('INBOX', [], message(3)),
    appendCommand('Lists/dev.list', ['\\Answered'], message(4)),
  ]);
  expect(written, written).toContain('zz OK');
  await dovecotSession(work, maildir, ['SELECT INBOX', 'STORE 3 +FLAGS (\\Deleted)', 'EXPUNGE']);
  const transcript = await dovecotSession(work, maildir, ['EXAMINE INBOX', 'UID FETCH 1:* (UID FLAGS)', 'EXAMINE "Lists/dev.list"', 'UID FETCH 1:* (UID FLAGS)']);
  expect(transcript, transcript).toContain('zz OK');
  const inboxPart = transcript.split(/^t1 OK/m)[0] ?? '';
  const listPart = transcript.split(/^t1 OK/m)[1]?.split(/^t3 OK/m)[0] ?? '';
  const theirs = {
    inbox: { validity: Number(/\[UIDVALIDITY (\d+)\]/.exec(inboxPart)?.[1]), flags: fetchedFlags(inboxPart) },
    list: { validity: Number(/\[UIDVALIDITY (\d+)\]/.exec(listPart)?.[1]), flags: fetchedFlags(listPart) },
  };
  expect(theirs.inbox.flags.size, inboxPart).toBe(2);

  const store = openMaildirMailboxStore({ maildirOf: () => maildir, hostname: 'mx.example.org' });
  const user = await store.openUser('alice');
  expect((await user.list()).map((m) => m.name)).toEqual(expect.arrayContaining(['INBOX', 'Lists', 'Lists/dev.list']));
  for (const [name, want] of [
    ['INBOX', theirs.inbox],
    ['Lists/dev.list', theirs.list],
  ] as const) {
    const box = await user.open(name, 'read-only');
    const snap = await box.snapshot();
    expect(snap.status.uidValidity, name).toBe(want.validity);
    expect(new Map(snap.records.map((r) => [r.uid, [...r.flags].sort()])), name).toEqual(new Map([...want.flags].map(([uid, f]) => [uid, [...f].sort()])));
    await box.close();
  }
  // New mail continues after Dovecot's UIDs.
  expect((await user.append('INBOX', { content: body(5) })).uid).toBe(4);
  await user.release();
  await store.close();
});
