// Issue 11's "done when", through the built CLI and real clients: `mailgate start`; swaks delivers to alice
// through the MX; client 1 (imapflow), idling on INBOX, is told at once; it makes a folder `Work`, moves the
// message there and flags it; client 2 (Python's imaplib, another process) sees that state as soon as it
// looks (STATUS, SELECT, FETCH FLAGS); POP3 (poplib) downloads what is in INBOX; and the log has one login
// and one logout line, with byte counts, per IMAP session.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMta, type Mta } from '../interop/harness/mta.js';
import { connectImapflow, nextEvent, type ImapflowClient } from '../interop/harness/imapflow-client.js';
import { swaksRaw } from '../interop/harness/swaks.js';
import { poplibSession } from '../interop/harness/poplib.js';
import { PYTHON3 } from '../interop/harness/imap.js';
import { describeResult, runCommand, waitFor } from '../interop/harness/process.js';

const USER = 'alice@localhost';
const PASSWORD = 'wonderland-42';

// Client 2: one imaplib session that looks at Work and INBOX the way a second mail client would.
const LOOK = String.raw`
import imaplib, json, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]), timeout=20)
m.login(sys.argv[2], sys.argv[3])
out = {}
typ, data = m.status('Work', '(MESSAGES UIDNEXT UNSEEN)')
out['status_work'] = [typ, [d.decode('latin-1') for d in data]]
typ, data = m.status('INBOX', '(MESSAGES)')
out['status_inbox'] = [typ, [d.decode('latin-1') for d in data]]
typ, data = m.select('Work')
out['select'] = [typ, [d.decode('latin-1') for d in data]]
typ, data = m.uid('FETCH', '1:*', '(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
out['fetch'] = [typ, [(d[0].decode('latin-1'), d[1].decode('latin-1')) if isinstance(d, tuple) else d.decode('latin-1') for d in data]]
m.logout()
print(json.dumps(out))
`;

interface Look {
  status_work: [string, string[]];
  status_inbox: [string, string[]];
  select: [string, string[]];
  fetch: [string, ([string, string] | string)[]];
}

async function look(port: number): Promise<Look> {
  const r = await runCommand(PYTHON3, ['-c', LOOK, String(port), USER, PASSWORD], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`imaplib (client 2) failed: ${describeResult(r)}`);
  return JSON.parse(r.stdout) as Look;
}

async function deliver(mta: Mta, subject: string, body: string): Promise<void> {
  const r = await swaksRaw(['--server', `127.0.0.1:${mta.mxPort}`, '--from', 'bob@example.org', '--to', USER, '--header', `Subject: ${subject}`, '--body', body]);
  expect(r.stdout, describeResult(r)).toMatch(/<- {2}250 2\.0\.0 Ok: queued as/);
}

