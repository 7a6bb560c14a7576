// mutt reading over IMAP from `mailgate start`, and with the same keystrokes from a private Dovecot 2.3:
// tag every INBOX message, copy them to a local mbox, quit. The mbox must hold each message as the server
// has it, and the server's flags afterwards must be what Dovecot keeps (no \Seen: a copy is no reading;
// mutt's "Old" keyword). A run that hangs (mutt stuck on a failed command) fails with mutt's screen. Over
// STARTTLS and implicit TLS on Mailgate too, trusting its self-signed certificate.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectImapflow, mailboxSnapshot } from './harness/imapflow-client.js';
import { startMailgateTarget, startTarget, type ImapServerName, type ImapTarget } from './harness/imap-targets.js';
import { copyAllTo, readMbox, runMutt } from './harness/mutt.js';
import { makeTempDir, type TempDir } from './harness/tmpdir.js';

const subjectOf = (text: string): string => /^Subject: (.*)$/m.exec(text)?.[1] ?? '';

/** The server's messages in INBOX: subject and stored flags. */
async function serverInbox(target: ImapTarget): Promise<{ subject: string; flags: string[]; text: string }[]> {
  const c = await connectImapflow({ port: target.imapPort, user: target.user, password: target.password });
  try {
    return (await mailboxSnapshot(c, 'INBOX')).map((m) => {
      const text = m.source.toString('utf8').replace(/\r\n/g, '\n');
      return { subject: subjectOf(text), flags: m.flags, text };
    });
  } finally {
    await c.close();
  }
}

describe.each<ImapServerName>(['dovecot', 'mailgate'])('mutt against %s', (server) => {
  let target: ImapTarget;
  let tmp: TempDir;
  beforeAll(async () => {
    target = await startTarget(server);
    await target.deliver({ subject: 'for mutt one', body: 'first body line' });
    await target.deliver({ subject: 'for mutt two', body: 'second body line' });
    tmp = await makeTempDir('mutt');
  }, 90_000);
  afterAll(async () => {
    await target?.stop();
    await tmp?.remove();
  });

  it('copies every INBOX message to an mbox and quits', async () => {
    const before = await serverInbox(target);
    expect(before.map((m) => m.flags)).toEqual([[], []]);
    const mbox = join(tmp.path, 'out.mbox');
    const run = await runMutt({ dir: tmp.path, port: target.imapPort, user: target.user, password: target.password, push: copyAllTo(mbox) });
    const copied = await readMbox(mbox).catch((err: Error) => {
      throw new Error(`mutt wrote no mbox (${err.message})\n--- mutt's screen ---\n${run.screen}`);
    });
    expect(copied.map(subjectOf)).toEqual(['for mutt one', 'for mutt two']);
    // mutt adds Status/X-Status/Content-Length-style fields of its own to an mbox copy: compare the server's
    // header fields and body as contained in the copy.
    for (const [i, m] of before.entries()) {
      const [head, body] = m.text.split(/\n\n/, 2) as [string, string];
      for (const line of head.split('\n').filter((l) => !/^\s/.test(l))) expect(copied[i]).toContain(line);
      expect(copied[i]).toContain(body.trimEnd());
    }
    const after = await serverInbox(target);
    expect(after.map((m) => m.subject)).toEqual(['for mutt one', 'for mutt two']);
    // mutt fetches with BODY.PEEK (imap_peek) and a copy is no reading: no \Seen. At quit it stores its own
    // "Old" keyword on the unread messages it has shown (what Dovecot 2.3 keeps for it too).
    expect(after.map((m) => m.flags)).toEqual([['Old'], ['Old']]);
  });
});

describe('mutt over TLS against mailgate', () => {
  let target: ImapTarget;
  let tmp: TempDir;
  beforeAll(async () => {
    target = await startMailgateTarget();
    await target.deliver({ subject: 'mutt over tls', body: 'sealed' });
    tmp = await makeTempDir('mutt-tls');
  }, 90_000);
  afterAll(async () => {
    await target?.stop();
    await tmp?.remove();
  });

  for (const mode of ['starttls', 'imaps'] as const) {
    it(`reads INBOX over ${mode === 'imaps' ? 'implicit TLS' : 'STARTTLS'}`, async () => {
      const dir = await tmp.sub(mode);
      const mbox = join(dir, 'out.mbox');
      await runMutt({
        dir,
        port: mode === 'imaps' ? target.imapsPort! : target.imapPort,
        user: target.user,
        password: target.password,
        mode,
        certificateFile: join(target.mta!.dataDir, 'tls', 'cert.pem'),
        push: copyAllTo(mbox),
      });
      const copied = await readMbox(mbox);
      expect(copied.map(subjectOf)).toEqual(['mutt over tls']);
      expect(copied[0]).toContain('sealed');
    });
  }
});
