// mbsync (isync 1.4.4) syncing a mailbox both ways with `mailgate start` (Far) and a local Maildir (Near),
// and the same script against a private Dovecot 2.3 so that a failure shows which side is at fault.
// First sync: every folder (INBOX, the special-use ones, a user folder) and every delivered message comes
// down with its flags. Then changes on both sides, in one round: near, a message flagged, one deleted, one
// added; far (through imapflow, another client), one marked \Seen, one deleted and expunged, one more
// delivered. After the second sync both sides hold the same messages with the same flags and the same
// bytes, paired by the UIDs in mbsync's state file. mbsync compresses (COMPRESS=DEFLATE) against both servers
// from login on, which the third sync's trace checks. Over STARTTLS and implicit TLS on Mailgate too.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectImapflow, mailboxSnapshot, type ImapflowClient, type ServerMessage } from './harness/imapflow-client.js';
import { startMailgateTarget, startTarget, type ImapServerName, type ImapTarget } from './harness/imap-targets.js';
import { makeMbsync, type Mbsync } from './harness/mbsync.js';
import { makeTempDir, type TempDir } from './harness/tmpdir.js';

/** Near files have LF line ends (isync's Maildir store); mbsync may add X-TUID to a message it uploads without UIDPLUS. */
const normal = (text: string): string => text.replace(/\r\n/g, '\n').replace(/^X-TUID: .*\n/m, '');
const subjectOf = (text: string): string => /^Subject: (.*)$/m.exec(text.replace(/\r\n/g, '\n'))?.[1] ?? '';

/** Asserts that both sides of `folder` hold the same messages, flags and bytes, paired as the state file says. */
async function expectInSync(mbsync: Mbsync, c: ImapflowClient, folder: string): Promise<ServerMessage[]> {
  const server = await mailboxSnapshot(c, folder);
  const near = await mbsync.messages(folder);
  const { pairs } = await mbsync.state(folder);
  const described = `server ${JSON.stringify(server.map((m) => [m.uid, m.flags, subjectOf(m.source.toString('utf8'))]))}\n` +
    `near ${JSON.stringify(near.map((m) => [m.file, m.flags, subjectOf(m.text)]))}\nstate ${JSON.stringify(pairs)}`;
  expect(near.length, described).toBe(server.length);
  expect(pairs.map((p) => p.farUid).sort((a, b) => a - b), described).toEqual(server.map((m) => m.uid));
  for (const m of server) {
    const pair = pairs.find((p) => p.farUid === m.uid)!;
    const local = near.find((n) => n.nearUid === pair.nearUid);
    expect(local, `far UID ${m.uid} has no near message (near UID ${pair.nearUid})\n${described}`).toBeDefined();
    expect(local!.flags, `flags of far UID ${m.uid}`).toEqual(m.flags);
    expect(normal(local!.text), `text of far UID ${m.uid}`).toBe(normal(m.source.toString('utf8')));
  }
  return server;
}

