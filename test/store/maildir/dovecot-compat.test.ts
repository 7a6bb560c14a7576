/**
 * The Maildir file layer and a real Dovecot 2.3 (preauth imap, Maildir++, `separator = /`, listescape) agree
 * on one Maildir: folders made by either are listed by the other under the same names; the dovecot-uidlist,
 * dovecot-keywords and subscriptions files Dovecot writes are read here with the same UIDs, UIDVALIDITY,
 * flags, keywords and names; and a uidlist and keywords file written here are taken by Dovecot unchanged.
 */
import { readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeFolderMutf7, encodeFolderMutf7 } from '../../../src/store/maildir/folder-mutf7.js';
import { readKeywords, writeKeywords } from '../../../src/store/maildir/keywords-file.js';
import { FLAG_BITS, keywordIndex, maildirFileName, parseMaildirInfo, splitMaildirFileName, systemFlagsOf } from '../../../src/store/maildir/maildir-info.js';
import { createFolder, listFolders, renameFolder } from '../../../src/store/maildir/maildir-folders.js';
import { scanMaildir } from '../../../src/store/maildir/maildir-scan.js';
import { ensureMaildir, writeToMaildir } from '../../../src/store/maildir/maildir-writer.js';
import { readSubscriptions, setSubscribed } from '../../../src/store/maildir/subscriptions-file.js';
import { lockUidlist, newMailboxGuid, readUidlist } from '../../../src/store/maildir/uidlist.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';
import { appendCommand, dovecotSession, fetchedFlags, listedNames, quote, requireDovecot } from './dovecot-preauth.js';

/** Names with every escape and encoding: '.', children, UTF-8, '~' at a level's start, '\', '&'. */
const NAMES = ['Sent', 'Archive.2024', 'Archive.2024/Q1', 'a/b/c', 'Café', '日本語/子', '~root', '~x/~y', 'a~b', 'back\\slash', 'R&D', '.hidden', 'sp ace', 'INBOX/kid'];

let tmp: TempDir;
let maildir: string;
let work: string;
beforeAll(requireDovecot);
beforeEach(async () => {
  tmp = await makeTempDir('dovecot-compat');
  maildir = join(tmp.path, 'alice'); // directly in the 0755 temp dir: the mail user must traverse to it
  work = await tmp.sub('work');
  await ensureMaildir(maildir);
});
afterEach(async () => {
  await tmp.remove();
});

const wire = (name: string): string => quote(encodeFolderMutf7(name));

describe('folders', () => {
  it('Dovecot lists the folders made here under the same names', async () => {
    for (const n of NAMES) await createFolder(maildir, n);
    const out = await dovecotSession(work, maildir, ['LIST "" "*"']);
    const listed = listedNames(out);
    const selectable = listed.filter((l) => !l.attributes.includes('\\Noselect')).map((l) => decodeFolderMutf7(l.name));
    expect(selectable.sort(), out).toEqual(['INBOX', ...NAMES].sort());
    // Parents with no directory of their own are \Noselect for Dovecot too.
    expect(listed.filter((l) => l.attributes.includes('\\Noselect')).map((l) => decodeFolderMutf7(l.name)).sort()).toEqual(['a', 'a/b', '~x', '日本語'].sort());
  });

  it('the folders Dovecot makes are listed here under the same names', async () => {
    const out = await dovecotSession(work, maildir, NAMES.map((n) => `CREATE ${wire(n)}`));
    expect(out.match(/^t\d+ OK/gm), out).toHaveLength(NAMES.length);
    const skipped: string[] = [];
    const ours = await listFolders(maildir, { onSkip: (d, r) => skipped.push(`${d}: ${r}`) });
    expect(ours.map((f) => f.name).sort()).toEqual([...NAMES].sort());
    expect(skipped).toEqual([]);
  });

  it("renames made here (children too) are Dovecot's names", async () => {
    for (const n of ['Work', 'Work/Old.1', 'Work/Old.1/x']) await createFolder(maildir, n);
    await renameFolder(maildir, 'Work', 'Jobs/Past');
    const listed = listedNames(await dovecotSession(work, maildir, ['LIST "" "*"']));
    expect(listed.filter((l) => !l.attributes.includes('\\Noselect')).map((l) => l.name).sort()).toEqual(['INBOX', 'Jobs/Past', 'Jobs/Past/Old.1', 'Jobs/Past/Old.1/x']);
  });
});

