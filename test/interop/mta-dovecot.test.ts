// Mailgate and a real Dovecot, as an administrator puts them together (issue 10):
// 1. Dovecot serves the Maildirs `mailgate start` delivered, from one global
//    `mail_location = maildir:<data_dir>/mail/%d/%n` and with its mail processes running as the user
//    Mailgate runs as (here the system user `mail`, uid 8: below Dovecot's default first_valid_uid of
//    500, as a system user made for an MTA is). Mailgate's Maildirs are private (directories 0700,
//    files 0600), so that shared uid is the only way in, as with Postfix's virtual delivery and Dovecot
//    (virtual_uid_maps and mail_uid naming one vmail user). Flags set in Dovecot rename the file in cur/,
//    and Mailgate keeps delivering beside Dovecot's dovecot-uidlist and index files.
// 2. With `[delivery] lmtp`, local mail goes to Dovecot's LMTP listener; a user Dovecot does not know
//    gets 550 5.1.1 there, and Mailgate bounces it to the (local) sender, who reads the DSN in Dovecot;
//    the same over Dovecot's LMTP unix socket.
import { execFileSync } from 'node:child_process';
import { chown, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startDovecot, type Dovecot } from './harness/dovecot.js';
import { imapMessages, type ImapMessage } from './harness/imap.js';
import { makeMta, type Mta } from './harness/mta.js';
import { waitFor } from './harness/process.js';
import { setupGuard } from './harness/setup-guard.js';
import { sendWithSwaks, queueIdOf } from './harness/swaks.js';
import { Teardown } from './harness/teardown.js';
import { makeTempDir } from './harness/tmpdir.js';

const LIMITS = { timeout: 60_000 };

/** The account Mailgate runs as, and Dovecot's mail processes with it: Debian's `mail` system user. */
const MAIL_USER = 'mail';
function idsOf(user: string): { uid: number; gid: number } {
  return {
    uid: Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim()),
  };
}

/** What an administrator adds to dovecot.conf for Mailgate's Maildirs (uid/gid: Mailgate's user). */
function adminConf(mailRoot: string, owner: { uid: number; gid: number }): string {
  return [
    `mail_location = maildir:${mailRoot}/%d/%n`,
    `mail_uid = ${MAIL_USER}`,
    `mail_gid = ${MAIL_USER}`,
    `first_valid_uid = ${owner.uid}`,
    `first_valid_gid = ${owner.gid}`,
    '',
  ].join('\n');
}

const subjectOf = (m: ImapMessage): string | undefined => /^Subject: (.*)$/m.exec(m.text)?.[1]?.trim();
const withoutRecent = (flags: readonly string[]): string[] => flags.filter((f) => f !== '\\Recent');

async function send(mta: Mta, from: string, to: string | readonly string[], subject: string): Promise<string> {
  const r = await sendWithSwaks({ port: mta.mxPort, from, to, headers: [`Subject: ${subject}`] });
  expect(r.stdout).toMatch(/<- {2}250 2\.0\.0 Ok: queued as/);
  const id = queueIdOf(r.stdout);
  if (id === undefined) throw new Error(`no queue id in\n${r.stdout}`);
  return id;
}

/** File names in a Maildir sub-directory, and the W= of each (Dovecot's RFC822.SIZE). */
async function namesIn(maildir: string, sub: 'new' | 'cur'): Promise<string[]> {
  return (await readdir(join(maildir, sub))).sort();
}
const vsizeOf = (name: string): number => Number(/,W=(\d+)/.exec(name)?.[1] ?? NaN);
const baseOf = (name: string): string => name.split(':')[0] ?? name;