describe('mailgate start as the mailbox server: delivery, two IMAP clients, POP3', () => {
  let mta: Mta;
  let c1: ImapflowClient | undefined;
  let imapSessions = 0;
  const withLog = (err: unknown): never => {
    throw new Error(`${(err as Error).message}\n--- client 1 (imapflow) ---\n${c1?.transcript() ?? ''}\n--- mailgate start ---\n${mta.daemon().output().slice(-6_000)}`);
  };

  beforeAll(async () => {
    mta = await makeMta();
    await mta.addUser(USER, PASSWORD);
    await mta.start();
  }, 60_000);
  afterAll(async () => {
    await c1?.close();
    await mta?.remove();
  });

  it('client 1, idling on INBOX, sees the message swaks delivered', async () => {
    imapSessions += 1;
    c1 = await connectImapflow({ port: mta.imapPort, user: USER, password: PASSWORD });
    const box = await c1.client.mailboxOpen('INBOX').catch(withLog);
    expect(box.exists).toBe(0);
    const exists = nextEvent<{ path: string; count: number }>(c1, 'exists', (e) => e.path === 'INBOX' && e.count === 1);
    const idling = c1.client.idle();
    await deliver(mta, 'quarterly numbers', 'see attached');
    await exists.catch(withLog);
    const msg = await c1.client.fetchOne('1', { uid: true, envelope: true, flags: true }).catch(withLog);
    await idling;
    expect(msg && msg.envelope?.subject).toBe('quarterly numbers');
    expect(msg && [...(msg.flags ?? [])].filter((f) => f !== '\\Recent')).toEqual([]);
  });

  it('client 1 files it in a new folder Work and flags it; client 2 sees the same state at once', async () => {
    const client = c1!.client;
    await client.mailboxCreate('Work').catch(withLog);
    const moved = await client.messageMove('1', 'Work').catch(withLog);
    expect(moved && moved.destination).toBe('Work');
    const workUid = moved && moved.uidMap ? [...moved.uidMap.values()][0] : undefined;
    expect(workUid).toBeGreaterThan(0);
    await client.mailboxOpen('Work');
    expect(await client.messageFlagsAdd(String(workUid), ['\\Flagged', '\\Seen'], { uid: true }).catch(withLog)).toBe(true);

    imapSessions += 1;
    const seen = await look(mta.imapPort);
    expect(seen.status_work[0]).toBe('OK');
    // The name as an atom or a quoted string: RFC 3501 leaves the choice.
    expect(seen.status_work[1]).toEqual([expect.stringMatching(new RegExp(`^("Work"|Work) \\(MESSAGES 1 UIDNEXT ${workUid! + 1} UNSEEN 0\\)$`))]);
    expect(seen.status_inbox[1][0]).toMatch(/\(MESSAGES 0\)$/);
    expect(seen.select).toEqual(['OK', ['1']]);
    expect(seen.fetch[0]).toBe('OK');
    const [head, fields] = seen.fetch[1][0] as [string, string];
    expect(head).toContain(`UID ${workUid}`);
    expect(/FLAGS \(([^)]*)\)/.exec(head)?.[1]?.split(' ').filter((f) => f !== '\\Recent').sort()).toEqual(['\\Flagged', '\\Seen']);
    expect(fields).toBe('Subject: quarterly numbers\r\n\r\n');
  });

  it('POP3 downloads the mail in INBOX', async () => {
    await deliver(mta, 'for the phone', 'over pop3');
    // INBOX's files (the first message is in Work now): the queue delivers after swaks's 250.
    await waitFor('the second message in INBOX', async () => ((await mta.maildir(USER)).some((m) => m.includes('Subject: for the phone')) ? true : undefined), {
      daemon: mta.daemon(),
      timeoutMs: 20_000,
    });
    const pop = await poplibSession({ port: mta.pop3Port, user: USER, password: PASSWORD, mode: 'plain' });
    expect(pop.stat[0]).toBe(1);
    expect(pop.messages).toHaveLength(1);
    const text = pop.messages[0]!.text.toString('utf8');
    expect(text).toContain('Subject: for the phone');
    expect(text).toContain('over pop3');
    expect(pop.uidl).toHaveLength(1);
  });

  it('logs one login and one logout line, with byte counts, per IMAP session', async () => {
    await c1?.close();
    c1 = undefined;
    const lines = (re: RegExp): string[] => mta.daemon().output().split('\n').filter((l) => re.test(l));
    const logouts = await waitFor(
      `${imapSessions} imap logout lines`,
      () => {
        const found = lines(/imap logout: user=<alice@localhost>/);
        return found.length >= imapSessions ? found : undefined;
      },
      { daemon: mta.daemon(), timeoutMs: 10_000 },
    ).catch(withLog);
    const logins = lines(/imap login: user=<alice@localhost>/);
    expect(logins, mta.daemon().output()).toHaveLength(imapSessions);
    expect(logouts).toHaveLength(imapSessions);
    for (const l of logins) expect(l).toMatch(/rip=127\.0\.0\.1/);
    for (const l of logouts) {
      const m = /in=(\d+) out=(\d+)/.exec(l);
      expect(m, l).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThan(0);
      expect(Number(m![2])).toBeGreaterThan(0);
    }
  });
});
