// Differential test: the same messages, with the same UIDs and UIDVALIDITY, in our POP3 server (memory store)
// and in a private Dovecot's POP3 (dovecot-pop3d, Maildir with a dovecot-uidlist written by the test); the
// same command script on both. Compared: CAPA (modulo IMPLEMENTATION and the SASL mechanism list), the status
// of every reply, the full first line of STAT/LIST/UIDL/RETR, LIST and UIDL listings, RETR and TOP n (0, 1,
// 1000) bodies byte for byte, DELE/RSET/QUIT effects in the next session, a dropped connection's effects, and
// which messages end up \Seen (read back over Dovecot's IMAP and from our store).
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryMailboxStore } from '../../src/store/mailbox/memory.js';
import { Pop3TestClient } from '../pop3/client.js';
import { startPop3, type StartedPop3 } from '../pop3/harness.js';
import { startDovecotPop3, writeMaildir, type DovecotPop3 } from './harness/dovecot-pop3.js';
import { imapMessages } from './harness/imap.js';
import { makeTempDir, type TempDir } from './harness/tmpdir.js';

const ALICE = 'alice@example.org';
const PASSWORD = 'secret';
const UIDVALIDITY = 1_712_345_678;

const CORPUS: Buffer[] = [
  Buffer.from('From: a@example.net\nTo: alice@example.org\nSubject: LF only\n\nHello\n.leading dot\n..two dots\n.\nlast\n'),
  Buffer.from('From: b@example.net\r\nSubject: CRLF, no final newline\r\n\r\nl1\r\nl2\r\nl3\r\nno final newline'),
  Buffer.from('Subject: header only\n'),
  Buffer.from('Subject: =?UTF-8?Q?caf=C3=A9?=\nX-Raw: caf\u00e9 \u00fc\n\n8-bit body \u00e9\u00e8\n\n\nafter blank lines\n', 'utf8'),
  Buffer.from('Subject: empty body\n\n'),
  Buffer.from('Subject: big\n\n' + Array.from({ length: 3000 }, (_, i) => `${i % 10 === 0 ? '.' : ''}line ${i} ${'y'.repeat(60)}`).join('\n') + '\n'),
];

/** Commands that answer with a body after +OK. */
function isMulti(command: string): boolean {
  const [keyword, ...args] = command.toUpperCase().split(' ');
  if (keyword === 'CAPA' || keyword === 'RETR' || keyword === 'TOP') return true;
  return (keyword === 'LIST' || keyword === 'UIDL' || keyword === 'AUTH') && args.length === 0;
}

interface Reply {
  command: string;
  status: string;
  body?: string;
}

async function runScript(port: number, commands: readonly string[], opts: { drop?: boolean } = {}): Promise<Reply[]> {
  const c = await Pop3TestClient.connect(port);
  const replies: Reply[] = [{ command: '(greeting)', status: await c.line() }];
  for (const command of commands) {
    const status = await c.command(command).catch((e: Error) => { throw new Error(`${command}: ${e.message}\n${JSON.stringify(replies)}`); });
    const reply: Reply = { command, status };
    if (status.startsWith('+OK') && isMulti(command)) reply.body = (await c.body()).toString('latin1');
    replies.push(reply);
  }
  if (opts.drop) c.destroy();
  else await c.closed().catch((e: Error) => { throw new Error(`${e.message}\n${JSON.stringify(replies)}`); });
  return replies;
}

/** What must be equal: the status always; first lines where RFC 1939 fixes them; bodies (CAPA as a set). */
function comparable(r: Reply): unknown {
  const keyword = r.command.split(' ')[0]!.toUpperCase();
  const ok = r.status.startsWith('+OK');
  const out: Record<string, unknown> = { command: r.command, ok };
  if (ok && ['STAT', 'LIST', 'UIDL'].includes(keyword) && r.body === undefined) out.status = r.status;
  if (ok && keyword === 'RETR') out.status = r.status;
  // AUTH alone lists the mechanisms: Dovecot's harness also has LOGIN.
  if (keyword === 'AUTH' && r.body !== undefined) out.body = r.body.split('\r\n').includes('PLAIN');
  else if (keyword === 'CAPA' && r.body !== undefined)
    out.body = r.body
      .split('\r\n')
      .filter((l) => l !== '' && !l.startsWith('IMPLEMENTATION') && !l.startsWith('SASL'))
      .sort();
  else if (r.body !== undefined) out.body = r.body;
  return out;
}

function login(): string[] {
  return [`USER ${ALICE}`, `PASS ${PASSWORD}`];
}

let tmp: TempDir;
let dovecot: DovecotPop3;
let ours: StartedPop3;

