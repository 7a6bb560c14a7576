/**
 * DELETE: a folder goes; one with children stays as \Noselect; INBOX, missing and \Noselect names are
 * refused; traversal names are refused; deleting the selected mailbox ends the session as Dovecot does.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Env, loggedIn } from '../harness/transcript.js';
import { deliver, select } from './helpers.js';

let env: Env;
beforeEach(async () => {
  env = new Env();
  const user = await env.store.openUser('alice');
  await user.create('Work');
  await user.create('Work/2024');
  await user.create('Old');
});
afterEach(async () => {
  await env.close();
});

describe('DELETE', () => {
  it('deletes a folder; a parent with children becomes \\Noselect; then the child, then nothing is left', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 DELETE Old
      S: a1 OK Delete completed.
      C: a2 LIST "" Old
      S: a2 OK List completed.
      C: a3 CREATE Work
      S: a3 NO [ALREADYEXISTS] *
      C: a4 DELETE Work
      S: a4 OK Delete completed.
      C: a5 LIST "" Work*
      S: * LIST (\\Noselect \\HasChildren) "/" Work
      S: * LIST (\\HasNoChildren) "/" Work/2024
      S: a5 OK List completed.
      C: a6 DELETE Work
      S: a6 NO [CANNOT] *
      C: a7 DELETE Work/2024
      S: a7 OK Delete completed.
    `);
  });

  it('refuses INBOX, missing names and traversal names', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 DELETE INBOX
      S: a1 NO INBOX can't be deleted.
      C: a2 DELETE nothere
      S: a2 NO [NONEXISTENT] Mailbox doesn't exist: nothere
      C: a3 DELETE "../bob/INBOX"
      S: a3 NO [CANNOT] *
      C: a4 DELETE "INBOX/../../"
      S: a4 NO [CANNOT] *
      C: a5 DELETE &Jjo
      S: a5 NO Mailbox name is not valid mUTF-7
      C: a6 DELETE
      S: a6 BAD Error in IMAP command DELETE: *
    `);
  });

  it('deleting the selected mailbox: BYE, OK, and the connection closes', async () => {
    await deliver(env, 1, { mailbox: 'Old' });
    const c = await loggedIn(env);
    await select(c, 'Old', 1);
    await c.run(`
      C: a1 DELETE Old
      S: * BYE Selected mailbox was deleted, have to disconnect.
      S: a1 OK Delete completed.
    `);
    expect(await c.closed()).toBe(true);
  });

  it('a refused DELETE keeps the selection', async () => {
    const c = await loggedIn(env);
    await select(c, 'INBOX', 0);
    await c.run(`
      C: a1 DELETE INBOX
      S: a1 NO INBOX can't be deleted.
      C: a2 CHECK
      S: a2 OK Check completed.
    `);
  });

  it('is refused before login', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 DELETE Old
      S: a1 BAD DELETE is not allowed before login: log in first.
    `);
  });
});
