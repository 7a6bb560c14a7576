// QRESYNC (RFC 7162 §3.2) with a real client: imapflow with `qresync: true` against `mailgate start` (the
// Maildir store) and, with the same script, against a private Dovecot 2.3. One imapflow session keeps INBOX
// open while another expunges (VANISHED, imapflow's 'expunge' event with `vanished: true`), then reopens it
// with its last UIDVALIDITY and HIGHESTMODSEQ and must learn what changed while it was away (VANISHED
// (EARLIER) and FETCH FLAGS during SELECT). Mailgate may name more gone UIDs than Dovecot (it keeps no MODSEQ
// for expunged messages; RFC 7162 §5 allows that), never fewer, and never a UID that still exists.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectImapflow, nextEvent, type ImapflowClient } from './harness/imapflow-client.js';
import { startTarget, type ImapServerName, type ImapTarget } from './harness/imap-targets.js';

interface ExpungeEvent {
  path: string;
  uid?: number;
  seq?: number;
  vanished: boolean;
  earlier?: boolean;
}

interface FlagsEvent {
  path: string;
  uid?: number;
  flags: Set<string>;
}

describe.each<ImapServerName>(['mailgate', 'dovecot'])('imapflow with QRESYNC against %s', (server) => {
  let target: ImapTarget;
  let q: ImapflowClient | undefined;
  let other: ImapflowClient | undefined;
  let uids: number[] = [];
  const fail = (err: unknown): never => {
    throw new Error(`${(err as Error).message}\n--- imapflow log ---\n${q?.transcript() ?? ''}`);
  };

  beforeAll(async () => {
    target = await startTarget(server);
    for (let i = 1; i <= 4; i++) await target.deliver({ subject: `message ${i}`, body: `body ${i}` });
    const login = { port: target.imapPort, user: target.user, password: target.password, mode: 'plain' as const };
    q = await connectImapflow({ ...login, qresync: true });
    other = await connectImapflow(login);
  }, 90_000);
  afterAll(async () => {
    await q?.close();
    await other?.close();
    await target?.stop();
  });

  it('enables QRESYNC and hears of another session\'s expunge as VANISHED', async () => {
    const client = q!.client;
    expect(client.enabled.has('QRESYNC')).toBe(true);
    await client.mailboxOpen('INBOX').catch(fail);
    uids = (await client.fetchAll('1:*', { uid: true })).map((m) => m.uid);
    expect(uids).toHaveLength(4);
    await other!.client.mailboxOpen('INBOX');
    await other!.client.messageDelete(String(uids[1]), { uid: true });
    const gone = nextEvent<ExpungeEvent>(q!, 'expunge');
    await client.noop();
    const e = await gone;
    expect(e).toMatchObject({ path: 'INBOX', uid: uids[1], vanished: true, earlier: false });
    expect(client.mailbox && client.mailbox.exists).toBe(3);
    // the sequence numbers moved up as for an EXPUNGE
    const after = await client.fetchAll('1:*', { uid: true });
    expect(after.map((m) => m.uid)).toEqual([uids[0], uids[2], uids[3]]);
  });

  it('reopens INBOX with QRESYNC and learns of the expunges and flag changes made meanwhile', async () => {
    const client = q!.client;
    const box = client.mailbox;
    if (box === false || box === undefined) throw new Error('INBOX is not open');
    const { uidValidity, highestModseq } = box;
    await client.mailboxClose();
    await other!.client.messageDelete(String(uids[2]), { uid: true });
    await other!.client.messageFlagsAdd(String(uids[0]), ['\\Flagged'], { uid: true });
    const expunged: ExpungeEvent[] = [];
    const flagged: FlagsEvent[] = [];
    const onExpunge = (e: ExpungeEvent): void => void expunged.push(e);
    const onFlags = (e: FlagsEvent): void => void flagged.push(e);
    client.on('expunge', onExpunge);
    client.on('flags', onFlags);
    try {
      const reopened = await client.mailboxOpen('INBOX', { uidValidity, changedSince: highestModseq }).catch(fail);
      expect(reopened.exists).toBe(2);
    } finally {
      client.off('expunge', onExpunge);
      client.off('flags', onFlags);
    }
    const reported = expunged.map((e) => e.uid);
    expect(expunged.every((e) => e.vanished && e.earlier === true)).toBe(true);
    expect(reported).toContain(uids[2]);
    expect(reported).not.toContain(uids[0]);
    expect(reported).not.toContain(uids[3]);
    expect(flagged.find((e) => e.uid === uids[0])?.flags.has('\\Flagged')).toBe(true);
    // UID FETCH (CHANGEDSINCE n VANISHED): imapflow adds VANISHED once QRESYNC is on
    const vanished: ExpungeEvent[] = [];
    const onVanished = (e: ExpungeEvent): void => void vanished.push(e);
    client.on('expunge', onVanished);
    try {
      const changed = await client.fetchAll('1:*', { flags: true }, { uid: true, changedSince: highestModseq });
      expect(changed.map((m) => m.uid)).toEqual([uids[0]]);
    } finally {
      client.off('expunge', onVanished);
    }
    expect(vanished.map((e) => e.uid)).toContain(uids[2]);
    expect(vanished.every((e) => e.uid !== uids[0] && e.uid !== uids[3])).toBe(true);
  });
});