beforeAll(async () => {
  tmp = await makeTempDir('pop3-diff');
  const maildir = join(tmp.path, 'alice');
  await writeMaildir(maildir, CORPUS, UIDVALIDITY);
  dovecot = await startDovecotPop3([{ name: ALICE, password: PASSWORD, maildir }]);
  const store = new MemoryMailboxStore({ now: () => UIDVALIDITY * 1000 });
  for (const m of CORPUS) await store.delivery.deliver(ALICE, () => Readable.from([m]), { hostname: 'test' });
  ours = await startPop3({ store, tls: false });
}, 60_000);

afterAll(async () => {
  await ours?.close();
  await dovecot?.stop();
  await tmp?.remove();
});

async function both(commands: readonly string[], opts: { drop?: boolean } = {}): Promise<{ theirs: Reply[]; mine: Reply[] }> {
  const theirs = await runScript(dovecot.pop3Port, commands, opts);
  const mine = await runScript(ours.port, commands, opts);
  return { theirs, mine };
}

async function seenUids(): Promise<{ theirs: number[]; mine: number[] }> {
  const theirs = (await imapMessages({ port: dovecot.dovecot.imapPort, user: ALICE, password: PASSWORD })).filter((m) => m.flags.includes('\\Seen')).map((m) => m.uid);
  const handle = await ours.store.openUser(ALICE);
  const box = await handle.open('INBOX', 'read-only');
  const mine = (await box.snapshot()).records.filter((r) => r.flags.includes('\\Seen')).map((r) => r.uid);
  await handle.release();
  return { theirs, mine };
}

describe('POP3 against Dovecot', () => {
  it('the same UIDVALIDITY on both sides (so UIDL values can be equal)', async () => {
    const handle = await ours.store.openUser(ALICE);
    expect((await handle.status('INBOX')).uidValidity).toBe(UIDVALIDITY);
    await handle.release();
  });

  it('AUTHORIZATION: CAPA, wrong state, wrong password, USER/PASS order', async () => {
    // The 4th bad command before login closes the connection on both.
    const bad = await both(['CAPA', 'STAT', 'LIST', 'RETR 1', 'PASS x']);
    expect(bad.mine.map(comparable)).toEqual(bad.theirs.map(comparable));
    const wrong = await both(['PASS x', `USER ${ALICE}`, 'PASS wrong', 'AUTH', `USER ${ALICE}`, `PASS ${PASSWORD}`, 'USER x', 'QUIT']);
    expect(wrong.mine.map(comparable)).toEqual(wrong.theirs.map(comparable));
  });

  it('TRANSACTION reads: CAPA, STAT, LIST, UIDL, RETR and TOP 0/1/1000 of every message, bad numbers', async () => {
    const n = CORPUS.length;
    const reads = Array.from({ length: n }, (_, i) => [`LIST ${i + 1}`, `UIDL ${i + 1}`, `RETR ${i + 1}`, `TOP ${i + 1} 0`, `TOP ${i + 1} 1`, `TOP ${i + 1} 1000`]).flat();
    // RSET before QUIT: this session leaves no \Seen behind for the next tests.
    const script = [...login(), 'CAPA', 'STAT', 'LIST', 'UIDL', ...reads, 'LIST 0', `LIST ${n + 1}`, 'RETR 0', `RETR ${n + 1}`, 'TOP 1', 'NOOP', 'FOO', 'RSET', 'QUIT'];
    const { theirs, mine } = await both(script);
    expect(mine.map(comparable)).toEqual(theirs.map(comparable));
  });

  it('bad arguments after login: the same statuses', async () => {
    const { theirs, mine } = await both([...login(), 'LIST x', 'LIST 1 2', 'RETR -1', 'TOP 1 -1', 'TOP 1 2 3', 'UIDL 0', 'DELE', 'STAT 1', 'RSET', 'QUIT']);
    expect(mine.map(comparable)).toEqual(theirs.map(comparable));
  });

  it('DELE/RSET/QUIT: marks, unmarks, expunges at QUIT; \\Seen as Dovecot sets it; a dropped connection deletes nothing', async () => {
    const first = await both([...login(), 'DELE 1', 'DELE 1', 'RETR 1', 'LIST 1', 'STAT', 'LIST', 'RSET', 'STAT', 'DELE 2', 'RETR 3', 'STAT', 'QUIT']);
    expect(first.mine.map(comparable)).toEqual(first.theirs.map(comparable));
    const afterQuit = await both([...login(), 'STAT', 'LIST', 'UIDL', 'RETR 1', 'DELE 2'], { drop: true });
    expect(afterQuit.mine.map(comparable)).toEqual(afterQuit.theirs.map(comparable));
    // Give both servers a moment to see the dropped connection and clean up.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const afterDrop = await both([...login(), 'STAT', 'UIDL', 'QUIT']);
    expect(afterDrop.mine.map(comparable)).toEqual(afterDrop.theirs.map(comparable));
    const seen = await seenUids();
    expect(seen.mine).toEqual(seen.theirs);
    expect(seen.mine.length).toBeGreaterThan(0);
  });
});