describe('Dovecot reads the Maildirs mailgate start delivered (one global mail_location, Mailgate\'s uid)', LIMITS, () => {
  const td = new Teardown();
  const setup = setupGuard();
  const owner = idsOf(MAIL_USER);
  let mta: Mta;
  let dovecot: Dovecot;
  let alice = '';
  let bob = '';
  const ids = new Map<string, string>();
  const newNames = new Map<string, string>();
  beforeAll(() =>
    setup.run(async () => {
      mta = await makeMta({ runAs: owner });
      td.defer(() => mta.remove());
      await mta.addUser('alice@localhost', 'alice-smtp');
      await mta.addUser('bob@localhost', 'bob-smtp');
      await mta.addUser('carol@localhost', 'carol-smtp');
      const alias = await mta.cli(['alias', 'add', 'team@localhost', 'alice@localhost', 'bob@localhost']);
      expect(alias.exitCode, alias.stderr).toBe(0);
      await mta.start();
      alice = join(mta.dataDir, 'mail', 'localhost', 'alice');
      bob = join(mta.dataDir, 'mail', 'localhost', 'bob');
      dovecot = td.add(
        await startDovecot({
          users: [
            { name: 'alice@localhost', password: 'alice-imap' },
            { name: 'bob@localhost', password: 'bob-imap' },
            { name: 'carol@localhost', password: 'carol-imap' },
          ],
          mailOwner: owner,
          extra: adminConf(join(mta.dataDir, 'mail'), owner),
        }),
      );
    }),
  );
  afterAll(() => td.run());

  test('messages to users and to an alias of both are listed over IMAP: our Received with the queue id, RFC822.SIZE = W=, no flags', async ({ onTestFailed }) => {
    setup.check();
    onTestFailed(async () => console.error(await dovecot.log(), mta.daemon().output()));
    ids.set('one', await send(mta, 'someone@example.org', ['alice@localhost', 'bob@localhost'], 'one'));
    await mta.waitForMaildir('alice@localhost', 1);
    ids.set('two', await send(mta, 'someone@example.org', 'team@localhost', 'two'));
    await mta.waitForMaildir('alice@localhost', 2);
    await mta.waitForMaildir('bob@localhost', 2);

    // As Mailgate left them: new/, its own user's, 0600, in 0700 directories.
    const names = await namesIn(alice, 'new');
    expect(names).toHaveLength(2);
    for (const n of names) {
      const st = await stat(join(alice, 'new', n));
      expect({ uid: st.uid, mode: st.mode & 0o777 }).toEqual({ uid: owner.uid, mode: 0o600 });
    }
    expect((await stat(alice)).mode & 0o777).toBe(0o700);

    const msgs = await imapMessages({ port: dovecot.imapPort, user: 'alice@localhost', password: 'alice-imap' });
    expect(msgs.map(subjectOf)).toEqual(['one', 'two']);
    for (const m of msgs) {
      const subject = subjectOf(m) ?? '';
      const id = ids.get(subject) ?? '';
      // Local delivery's Return-Path and Delivered-To on top (as Postfix's virtual(8)), then our Received.
      expect(m.text).toMatch(new RegExp(`^Return-Path: <someone@example\\.org>\\r?\\nDelivered-To: alice@localhost\\r?\\nReceived: from client\\.example \\([^)]*\\[127\\.0\\.0\\.1\\]\\)\\s+by mx\\.mailgate\\.test \\(Mailgate\\) with ESMTP id ${id}`));
      expect(withoutRecent(m.flags)).toEqual([]);
      // The queue id is in the file name (maildirKeyedBaseName), so the name Mailgate wrote is found by it.
      const name = names.find((n) => n.includes(`Q${id}R`));
      expect(name, `${id} in ${names.join(' ')}`).toBeDefined();
      expect(m.size).toBe(vsizeOf(name ?? ''));
      expect(m.size).toBe(m.raw.length);
      newNames.set(subject, name ?? '');
    }
    // Dovecot took them into cur/ under the same names with its info part, and kept them Mailgate's.
    expect(await namesIn(alice, 'new')).toEqual([]);
    expect((await namesIn(alice, 'cur')).map(baseOf)).toEqual(names);
    const bobs = await imapMessages({ port: dovecot.imapPort, user: 'bob@localhost', password: 'bob-imap' });
    expect(bobs.map(subjectOf)).toEqual(['one', 'two']);
  });

  test('\\Seen set in Dovecot renames the file to :2,S in cur/; a second Mailgate delivery lands beside dovecot-uidlist and the index', async ({ onTestFailed }) => {
    setup.check();
    onTestFailed(async () => console.error(await dovecot.log(), mta.daemon().output()));
    const before = await imapMessages({ port: dovecot.imapPort, user: 'alice@localhost', password: 'alice-imap' });
    const one = before.find((m) => subjectOf(m) === 'one');
    expect(one).toBeDefined();
    const after = await imapMessages({
      port: dovecot.imapPort,
      user: 'alice@localhost',
      password: 'alice-imap',
      store: { uids: [one?.uid ?? 0], op: '+FLAGS', flags: ['\\Seen'] },
    });
    expect(after.find((m) => subjectOf(m) === 'one')?.flags).toContain('\\Seen');
    const cur = await namesIn(alice, 'cur');
    expect(cur).toContain(`${newNames.get('one')}:2,S`);
    expect(cur).toContain(`${newNames.get('two')}:2,`);
    const entries = await readdir(alice);
    expect(entries).toContain('dovecot-uidlist');
    expect(entries.some((e) => e.startsWith('dovecot.index'))).toBe(true);

    ids.set('three', await send(mta, 'someone@example.org', 'alice@localhost', 'three'));
    await mta.waitForMaildir('alice@localhost', 3);
    const [fresh] = await namesIn(alice, 'new');
    expect(fresh).toContain(`Q${ids.get('three')}R`);
    expect((await stat(join(alice, 'new', fresh ?? ''))).uid).toBe(owner.uid);

    const msgs = await imapMessages({ port: dovecot.imapPort, user: 'alice@localhost', password: 'alice-imap' });
    expect(msgs.map((m) => [subjectOf(m), withoutRecent(m.flags)])).toEqual([
      ['one', ['\\Seen']],
      ['two', []],
      ['three', []],
    ]);
    // UIDs kept, the new message after them.
    expect(msgs.slice(0, 2).map((m) => m.uid)).toEqual(before.map((m) => m.uid));
    expect(msgs[2]?.uid ?? 0).toBeGreaterThan(Math.max(...before.map((m) => m.uid)));
    expect(msgs[2]?.size).toBe(vsizeOf(fresh ?? ''));
    expect(msgs[2]?.text).toContain(`with ESMTP id ${ids.get('three')}`);
    // bob's mailbox was not touched by alice's flags.
    expect((await namesIn(bob, 'cur')).every((n) => n.endsWith(':2,'))).toBe(true);
  });

  test('a Maildir Dovecot made first (login before any mail, in mixed case) gets Mailgate\'s delivery to a mixed-case address', async ({ onTestFailed }) => {
    setup.check();
    onTestFailed(async () => console.error(await dovecot.log(), mta.daemon().output()));
    const carol = join(mta.dataDir, 'mail', 'localhost', 'carol');
    // Dovecot lower-cases the login (auth_username_format = %Lu, its default), so %d/%n is lower-case as Mailgate's path is.
    expect(await imapMessages({ port: dovecot.imapPort, user: 'Carol@LocalHost', password: 'carol-imap' })).toEqual([]);
    expect((await stat(join(carol, 'new'))).uid).toBe(owner.uid);
    await send(mta, 'someone@example.org', 'CAROL@LocalHost', 'after dovecot');
    await mta.waitForMaildir('carol@localhost', 1);
    const msgs = await imapMessages({ port: dovecot.imapPort, user: 'Carol@LocalHost', password: 'carol-imap' });
    expect(msgs.map(subjectOf)).toEqual(['after dovecot']);
  });
});

