/**
 * QRESYNC (RFC 7162 §3.2) over the memory store: ENABLE, SELECT's QRESYNC parameter (VANISHED (EARLIER) and
 * FETCH after HIGHESTMODSEQ), VANISHED in place of EXPUNGE (with sequence numbers still right afterwards),
 * UID FETCH's VANISHED modifier, [CLOSED], and BAD for every malformed parameter.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Mailbox, UserMailboxes } from '../../src/store/mailbox/mailbox-store.js';
import { Env, loggedIn, type Client } from './harness/transcript.js';
import { deliver, response, select } from './commands/helpers.js';

let env: Env;
let user: UserMailboxes;
let other: Mailbox;
/** INBOX's UIDVALIDITY and its HIGHESTMODSEQ after the six deliveries. */
let uv: number;
let m0: number;

beforeEach(async () => {
  env = new Env();
  await deliver(env, 6);
  user = await env.store.openUser('alice');
  other = await user.open('INBOX', 'read-write');
  ({ uidValidity: uv, highestModseq: m0 } = await user.status('INBOX'));
});
afterEach(async () => {
  await other.close();
  await env.close();
});

/** Another session expunges these UIDs. */
async function expungeElsewhere(uids: number[]): Promise<void> {
  await other.setFlags(uids, { mode: 'add', flags: ['\\Deleted'] });
  await other.expunge(uids);
}

async function qresyncClient(): Promise<Client> {
  const c = await loggedIn(env);
  await c.run(`
    C: e1 ENABLE QRESYNC
    S: * ENABLED QRESYNC
    S: e1 OK Enabled.
  `);
  return c;
}

const SELECT_HEAD = (exists: number): string => `
  S: * FLAGS *
  S: * OK [PERMANENTFLAGS *] *
  S: * ${exists} EXISTS
  S: * * RECENT
  S: * OK [UNSEEN *] *
  S: * OK [UIDVALIDITY *] *
  S: * OK [UIDNEXT *] *
  S: * OK [HIGHESTMODSEQ *] Highest
`;

