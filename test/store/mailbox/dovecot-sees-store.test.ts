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
import { dovecotSession, fetchedFlags, listedNames, quote, requireDovecot } from '../maildir/dovecot-preauth.js';

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
