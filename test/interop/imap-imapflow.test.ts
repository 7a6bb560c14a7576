// imapflow (a real Node IMAP client) against `mailgate start` and, with the same script, against a private
// Dovecot 2.3: a step that passes on Dovecot and fails on Mailgate is a Mailgate bug, not imapflow's.
// Login in plaintext (loopback), LIST with the special-use folders, SELECT, FETCH of envelope, body
// structure and source, APPEND, STORE +FLAGS, MOVE, and IDLE woken by mail delivered through the server's own
// delivery (Mailgate's MX via swaks, Dovecot's LMTP). STARTTLS and implicit TLS with Mailgate's self-signed
// certificate (Dovecot's private instance runs without TLS). imapflow turns COMPRESS=DEFLATE on after login
// against both (Dovecot with imap_zlib), so every step after login runs compressed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectImapflow, nextEvent, type ImapflowClient } from './harness/imapflow-client.js';
import { startMailgateTarget, startTarget, type ImapServerName, type ImapTarget } from './harness/imap-targets.js';

const MULTIPART = [
  'From: Bob Example <bob@example.org>',
  'To: alice@localhost',
  'Subject: =?UTF-8?Q?caf=C3=A9_report?=',
  'Date: Mon, 7 Feb 1994 21:52:25 -0800',
  'Message-ID: <report-1@example.org>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  'preamble',
  '--outer',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: 8bit',
  '',
  'Grüße aus Köln',
  '--outer',
  'Content-Type: application/octet-stream; name="data.bin"',
  'Content-Disposition: attachment; filename="data.bin"',
  'Content-Transfer-Encoding: base64',
  '',
  'AAECAwQFBgcICQ==',
  '--outer--',
  '',
].join('\r\n');

/** The stored flags, sorted: \\Recent is session state (either server may show it on a message new to this session). */
const stored = (flags: Set<string> | undefined): string[] => [...(flags ?? [])].filter((f) => f !== '\\Recent').sort();

