/**
 * STORE / UID STORE: +FLAGS, -FLAGS, FLAGS, .SILENT, flag lists and bare flags; the untagged FETCH
 * responses as Dovecot writes them (only changed messages; UID first for UID STORE; MODSEQ once CONDSTORE
 * is on); new keywords announced with FLAGS/PERMANENTFLAGS first; UNCHANGEDSINCE and [MODIFIED]; a
 * read-only mailbox; expunges held back during STORE but not UID STORE; every BAD case; state.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Mailbox } from '../../../src/store/mailbox/mailbox-store.js';
import { Env, loggedIn, type Client } from '../harness/transcript.js';
import { deliver, select } from './helpers.js';

let env: Env;
let other: Mailbox;
beforeEach(async () => {
  env = new Env();
  await deliver(env, 3);
  other = await (await env.store.openUser('alice')).open('INBOX', 'read-write');
});
afterEach(async () => {
  await other.close();
  await env.close();
});

async function selected(): Promise<Client> {
  const c = await loggedIn(env);
  await select(c, 'INBOX', 3);
  return c;
}

async function modseqs(): Promise<number[]> {
  const { records } = await other.snapshot();
  return records.map((r) => r.modseq);
}

describe('STORE', () => {
  it('+FLAGS, -FLAGS, FLAGS answer FETCH (FLAGS) for the messages that changed', async () => {
    const c = await selected();
    await c.run(`
      C: a1 STORE 1:2 +FLAGS (\\Seen \\Flagged)
      S: * 1 FETCH (FLAGS (\\Flagged \\Seen \\Recent))
      S: * 2 FETCH (FLAGS (\\Flagged \\Seen \\Recent))
      S: a1 OK Store completed.
      C: a2 STORE 1:3 +FLAGS \\Seen
      S: * 3 FETCH (FLAGS (\\Seen \\Recent))
      S: a2 OK Store completed.
      C: a3 STORE 2 -FLAGS (\\Flagged)
      S: * 2 FETCH (FLAGS (\\Seen \\Recent))
      S: a3 OK Store completed.
      C: a4 store 1 flags (\\answered)
      S: * 1 FETCH (FLAGS (\\Answered \\Recent))
      S: a4 OK Store completed.
      C: a5 STORE 1 FLAGS ()
      S: * 1 FETCH (FLAGS (\\Recent))
      S: a5 OK Store completed.
      C: a6 STORE 1 -FLAGS (\\Deleted)
      S: a6 OK Store completed.
      C: a7 NOOP
      S: a7 OK NOOP completed.
    `);
  });

  it('.SILENT answers nothing, and nothing comes later either', async () => {
    const c = await selected();
    await c.run(`
      C: a1 STORE 1 +FLAGS.SILENT (\\Deleted)
      S: a1 OK Store completed.
      C: a2 NOOP
      S: a2 OK NOOP completed.
    `);
    expect((await other.snapshot()).records[0]!.flags).toEqual(['\\Deleted']);
  });

  it('.SILENT still tells flags another session changed meanwhile', async () => {
    const c = await selected();
    await other.setFlags([1], { mode: 'add', flags: ['\\Answered'] });
    await c.run(`
      C: a1 STORE 1:2 +FLAGS.SILENT (\\Seen)
      S: * 1 FETCH (FLAGS (\\Answered \\Seen \\Recent))
      S: a1 OK Store completed.
      C: a2 NOOP
      S: a2 OK NOOP completed.
    `);
  });

  it('a keyword another session made is announced before a FETCH shows it', async () => {
    // RFC 3501 §7.2.6: the client learns the mailbox's flags from FLAGS; a FETCH that shows a keyword
    // set by another session names it there first (imaptest's stress run found it missing).
    const c = await selected();
    await other.setFlags([1], { mode: 'add', flags: ['$New'] });
    await c.run(`
      C: a1 FETCH 1 FLAGS
      S: * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $New)
      S: * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $New \\*)] Flags permitted.
      S: * 1 FETCH (FLAGS (\\Recent $New))
      S: a1 OK Fetch completed.
      C: a2 NOOP
      S: a2 OK NOOP completed.
    `);
  });

  it('UID STORE puts UID first and skips UIDs that are not there', async () => {
    const c = await selected();
    await c.run(`
      C: a1 UID STORE 2,3,99 +FLAGS (\\Draft)
      S: * 2 FETCH (UID 2 FLAGS (\\Draft \\Recent))
      S: * 3 FETCH (UID 3 FLAGS (\\Draft \\Recent))
      S: a1 OK Store completed.
      C: a2 UID STORE 99:100 +FLAGS (\\Draft)
      S: a2 OK Store completed.
    `);
  });

  it('a new keyword is announced first with FLAGS and PERMANENTFLAGS', async () => {
    const c = await selected();
    await c.run(`
      C: a1 STORE 1 +FLAGS ($Work Later)
      S: * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work Later)
      S: * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work Later \\*)] Flags permitted.
      S: * 1 FETCH (FLAGS (\\Recent $Work Later))
      S: a1 OK Store completed.
      C: a2 STORE 2 +FLAGS.SILENT ($Work)
      S: a2 OK Store completed.
      C: a3 NOOP
      S: a3 OK NOOP completed.
    `);
  });

  it('CONDSTORE: UNCHANGEDSINCE, [MODIFIED] by sequence number or UID, MODSEQ in the responses', async () => {
    // (the other handle's snapshot claims \\Recent: the session sees none)
    const [, m2, m3] = await modseqs();
    const c = await selected();
    await other.setFlags([2], { mode: 'add', flags: ['\\Answered'] });
    const [, m2b] = await modseqs();
    await c.run(`
      C: a1 STORE 1:2 (UNCHANGEDSINCE ${m2}) +FLAGS (\\Seen)
      S: * 1 FETCH (MODSEQ (*) FLAGS (\\Seen))
      S: * 2 FETCH (FLAGS (\\Answered) MODSEQ (${m2b}))
      S: a1 OK [MODIFIED 2] Conditional store failed.
      C: a2 UID STORE 1:3 (UNCHANGEDSINCE ${m3}) +FLAGS.SILENT (\\Draft)
      S: * 3 FETCH (UID 3 MODSEQ (*))
      S: a2 OK [MODIFIED 1:2] Conditional store failed.
      C: a3 STORE 3 (UNCHANGEDSINCE 0) FLAGS ()
      S: a3 OK [MODIFIED 3] Conditional store failed.
      C: a4 UID STORE 1 +FLAGS (\\Flagged)
      S: * 1 FETCH (UID 1 MODSEQ (*) FLAGS (\\Flagged \\Seen))
      S: a4 OK Store completed.
    `);
    expect(c.session.enabled.has('CONDSTORE')).toBe(true);
  });

  it('a read-only mailbox ignores STORE', async () => {
    const c = await loggedIn(env);
    await select(c, 'INBOX', 3, 'EXAMINE');
    await c.run(`
      C: a1 STORE 1 +FLAGS (\\Seen)
      S: a1 OK Store ignored with read-only mailbox.
    `);
    expect((await other.snapshot()).records[0]!.flags).toEqual([]);
  });

  it('expunges by others are held back during STORE, sent during UID STORE', async () => {
    const c = await selected();
    await other.setFlags([1], { mode: 'add', flags: ['\\Deleted'] });
    await other.expunge();
    await c.run(`
      C: a1 STORE 3 +FLAGS (\\Seen)
      S: * 3 FETCH (FLAGS (\\Seen \\Recent))
      S: a1 OK Store completed.
      C: a2 UID STORE 3 +FLAGS (\\Answered)
      S: * 3 FETCH (UID 3 FLAGS (\\Answered \\Seen \\Recent))
      S: * 1 EXPUNGE
      S: a2 OK Store completed.
      C: a3 STORE 2 +FLAGS (\\Draft)
      S: * 2 FETCH (FLAGS (\\Answered \\Seen \\Draft \\Recent))
      S: a3 OK Store completed.
    `);
  });

  it.each([
    ['STORE', 'expected SP *'],
    ['STORE 1', 'expected SP *'],
    ['STORE 1 +FLAGS', 'expected SP *'],
    ['STORE 1 FOO (\\Seen)', 'Invalid arguments'],
    ['STORE 1 +FLAGS.LOUD (\\Seen)', 'Invalid arguments'],
    ['STORE 1 +FLAGS (\\Recent)', 'Invalid system flag \\RECENT'],
    ['STORE 1 +FLAGS (\\Foo)', 'Invalid system flag \\FOO'],
    ['STORE 1 +FLAGS (\\Seen', 'expected SP or ")" *'],
    ['STORE 0 +FLAGS (\\Seen)', 'expected a non-zero number *'],
    ['STORE 4 +FLAGS (\\Seen)', 'Invalid messageset'],
    ['STORE a +FLAGS (\\Seen)', 'expected a sequence set *'],
    ['STORE 1 (FOO 1) +FLAGS (\\Seen)', 'Unknown STORE modifier FOO'],
    ['STORE 1 (UNCHANGEDSINCE x) +FLAGS (\\Seen)', 'expected a mod-sequence value *'],
    ['STORE 1 () +FLAGS (\\Seen)', '*'],
    ['STORE 1 +FLAGS (\\Seen) extra', '*'],
  ])('%s is BAD', async (cmd, text) => {
    const c = await selected();
    await c.run(`
      C: b1 ${cmd}
      S: b1 BAD Error in IMAP command STORE: ${text}
    `);
  });

  it('needs a selected mailbox', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 STORE 1 +FLAGS (\\Seen)
      S: a1 BAD No mailbox selected.
      C: a2 UID STORE 1 +FLAGS (\\Seen)
      S: a2 BAD No mailbox selected.
    `);
  });
});