describe.each<ImapServerName>(['mailgate', 'dovecot'])('mbsync against %s', (server) => {
  let target: ImapTarget;
  let tmp: TempDir;
  let c: ImapflowClient;
  let mbsync: Mbsync;

  beforeAll(async () => {
    target = await startTarget(server);
    for (const s of ['A', 'B', 'C', 'D']) await target.deliver({ subject: `message ${s}`, body: `body of ${s}` });
    c = await connectImapflow({ port: target.imapPort, user: target.user, password: target.password });
    await c.client.mailboxCreate('Work');
    await c.client.append('Work', 'From: bob@example.org\r\nSubject: message W\r\n\r\nfiled\r\n', ['\\Seen', '\\Flagged']);
    tmp = await makeTempDir('mbsync');
    mbsync = await makeMbsync({ dir: tmp.path, port: target.imapPort, user: target.user, password: target.password });
  }, 120_000);
  afterAll(async () => {
    await c?.close();
    await target?.stop();
    await tmp?.remove();
  });

  it('first sync pulls every folder and message with its flags', async () => {
    await mbsync.sync();
    expect(await mbsync.folders()).toEqual(['Drafts', 'INBOX', 'Junk', 'Sent', 'Trash', 'Work']);
    const inbox = await expectInSync(mbsync, c, 'INBOX');
    expect(inbox.map((m) => subjectOf(m.source.toString('utf8')))).toEqual(['message A', 'message B', 'message C', 'message D']);
    const work = await expectInSync(mbsync, c, 'Work');
    expect(work.map((m) => m.flags)).toEqual([['\\Flagged', '\\Seen']]);
  });

  it('second sync carries changes both ways: flags, deletions, new messages', async () => {
    const near = await mbsync.messages('INBOX');
    const bySubject = (s: string) => near.find((m) => subjectOf(m.text) === `message ${s}`)!;
    await mbsync.setFlags(bySubject('A'), ['\\Flagged']);
    await mbsync.remove(bySubject('B'));
    await mbsync.add('INBOX', 'From: alice@localhost\nTo: bob@example.org\nSubject: message L\n\nwritten offline\n');

    await c.client.mailboxOpen('INBOX');
    const far = await c.client.fetchAll('1:*', { uid: true, envelope: true });
    const uidOf = (s: string) => far.find((m) => m.envelope?.subject === `message ${s}`)!.uid;
    await c.client.messageFlagsAdd(String(uidOf('C')), ['\\Seen'], { uid: true });
    await c.client.messageDelete(String(uidOf('D')), { uid: true });
    await target.deliver({ subject: 'message E', body: 'body of E' });

    await mbsync.sync();
    const inbox = await expectInSync(mbsync, c, 'INBOX');
    const got = Object.fromEntries(inbox.map((m) => [subjectOf(m.source.toString('utf8')), m.flags]));
    expect(got).toEqual({ 'message A': ['\\Flagged'], 'message C': ['\\Seen'], 'message E': [], 'message L': [] });
    // A third sync with nothing changed changes nothing. Its network trace (-Dn) shows mbsync turning
    // COMPRESS=DEFLATE on, as it does whenever the server announces it (both servers do).
    const traced = await mbsync.sync(['-Dn']);
    const trace = `${traced.stdout}${traced.stderr}`;
    const tag = />>> (\d+) COMPRESS DEFLATE\r?\n/.exec(trace)?.[1];
    expect(tag).toBeDefined();
    expect(trace).toMatch(new RegExp(`^${tag} OK `, 'm'));
    expect(await expectInSync(mbsync, c, 'INBOX')).toEqual(inbox);
    await expectInSync(mbsync, c, 'Work');
  });
});

describe('mbsync over TLS against mailgate', () => {
  let target: ImapTarget;
  let tmp: TempDir;
  beforeAll(async () => {
    target = await startMailgateTarget();
    await target.deliver({ subject: 'message T', body: 'over tls' });
    tmp = await makeTempDir('mbsync-tls');
  }, 90_000);
  afterAll(async () => {
    await target?.stop();
    await tmp?.remove();
  });

  for (const ssl of ['STARTTLS', 'IMAPS'] as const) {
    it(`syncs INBOX with SSLType ${ssl}, trusting the self-signed certificate`, async () => {
      const mbsync = await makeMbsync({
        dir: await tmp.sub(ssl),
        port: ssl === 'IMAPS' ? target.imapsPort! : target.imapPort,
        user: target.user,
        password: target.password,
        ssl,
        certificateFile: join(target.mta!.dataDir, 'tls', 'cert.pem'),
      });
      await mbsync.sync();
      const near = await mbsync.messages('INBOX');
      expect(near.map((m) => subjectOf(m.text))).toEqual(['message T']);
      expect(near[0]!.text).toContain('over tls');
    });
  }
});