describe.each<ImapServerName>(['mailgate', 'dovecot'])('imapflow against %s', (server) => {
  let target: ImapTarget;
  let c: ImapflowClient | undefined;
  const fail = (err: unknown): never => {
    throw new Error(`${(err as Error).message}\n--- imapflow log ---\n${c?.transcript() ?? ''}`);
  };

  beforeAll(async () => {
    target = await startTarget(server);
    await target.deliver({ subject: 'first delivery', body: 'one' });
    await target.deliver({ subject: 'second delivery', body: 'two' });
    c = await connectImapflow({ port: target.imapPort, user: target.user, password: target.password, mode: 'plain' });
  }, 90_000);
  afterAll(async () => {
    await c?.close();
    await target?.stop();
  });

  it('logs in over plaintext on loopback and lists the special-use folders', async () => {
    const client = c!.client;
    expect(client.authenticated).toBeTruthy();
    expect(client.capabilities.has('IDLE')).toBe(true);
    const list = await client.list().catch(fail);
    const special = Object.fromEntries(list.filter((m) => m.specialUseSource === 'extension').map((m) => [m.specialUse, m.path]));
    expect(special).toEqual({ '\\Drafts': 'Drafts', '\\Sent': 'Sent', '\\Trash': 'Trash', '\\Junk': 'Junk' });
    expect(list.map((m) => m.path)).toContain('INBOX');
    expect(list.find((m) => m.path === 'Drafts')?.delimiter).toBe('/');
  });

  it('turned COMPRESS=DEFLATE on after login, as it does whenever the server announces it', () => {
    const client = c!.client;
    expect(client.capabilities.has('COMPRESS=DEFLATE')).toBe(true);
    // imapflow keeps no public flag: its inflater exists only once the server answered COMPRESS with OK.
    expect((client as unknown as { _inflate?: object })._inflate).toBeDefined();
    expect(c!.transcript()).toMatch(/COMPRESS DEFLATE/);
  });

  it('opens INBOX and fetches envelope, body structure and source of delivered mail', async () => {
    const client = c!.client;
    const box = await client.mailboxOpen('INBOX').catch(fail);
    expect(box.exists).toBe(2);
    expect(Number(box.uidValidity)).toBeGreaterThan(0);
    const msgs = await client.fetchAll('1:*', { uid: true, flags: true, envelope: true, bodyStructure: true, source: true, size: true }).catch(fail);
    expect(msgs.map((m) => m.envelope?.subject)).toEqual(['first delivery', 'second delivery']);
    const [first] = msgs;
    expect(first!.uid).toBeGreaterThan(0);
    expect(msgs[1]!.uid).toBeGreaterThan(first!.uid);
    expect(first!.envelope?.from?.[0]?.address).toBe('someone@example.org');
    expect(first!.envelope?.to?.[0]?.address).toBe('alice@localhost');
    expect(first!.bodyStructure?.type).toBe('text/plain');
    const source = first!.source!.toString('utf8');
    expect(source).toMatch(/^Received: /m);
    expect(source).toContain('Subject: first delivery');
    expect(source).toContain('\r\n\r\none\r\n');
    expect(first!.size).toBe(first!.source!.length);
    expect(first!.flags?.has('\\Seen')).toBe(false);
  });

  it('appends a multipart message with flags and reads its structure back', async () => {
    const client = c!.client;
    const appended = await client.append('Drafts', MULTIPART, ['\\Draft', '\\Seen'], new Date('2024-03-01T10:00:00Z')).catch(fail);
    expect(appended && appended.destination).toBe('Drafts');
    await client.mailboxOpen('Drafts');
    const msg = await client.fetchOne('*', { uid: true, flags: true, envelope: true, bodyStructure: true, source: true, internalDate: true }).catch(fail);
    expect(msg).not.toBe(false);
    if (msg === false) return;
    if (appended && appended.uid !== undefined) expect(msg.uid).toBe(appended.uid);
    expect(stored(msg.flags)).toEqual(['\\Draft', '\\Seen']);
    expect(msg.envelope?.subject).toBe('café report');
    expect(msg.envelope?.messageId).toBe('<report-1@example.org>');
    expect(new Date(msg.internalDate!).toISOString()).toBe('2024-03-01T10:00:00.000Z');
    expect(msg.source!.toString('utf8')).toBe(MULTIPART);
    const bs = msg.bodyStructure!;
    expect(bs.type).toBe('multipart/mixed');
    expect(bs.childNodes?.map((p) => [p.part, p.type, p.encoding])).toEqual([
      ['1', 'text/plain', '8bit'],
      ['2', 'application/octet-stream', 'base64'],
    ]);
    expect(bs.childNodes?.[1]?.disposition).toBe('attachment');
    expect(bs.childNodes?.[1]?.dispositionParameters).toEqual({ filename: 'data.bin' });
    const { content } = await client.download(String(msg.uid), '1', { uid: true });
    const chunks: Buffer[] = [];
    for await (const chunk of content ?? []) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString('utf8')).toBe('Grüße aus Köln');
  });

  it('flags a message and moves it to Trash (UIDPLUS map), INBOX shrinking by one', async () => {
    const client = c!.client;
    await client.mailboxOpen('INBOX');
    const [first] = await client.fetchAll('1', { uid: true });
    const uid = first!.uid;
    expect(await client.messageFlagsAdd(String(uid), ['\\Flagged', '$Label1'], { uid: true }).catch(fail)).toBe(true);
    const flagged = await client.fetchOne(String(uid), { flags: true }, { uid: true });
    expect(flagged && stored(flagged.flags)).toEqual(['$Label1', '\\Flagged']);
    const trashBefore = await client.status('Trash', { messages: true, uidNext: true });
    if (trashBefore === false) throw new Error('STATUS Trash failed');
    const moved = await client.messageMove(String(uid), 'Trash', { uid: true }).catch(fail);
    expect(moved && moved.destination).toBe('Trash');
    expect(moved && moved.uidMap?.get(uid)).toBe(trashBefore.uidNext);
    expect(client.mailbox && client.mailbox.exists).toBe(1);
    const trash = await client.status('Trash', { messages: true });
    expect(trash && trash.messages).toBe((trashBefore.messages ?? 0) + 1);
    await client.mailboxOpen('Trash');
    const inTrash = await client.fetchOne('*', { flags: true, envelope: true });
    expect(inTrash && inTrash.envelope?.subject).toBe('first delivery');
    expect(inTrash && stored(inTrash.flags)).toEqual(['$Label1', '\\Flagged']);
  });

  it('is woken in IDLE by a message delivered through the server (exists event)', async () => {
    const client = c!.client;
    const box = await client.mailboxOpen('INBOX');
    const before = box.exists;
    const exists = nextEvent<{ path: string; count: number; prevCount: number }>(c!, 'exists', (e) => e.path === 'INBOX' && e.count > before);
    const idling = client.idle();
    await target.deliver({ subject: 'while idling', body: 'wake up' });
    const e = await exists;
    expect(e.count).toBe(before + 1);
    // Any command ends IDLE (imapflow sends DONE first).
    const msg = await client.fetchOne('*', { envelope: true });
    expect(msg && msg.envelope?.subject).toBe('while idling');
    await idling;
  });
});

describe('imapflow over TLS against mailgate', () => {
  let target: ImapTarget;
  beforeAll(async () => {
    target = await startMailgateTarget();
    await target.deliver({ subject: 'over tls', body: 'secret' });
  }, 90_000);
  afterAll(async () => {
    await target?.stop();
  });

  for (const mode of ['starttls', 'tls'] as const) {
    it(`logs in with ${mode === 'tls' ? 'implicit TLS' : 'STARTTLS'} (self-signed certificate) and reads INBOX`, async () => {
      const port = mode === 'tls' ? target.imapsPort! : target.imapPort;
      const c = await connectImapflow({ port, user: target.user, password: target.password, mode });
      try {
        expect(c.client.secureConnection || mode === 'starttls').toBe(true);
        expect(c.client.capabilities.has('STARTTLS')).toBe(false);
        // COMPRESS inside TLS.
        expect((c.client as unknown as { _inflate?: object })._inflate).toBeDefined();
        const box = await c.client.mailboxOpen('INBOX');
        expect(box.exists).toBe(1);
        const msg = await c.client.fetchOne('1', { envelope: true, source: true });
        expect(msg && msg.envelope?.subject).toBe('over tls');
        expect(msg && msg.source!.toString('utf8')).toContain('secret');
      } catch (err) {
        throw new Error(`${(err as Error).message}\n--- imapflow log ---\n${c.transcript()}`);
      } finally {
        await c.close();
      }
    });
  }
});