describe('[delivery] lmtp: local mail goes to Dovecot over LMTP; Dovecot\'s 550 bounces to the sender', LIMITS, () => {
  const td = new Teardown();
  const setup = setupGuard();
  const owner = idsOf(MAIL_USER);
  let mta: Mta;
  let dovecot: Dovecot;
  let vmail = '';
  beforeAll(() =>
    setup.run(async () => {
      // Dovecot's own mail store: with LMTP, Mailgate never touches it (and may run as any user).
      const store = await makeTempDir('vmail');
      td.defer(() => store.remove());
      vmail = await store.sub('mail', 0o700);
      await chown(vmail, owner.uid, owner.gid);
      dovecot = td.add(
        await startDovecot({
          users: [
            { name: 'alice@localhost', password: 'alice-imap' },
            { name: 'carol@localhost', password: 'carol-imap' },
          ],
          mailOwner: owner,
          extra: adminConf(vmail, owner),
        }),
      );
      mta = await makeMta({ extra: `[delivery]\nlmtp = "${dovecot.lmtpSpec}"\n` });
      td.defer(() => mta.remove());
      for (const user of ['alice@localhost', 'carol@localhost', 'dave@localhost']) await mta.addUser(user, 'smtp-secret');
      const alias = await mta.cli(['alias', 'add', 'team@localhost', 'alice@localhost', 'carol@localhost']);
      expect(alias.exitCode, alias.stderr).toBe(0);
      await mta.start();
    }),
  );
  afterAll(() => td.run());

  const waitForImap = (user: string, count: number): Promise<ImapMessage[]> =>
    waitFor(`${count} message(s) for ${user} in Dovecot`, async () => {
      const msgs = await imapMessages({ port: dovecot.imapPort, user, password: user.startsWith('alice') ? 'alice-imap' : 'carol-imap' });
      return msgs.length >= count ? msgs : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250, daemon: mta.daemon() });

  test('a local user\'s mail, and an alias\'s, reach Dovecot\'s IMAP through LMTP, not Mailgate\'s Maildir', async ({ onTestFailed }) => {
    setup.check();
    onTestFailed(async () => console.error(await dovecot.log(), mta.daemon().output()));
    const id = await send(mta, 'someone@example.org', 'carol@localhost', 'over lmtp');
    const [msg] = await waitForImap('carol@localhost', 1);
    expect(msg && subjectOf(msg)).toBe('over lmtp');
    expect(msg?.text).toMatch(new RegExp(`^Received: from client\\.example[^]*by mx\\.mailgate\\.test \\(Mailgate\\) with ESMTP id ${id}`, 'm'));
    expect(await dovecot.log()).toMatch(/lmtp\(carol@localhost\).*saved mail to INBOX/);
    expect(mta.daemon().output()).toContain(`${id}: to=<carol@localhost>, relay=lmtp:[127.0.0.1]:${dovecot.lmtpPort}`);
    expect(await mta.maildir('carol@localhost')).toEqual([]);

    await send(mta, 'someone@example.org', 'team@localhost', 'to the team');
    expect((await waitForImap('carol@localhost', 2)).map(subjectOf)).toEqual(['over lmtp', 'to the team']);
    expect((await waitForImap('alice@localhost', 1)).map(subjectOf)).toEqual(['to the team']);
  });

  test('a user Mailgate has and Dovecot lacks: LMTP 550 5.1.1, a bounce in the local sender\'s Dovecot mailbox, the queue empty', async ({ onTestFailed }) => {
    setup.check();
    onTestFailed(async () => console.error(await dovecot.log(), mta.daemon().output()));
    // In one transaction with a recipient Dovecot has: that one is delivered, only dave bounces.
    const id = await send(mta, 'alice@localhost', ['carol@localhost', 'dave@localhost'], 'for dave');
    expect((await waitForImap('carol@localhost', 3)).map(subjectOf)).toEqual(['over lmtp', 'to the team', 'for dave']);
    const msgs = await waitForImap('alice@localhost', 2);
    const dsn = msgs.find((m) => subjectOf(m) !== 'to the team');
    expect(dsn?.text).toMatch(/^Content-Type: multipart\/report;[^]*report-type="?delivery-status/im);
    expect(dsn?.text).toMatch(/^Final-Recipient: rfc822; ?dave@localhost/im);
    expect(dsn?.text).toMatch(/^Status: 5\.1\.1/m);
    expect(dsn?.text).toMatch(/^Diagnostic-Code: smtp; ?550 5\.1\.1/m);
    expect(dsn?.text).toContain('Subject: for dave');
    expect(dsn?.text).not.toMatch(/^Final-Recipient: rfc822; ?carol@localhost/im);
    const log = mta.daemon().output();
    expect(log).toMatch(new RegExp(`${id}: to=<dave@localhost>, relay=lmtp:[^,]*, delay=[^,]*, dsn=5\\.1\\.1, status=bounced`));
    expect(log).toContain(`${id}: sender non-delivery notification:`);
    await waitFor('an empty queue', async () => {
      const r = await mta.cli(['queue', 'list']);
      return r.stdout.includes('Mail queue is empty') ? true : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250 });
  });

  test('lmtp = "unix:PATH": Dovecot\'s LMTP unix socket (in its base_dir) works as the TCP listener does', async ({ onTestFailed }) => {
    setup.check();
    const socket = join(dirname(dovecot.configFile), 'run', 'lmtp');
    const viaUnix = await makeMta({ extra: `[delivery]\nlmtp = "unix:${socket}"\n` });
    td.defer(() => viaUnix.remove());
    onTestFailed(async () => console.error(await dovecot.log(), viaUnix.daemon().output()));
    await viaUnix.addUser('carol@localhost', 'smtp-secret');
    await viaUnix.start();
    const id = await send(viaUnix, 'someone@example.org', 'carol@localhost', 'over unix lmtp');
    expect((await waitForImap('carol@localhost', 4)).map(subjectOf)).toContain('over unix lmtp');
    expect(viaUnix.daemon().output()).toContain(`${id}: to=<carol@localhost>, relay=lmtp:unix:${socket}`);
  });
});

// The two ways an administrator gets it wrong, so that the README's "same uid, first_valid_uid at or
// below it" stays proven: Mailgate running as root leaves Maildirs no other uid may enter (Dovecot
// refuses root for mail access), and Dovecot's default first_valid_uid (500) refuses a system user.
describe('Dovecot cannot read Mailgate\'s Maildirs as another uid, nor with first_valid_uid above Mailgate\'s', LIMITS, () => {
  const td = new Teardown();
  const setup = setupGuard();
  const owner = idsOf(MAIL_USER);
  let rootMta: Mta;
  beforeAll(() =>
    setup.run(async () => {
      rootMta = await makeMta();
      td.defer(() => rootMta.remove());
      await rootMta.addUser('alice@localhost', 'alice-smtp');
      await rootMta.start();
      await send(rootMta, 'someone@example.org', 'alice@localhost', 'root-owned');
      await rootMta.waitForMaildir('alice@localhost', 1);
    }),
  );
  afterAll(() => td.run());

  const tryImap = async (extra: string): Promise<string> => {
    const dovecot = td.add(await startDovecot({ users: [{ name: 'alice@localhost', password: 'alice-imap' }], mailOwner: owner, extra }));
    await expect(imapMessages({ port: dovecot.imapPort, user: 'alice@localhost', password: 'alice-imap' })).rejects.toThrow();
    return waitFor('the error in the Dovecot log', async () => {
      const log = await dovecot.log();
      return /imap\(alice@localhost\).*(Error|Fatal)/.test(log) ? log : undefined;
    }, { timeoutMs: 10_000, intervalMs: 100 });
  };

  test('Mailgate as root: its 0700 directories refuse Dovecot\'s mail user', async () => {
    setup.check();
    const mail = join(rootMta.dataDir, 'mail');
    expect((await stat(join(mail, 'localhost', 'alice', 'new'))).uid).toBe(0);
    expect(await tryImap(adminConf(mail, owner))).toMatch(new RegExp(`Permission denied \\(euid=${owner.uid}\\(${MAIL_USER}\\).*dir owned by 0:0 mode=0700`));
  });

  test('first_valid_uid above Mailgate\'s uid (Debian\'s default 500): mail access refused', async () => {
    setup.check();
    const log = await tryImap(`${adminConf(join(rootMta.dataDir, 'mail'), owner)}first_valid_uid = 500\n`);
    expect(log).toContain(`Mail access for users with UID ${owner.uid} not permitted (see first_valid_uid in config file`);
  });
});