describe('subscriptions', () => {
  it('reads what Dovecot subscribed, and Dovecot reads what was subscribed here', async () => {
    for (const n of NAMES) await createFolder(maildir, n);
    await dovecotSession(work, maildir, ['SUBSCRIBE "Archive.2024/Q1"', `SUBSCRIBE ${wire('Café')}`, 'SUBSCRIBE "~root"', 'SUBSCRIBE "inbox"']);
    expect((await readSubscriptions(maildir)).sort()).toEqual(['Archive.2024/Q1', 'Café', '~root', 'INBOX'].sort());
    await setSubscribed(maildir, '~root', false);
    await setSubscribed(maildir, '日本語/子', true);
    await setSubscribed(maildir, 'back\\slash', true);
    const lsub = listedNames(await dovecotSession(work, maildir, ['LSUB "" "*"']), 'LSUB').map((l) => decodeFolderMutf7(l.name));
    expect(lsub.sort()).toEqual(['Archive.2024/Q1', 'Café', 'INBOX', 'back\\slash', '日本語/子'].sort());
  });
});

describe('uidlist and keywords', () => {
  it("reads Dovecot's uidlist and keywords with the UIDs, UIDVALIDITY, flags and keywords Dovecot reports", async () => {
    const msg = (s: string): string => `Subject: ${s}\r\n\r\nbody ${s}\r\n`;
    // Dovecot runs pipelined commands concurrently: the changes in one session, the FETCH in the next.
    await dovecotSession(work, maildir, [
      appendCommand('INBOX', ['\\Seen', '$Forwarded', 'foo'], msg('1')),
      appendCommand('INBOX', ['bar', '\\Flagged'], msg('2')),
      appendCommand('INBOX', [], msg('3')),
      appendCommand('INBOX', ['\\Answered', '\\Deleted', '\\Draft', 'foo', 'bar'], msg('4')),
    ]);
    await dovecotSession(work, maildir, ['SELECT INBOX', 'UID STORE 3 +FLAGS (baz)', 'UID STORE 2 +FLAGS (\\Deleted)']);
    await dovecotSession(work, maildir, ['SELECT INBOX', 'UID EXPUNGE 2']);
    const out = await dovecotSession(work, maildir, ['SELECT INBOX', 'FETCH 1:* (UID FLAGS)']);
    const validity = Number(/\[UIDVALIDITY (\d+)\]/.exec(out)?.[1]);
    const dovecotFlags = fetchedFlags(out);
    expect([...dovecotFlags.keys()], out).toEqual([1, 3, 4]);

    const uidlist = await readUidlist(maildir);
    expect(uidlist?.header.uidValidity).toBe(validity);
    expect(uidlist?.nextUid).toBe(Number(/\[UIDNEXT (\d+)\]/.exec(out)?.[1]));
    const keywords = await readKeywords(maildir);
    const scan = await scanMaildir(maildir);
    const uidOf = new Map(uidlist?.records.map((r) => [r.base, r.uid]));
    const ours = new Map<number, string[]>();
    for (const e of scan.entries) {
      const uid = uidOf.get(e.base);
      expect(uid, e.fileName).toBeDefined();
      const kws = [...e.flags.keywords].map((l) => keywords.get(keywordIndex(l) as number) as string);
      ours.set(uid as number, [...systemFlagsOf(e.flags.system), ...kws]);
    }
    expect(new Set(ours.keys())).toEqual(new Set(dovecotFlags.keys()));
    for (const [uid, flags] of dovecotFlags) expect([...(ours.get(uid) ?? [])].sort(), `uid ${uid}`).toEqual([...flags].sort());
  });

  it('Dovecot takes a uidlist and keywords file written here: same UIDVALIDITY, UIDs, flags and keywords', async () => {
    const written = [];
    for (let i = 0; i < 4; i++) written.push(await writeToMaildir(maildir, Readable.from([Buffer.from(`Subject: m${i}\r\n\r\nbody\r\n`)]), { hostname: 'mx' }));
    const bases = written.map((w) => splitMaildirFileName(w.path.slice(w.path.lastIndexOf('/') + 1)).base);
    await writeKeywords(maildir, new Map([
      [0, '$Junk'],
      [2, 'project'],
    ]));
    // Messages 0 and 1 "seen by a client": moved to cur/ with flags; 2 and 3 stay in new/.
    await rename(written[0]?.path as string, join(maildir, 'cur', maildirFileName(bases[0] as string, { system: FLAG_BITS['\\Seen'], keywords: 'ac', other: '' })));
    await rename(written[1]?.path as string, join(maildir, 'cur', maildirFileName(bases[1] as string, { system: FLAG_BITS['\\Flagged'] | FLAG_BITS['\\Answered'], keywords: '', other: '' })));
    const uids = [5, 7, 100, 101];
    const lock = await lockUidlist(maildir);
    await lock.rewrite({
      header: { uidValidity: 1234567, nextUid: 90, guid: newMailboxGuid(), extra: [] },
      records: uids.slice(0, 3).map((uid, i) => ({ uid, extensions: [], base: bases[i] as string })),
    });
    const appender = await lockUidlist(maildir);
    await appender.append([{ uid: 101, extensions: [], base: bases[3] as string }]);
    await appender.release();

    const out = await dovecotSession(work, maildir, ['SELECT INBOX', 'FETCH 1:* (UID FLAGS)', 'STATUS INBOX (UIDNEXT UIDVALIDITY)']);
    expect(out).toContain('[UIDVALIDITY 1234567]');
    expect(out).toContain('[UIDNEXT 102]');
    const flags = fetchedFlags(out);
    expect([...flags.keys()], out).toEqual(uids);
    expect(flags.get(5)?.sort()).toEqual(['$Junk', '\\Seen', 'project'].sort());
    expect(flags.get(7)?.sort()).toEqual(['\\Answered', '\\Flagged']);
    expect(flags.get(100)).toEqual([]);
    // Dovecot kept our UIDVALIDITY and records (it may have added its own fields).
    const after = await readUidlist(maildir);
    expect(after?.header.uidValidity).toBe(1234567);
    expect(after?.records.map((r) => [r.uid, r.base])).toEqual(uids.map((u, i) => [u, bases[i]]));
    expect((await readdir(join(maildir, 'new'))).length + (await readdir(join(maildir, 'cur'))).length).toBe(4);
  });

  it('flags Dovecot stores are read from the file names here', async () => {
    await writeToMaildir(maildir, Readable.from([Buffer.from('Subject: x\r\n\r\nx\r\n')]), { hostname: 'mx' });
    await dovecotSession(work, maildir, ['SELECT INBOX', 'STORE 1 +FLAGS (\\Seen \\Deleted $Label1)']);
    const [entry] = (await scanMaildir(maildir)).entries;
    expect(entry?.dir).toBe('cur');
    expect(systemFlagsOf(entry?.flags.system ?? 0)).toEqual(['\\Deleted', '\\Seen']);
    const kw = await readKeywords(maildir);
    expect([...(entry?.flags.keywords ?? '')].map((l) => kw.get(keywordIndex(l) as number))).toEqual(['$Label1']);
    expect(parseMaildirInfo(entry?.info).other).toBe('');
  });
});