describe('ENABLE QRESYNC', () => {
  it('is announced, and turns CONDSTORE on without naming it', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 CAPABILITY
      S: * CAPABILITY * CONDSTORE QRESYNC *
      S: a1 OK *
    `);
    const q = await qresyncClient();
    expect(q.session.enabled.has('CONDSTORE')).toBe(true);
    await q.run(`
      C: a2 ENABLE QRESYNC CONDSTORE
      S: * ENABLED
      S: a2 OK Enabled.
    `);
    await c.run(`
      C: a3 ENABLE QRESYNC CONDSTORE
      S: * ENABLED QRESYNC CONDSTORE
      S: a3 OK Enabled.
    `);
  });
});

describe('VANISHED instead of EXPUNGE', () => {
  it('EXPUNGE answers VANISHED and the tagged reply carries HIGHESTMODSEQ; sequence numbers follow', async () => {
    const c = await qresyncClient();
    await select(c, 'INBOX', 6);
    await c.run(`
      C: a1 STORE 2,4:5 +FLAGS.SILENT (\\Deleted)
      S: * 2 FETCH (UID 2 MODSEQ (*))
      S: * 4 FETCH (UID 4 MODSEQ (*))
      S: * 5 FETCH (UID 5 MODSEQ (*))
      S: a1 OK *
      C: a2 EXPUNGE
      S: * VANISHED 2,4:5
      S: a2 OK [HIGHESTMODSEQ *] Expunge completed.
      C: a3 FETCH 1:* (UID)
      S: * 1 FETCH (UID 1)
      S: * 2 FETCH (UID 3)
      S: * 3 FETCH (UID 6)
      S: a3 OK Fetch completed.
      C: a4 EXPUNGE
      S: a4 OK Expunge completed.
    `);
    const highest = (await user.status('INBOX')).highestModseq;
    c.send(`a5 NOOP\r\n`);
    expect(await response(c, 'a5')).toEqual(['a5 OK NOOP completed.']);
    expect(highest).toBeGreaterThan(m0);
  });

  it('an expunge by another session comes as VANISHED at NOOP, not during FETCH (whose reply names the MODSEQ before it)', async () => {
    const c = await qresyncClient();
    await select(c, 'INBOX', 6);
    await expungeElsewhere([3, 4]);
    const highest = (await user.status('INBOX')).highestModseq;
    await c.run(`
      C: a1 FETCH 4 (UID)
      S: * 4 FETCH (UID 4)
      S: a1 * [HIGHESTMODSEQ ${m0}] *
      C: a2 NOOP
      S: * VANISHED 3:4
      S: a2 OK [HIGHESTMODSEQ ${highest}] NOOP completed.
      C: a3 FETCH 3 (UID)
      S: * 3 FETCH (UID 5)
      S: a3 OK Fetch completed.
    `);
  });

  it('a reply with a code of its own ([MODIFIED]) while an expunge is held back: an untagged HIGHESTMODSEQ first', async () => {
    const c = await qresyncClient();
    await select(c, 'INBOX', 6);
    await expungeElsewhere([2]);
    await other.setFlags([3], { mode: 'add', flags: ['\\Flagged'] });
    await c.run(`
      C: a1 STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\\Seen)
      S: * 3 FETCH (UID 3 MODSEQ (*) FLAGS (*))
      S: * OK [HIGHESTMODSEQ ${m0}] Highest
      S: a1 OK [MODIFIED 1] Conditional store failed.
    `);
  });

  it('MOVE answers VANISHED after COPYUID; CLOSE stays silent', async () => {
    await user.create('Work');
    const c = await qresyncClient();
    await select(c, 'INBOX', 6);
    await c.run(`
      C: a1 UID MOVE 2:3 Work
      S: * OK [COPYUID * 2:3 1:2] Moved UIDs.
      S: * VANISHED 2:3
      S: a1 OK [HIGHESTMODSEQ *] Move completed.
      C: a2 STORE 1 +FLAGS.SILENT (\\Deleted)
      S: * 1 FETCH (UID 1 MODSEQ (*))
      S: a2 OK *
      C: a3 CLOSE
      S: a3 OK Close completed.
    `);
    expect((await user.status('INBOX')).messages).toBe(3);
  });

  it('an expunge during IDLE is one VANISHED', async () => {
    const c = await qresyncClient();
    await select(c, 'INBOX', 6);
    await c.run(`
      C: a1 IDLE
      S: + idling
    `);
    await expungeElsewhere([1, 6]);
    await c.run(`
      S: * VANISHED 1,6
      C: DONE
      S: a1 OK Idle completed.
      C: a2 FETCH 1:* (UID)
      S: * 1 FETCH (UID 2)
      S: * 2 FETCH (UID 3)
      S: * 3 FETCH (UID 4)
      S: * 4 FETCH (UID 5)
      S: a2 OK Fetch completed.
    `);
  });

  it('new mail gets HIGHESTMODSEQ on the reply too; a flag change is a FETCH with UID MODSEQ FLAGS and none', async () => {
    const c = await qresyncClient();
    await select(c, 'INBOX', 6);
    await deliver(env, 1);
    const afterDelivery = (await user.status('INBOX')).highestModseq;
    await c.run(`
      C: a1 NOOP
      S: * 7 EXISTS
      S: * 7 RECENT
      S: a1 OK [HIGHESTMODSEQ ${afterDelivery}] NOOP completed.
    `);
    await other.setFlags([2], { mode: 'add', flags: ['\\Flagged'] });
    const afterFlag = (await user.status('INBOX')).highestModseq;
    await c.run(`
      C: a2 NOOP
      S: * 2 FETCH (UID 2 MODSEQ (${afterFlag}) FLAGS (\\Flagged \\Recent))
      S: a2 OK NOOP completed.
    `);
  });

  it('without QRESYNC, EXPUNGE stays EXPUNGE', async () => {
    const c = await loggedIn(env);
    await select(c, 'INBOX', 6);
    await expungeElsewhere([2]);
    await c.run(`
      C: a1 NOOP
      S: * 2 EXPUNGE
      S: a1 OK NOOP completed.
    `);
  });
});

describe('SELECT (QRESYNC ...)', () => {
  it('is BAD before ENABLE QRESYNC, and leaves the selection alone', async () => {
    const c = await loggedIn(env);
    await select(c, 'INBOX', 6);
    await c.run(`
      C: a1 SELECT INBOX (QRESYNC (${uv} 1))
      S: a1 BAD Error in IMAP command SELECT: QRESYNC not enabled
      C: a2 NOOP
      S: a2 OK NOOP completed.
    `);
    expect(c.session.state).toBe('selected');
  });

  it('sends VANISHED (EARLIER) and the changed messages after HIGHESTMODSEQ, and [CLOSED] when one was selected', async () => {
    await expungeElsewhere([2, 4]);
    await other.setFlags([5], { mode: 'add', flags: ['\\Seen'] });
    const c = await qresyncClient();
    await select(c, 'INBOX', 4);
    await c.run(`
      C: a1 SELECT INBOX (QRESYNC (${uv} ${m0}))
      S: * OK [CLOSED] Previous mailbox closed.
      ${SELECT_HEAD(4)}
      S: * VANISHED (EARLIER) 2,4
      S: * 3 FETCH (UID 5 FLAGS (\\Seen) MODSEQ (*))
      S: a1 OK [READ-WRITE] Select completed.
    `);
  });

  it('limits both to the known UIDs, and the match data narrows VANISHED', async () => {
    await expungeElsewhere([2, 4]);
    const c = await qresyncClient();
    await c.run(`
      C: a1 EXAMINE INBOX (QRESYNC (${uv} 1 1:3))
      ${SELECT_HEAD(4)}
      S: * VANISHED (EARLIER) 2
      S: * 1 FETCH (UID 1 FLAGS () MODSEQ (*))
      S: * 2 FETCH (UID 3 FLAGS () MODSEQ (*))
      S: a1 OK [READ-ONLY] Examine completed.
      C: a2 EXAMINE INBOX (QRESYNC (${uv} ${m0} 1:6 (1,2 1,3)))
      S: * OK [CLOSED] *
      ${SELECT_HEAD(4)}
      S: * VANISHED (EARLIER) 4
      S: a2 OK [READ-ONLY] Examine completed.
      C: a3 EXAMINE INBOX (QRESYNC (${uv} ${m0} 1:6 (1:4 1,3,5,6)))
      S: * OK [CLOSED] *
      ${SELECT_HEAD(4)}
      S: a3 OK [READ-ONLY] Examine completed.
    `);
  });

  it("stops trusting the match data at its first mismatch (the client's view is wrong from there), as Dovecot", async () => {
    await expungeElsewhere([2]);
    const c = await qresyncClient();
    // (seq 2 is UID 3 now, not 2; seq 3 happens to be UID 4 again after that mismatch)
    await c.run(`
      C: a1 EXAMINE INBOX (QRESYNC (${uv} ${m0} 1:6 (1:3 1,2,4)))
      ${SELECT_HEAD(5)}
      S: * VANISHED (EARLIER) 2
      S: a1 OK [READ-ONLY] Examine completed.
    `);
  });

  it('takes known-uids in any order (only the match data must ascend)', async () => {
    await expungeElsewhere([2, 4]);
    const c = await qresyncClient();
    await c.run(`
      C: a1 EXAMINE INBOX (QRESYNC (${uv} ${m0} 5,1:3))
      ${SELECT_HEAD(4)}
      S: * VANISHED (EARLIER) 2
      S: a1 OK [READ-ONLY] Examine completed.
    `);
  });

  it('lists every message of a large mailbox from MODSEQ 0, in order (written in batches)', async () => {
    await deliver(env, 2100);
    const c = await qresyncClient();
    c.send(`a1 EXAMINE INBOX (QRESYNC (${uv} 0))\r\n`);
    const lines = await response(c, 'a1');
    const seqs = lines.filter((l) => / FETCH \(UID \d+ FLAGS \(\) MODSEQ \(\d+\)\)$/.test(l)).map((l) => Number(l.split(' ')[1]));
    expect(seqs).toEqual(Array.from({ length: 2106 }, (_, i) => i + 1));
    expect(lines.at(-1)).toBe('a1 OK [READ-ONLY] Examine completed.');
  });

  it('tells nothing more when the UIDVALIDITY differs; at the highest MODSEQ only the gone UIDs', async () => {
    await expungeElsewhere([2]);
    const { highestModseq } = await user.status('INBOX');
    const c = await qresyncClient();
    await c.run(`
      C: a1 SELECT INBOX (QRESYNC (${uv + 1} 1))
      ${SELECT_HEAD(5)}
      S: a1 OK [READ-WRITE] Select completed.
      C: a2 SELECT INBOX (CONDSTORE QRESYNC (${uv} ${highestModseq} 1:10))
      S: * OK [CLOSED] *
      ${SELECT_HEAD(5)}
      S: * VANISHED (EARLIER) 2
      S: a2 OK [READ-WRITE] Select completed.
      C: a3 SELECT INBOX (QRESYNC (${uv} ${highestModseq} 3:10 (1:2 1,3)))
      S: * OK [CLOSED] *
      ${SELECT_HEAD(5)}
      S: a3 OK [READ-WRITE] Select completed.
    `);
  });

  it.each([
    ['(QRESYNC)', 'QRESYNC parameters missing'],
    ['(QRESYNC ())', 'Invalid QRESYNC parameters: expected a UIDVALIDITY at column *'],
    ['(QRESYNC (1))', 'Invalid QRESYNC parameters: expected SP at column *'],
    ['(QRESYNC (x 1))', 'Invalid QRESYNC parameters: expected a UIDVALIDITY *'],
    ['(QRESYNC (1 99999999999999999999))', 'Invalid QRESYNC parameters: number over 9223372036854775807 *'],
    ['(QRESYNC (1 1 *))', 'Invalid QRESYNC known-uids: "*" is not allowed *'],
    ['(QRESYNC (1 1 1:7 (3,1 1,2)))', 'Invalid QRESYNC known-sequence-set: numbers not ascending *'],
    ['(QRESYNC (1 1 1:7 (1:4)))', 'Invalid QRESYNC known-uid-set: missing'],
    ['(QRESYNC (1 1 1:7 ()))', 'Invalid QRESYNC known-sequence-set: expected a sequence set *'],
    ['(QRESYNC (1 1 1:7 (1:4 1,3,5)))', 'Invalid QRESYNC sets: not of the same size'],
    ['(QRESYNC (1 1 1:7 (0:1 1)))', 'Invalid QRESYNC known-sequence-set: expected a non-zero number *'],
    ['(QRESYNC (1 1 1:7 (1 1))', 'expected SP or ")" *'],
    ['(QRESYNC (1 1) FOO)', 'Unknown FETCH modifier'],
  ])('SELECT INBOX %s is BAD: %s', async (params, text) => {
    const c = await qresyncClient();
    await c.run(`
      C: b1 SELECT INBOX ${params}
      S: b1 BAD Error in IMAP command SELECT: ${text}
      C: b2 NOOP
      S: b2 OK NOOP completed.
    `);
  });
});

describe('UID FETCH (CHANGEDSINCE n VANISHED)', () => {
  it('sends VANISHED (EARLIER) for the set before the FETCH lines', async () => {
    const c = await qresyncClient();
    await select(c, 'INBOX', 6);
    await c.run(`
      C: a1 UID STORE 2,6 +FLAGS.SILENT (\\Deleted)
      S: * 2 FETCH (UID 2 MODSEQ (*))
      S: * 6 FETCH (UID 6 MODSEQ (*))
      S: a1 OK *
      C: a2 EXPUNGE
      S: * VANISHED 2,6
      S: a2 OK [HIGHESTMODSEQ *] *
      C: a3 UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${m0} VANISHED)
      S: * VANISHED (EARLIER) 2,6
      S: a3 OK Fetch completed.
      C: a4 UID FETCH 3:4 (FLAGS) (VANISHED CHANGEDSINCE 1)
      S: * 2 FETCH (UID 3 FLAGS (\\Recent) MODSEQ (*))
      S: * 3 FETCH (UID 4 FLAGS (\\Recent) MODSEQ (*))
      S: a4 OK Fetch completed.
    `);
    // even at the highest MODSEQ: the store does not know when a UID went (vanished.ts)
    const { highestModseq } = await user.status('INBOX');
    await c.run(`
      C: a5 UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${highestModseq} VANISHED)
      S: * VANISHED (EARLIER) 2,6
      S: a5 OK Fetch completed.
      C: a6 UID FETCH 3:5 (FLAGS) (CHANGEDSINCE ${highestModseq} VANISHED)
      S: a6 OK Fetch completed.
    `);
  });

  it.each([
    ['UID FETCH 1:* (FLAGS) (VANISHED)', 'UID FETCH', 'VANISHED used without CHANGEDSINCE at column *'],
    ['FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)', 'FETCH', 'Unknown FETCH modifier VANISHED at column *'],
    ['UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED 2)', 'UID FETCH', 'Unknown FETCH modifier 2 at column *'],
  ])('%s is BAD', async (cmd, name, text) => {
    const c = await qresyncClient();
    await select(c, 'INBOX', 6);
    await c.run(`
      C: b1 ${cmd}
      S: b1 BAD Error in IMAP command ${name}: ${text}
    `);
  });

  it('a FETCH that sets \\Seen is followed by the message\'s new MODSEQ (as Dovecot)', async () => {
    const c = await qresyncClient();
    await select(c, 'INBOX', 6);
    await c.run(`
      C: a1 FETCH 2 (BODY[TEXT])
      S: * 2 FETCH (FLAGS (\\Seen \\Recent) BODY[TEXT] {8}
      S: body 1
      S: )
      S: * 2 FETCH (UID 2 MODSEQ (${m0 + 1}))
      S: a1 OK Fetch completed.
      C: a2 FETCH 2 (BODY[TEXT])
      S: * 2 FETCH (BODY[TEXT] {8}
      S: body 1
      S: )
      S: a2 OK Fetch completed.
    `);
  });

  it('is BAD without ENABLE QRESYNC', async () => {
    const c = await loggedIn(env);
    await select(c, 'INBOX', 6);
    await c.run(`
      C: b1 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)
      S: b1 BAD Error in IMAP command UID FETCH: QRESYNC not enabled
    `);
  });
});

describe('a long VANISHED (EARLIER) set', () => {
  it('comes in lines of about 4 kB, together naming every gone UID', async () => {
    await deliver(env, 3000);
    const gone = Array.from({ length: 1500 }, (_, i) => 2 * i + 7);
    await expungeElsewhere(gone);
    const c = await qresyncClient();
    c.send(`a1 EXAMINE INBOX (QRESYNC (${uv} 1))\r\n`);
    const answer = await response(c, 'a1');
    const sets = answer.filter((l) => l.startsWith('* VANISHED (EARLIER) ')).map((l) => l.slice('* VANISHED (EARLIER) '.length));
    expect(sets.length).toBeGreaterThan(1);
    for (const set of sets) expect(set.length).toBeLessThan(4100);
    expect(sets.join(',')).toBe(gone.join(','));
  });
});
