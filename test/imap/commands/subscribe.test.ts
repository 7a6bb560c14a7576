/**
 * SUBSCRIBE and UNSUBSCRIBE: LSUB follows; SUBSCRIBE of a missing or traversal name is refused (as
 * Dovecot); UNSUBSCRIBE of any name is OK; syntax and state.
 */
import { afterEach, beforeEach, describe, it } from 'vitest';
import { Env, loggedIn } from '../harness/transcript.js';

let env: Env;
beforeEach(async () => {
  env = new Env();
  await (await env.store.openUser('alice')).create('Été');
});
afterEach(async () => {
  await env.close();
});

describe('SUBSCRIBE / UNSUBSCRIBE', () => {
  it('subscribes and unsubscribes, LSUB shows it', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 SUBSCRIBE &AMk-t&AOk-
      S: a1 OK Subscribe completed.
      C: a2 LSUB "" "&AMk-*"
      S: * LSUB () "/" &AMk-t&AOk-
      S: a2 OK Lsub completed.
      C: a3 UNSUBSCRIBE &AMk-t&AOk-
      S: a3 OK Unsubscribe completed.
      C: a4 LSUB "" "&AMk-*"
      S: a4 OK Lsub completed.
      C: a5 UNSUBSCRIBE &AMk-t&AOk-
      S: a5 OK Unsubscribe completed.
    `);
  });

  it('refuses missing and traversal names; bad syntax is BAD', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 SUBSCRIBE nothere
      S: a1 NO Mailbox doesn't exist: nothere
      C: a2 SUBSCRIBE "../bob/INBOX"
      S: a2 NO Mailbox doesn't exist: ../bob/INBOX
      C: a3 UNSUBSCRIBE "INBOX/../../"
      S: a3 NO [CANNOT] *
      C: a4 SUBSCRIBE &Jjo
      S: a4 NO Mailbox name is not valid mUTF-7
      C: a5 SUBSCRIBE
      S: a5 BAD Error in IMAP command SUBSCRIBE: *
      C: a6 UNSUBSCRIBE a b
      S: a6 BAD Error in IMAP command UNSUBSCRIBE: *
    `);
  });

  it('is refused before login', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 SUBSCRIBE INBOX
      S: a1 BAD SUBSCRIBE is not allowed before login: log in first.
      C: a2 UNSUBSCRIBE INBOX
      S: a2 BAD UNSUBSCRIBE is not allowed before login: log in first.
    `);
  });
});

// Review finding (issue 11): a subscribed name whose folder is gone vanished from LSUB and LIST (SUBSCRIBED).
describe('subscribed names that are no folder (RFC 3501 §6.3.9, RFC 5258 §3)', () => {
  it('LSUB lists them with no attributes and LIST (SUBSCRIBED) with \\NonExistent, as Dovecot; plain LIST does not', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 CREATE Gone
      S: a1 OK Create completed.
      C: a2 SUBSCRIBE Gone
      S: a2 OK Subscribe completed.
      C: a3 DELETE Gone
      S: a3 OK Delete completed.
      C: a4 LSUB "" Gone
      S: * LSUB () "/" Gone
      S: a4 OK Lsub completed.
      C: a5 LIST (SUBSCRIBED) "" Gone
      S: * LIST (\\Subscribed \\NonExistent) "/" Gone
      S: a5 OK List completed.
      C: a6 LIST "" Gone
      S: a6 OK List completed.
      C: a7 LIST "" Gone RETURN (SUBSCRIBED)
      S: a7 OK List completed.
      C: a8 UNSUBSCRIBE Gone
      S: a8 OK Unsubscribe completed.
      C: a9 LSUB "" Gone
      S: a9 OK Lsub completed.
    `);
  });
});
