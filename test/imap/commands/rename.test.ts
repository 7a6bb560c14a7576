/**
 * RENAME: children move, subscriptions follow, INBOX's messages move and INBOX stays, refusals (missing
 * source, existing target, into itself, traversal names), syntax and state.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Env, loggedIn } from '../harness/transcript.js';
import { deliver } from './helpers.js';

let env: Env;
beforeEach(async () => {
  env = new Env();
  const user = await env.store.openUser('alice');
  await user.create('Work');
  await user.create('Work/2024');
});
afterEach(async () => {
  await env.close();
});

describe('RENAME', () => {
  it('moves a folder with its children, to a UTF-8 name', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 RENAME Work &AMk-t&AOk-
      S: a1 OK Rename completed.
      C: a2 LIST "" "&AMk-*"
      S: * LIST (\\HasChildren) "/" &AMk-t&AOk-
      S: * LIST (\\HasNoChildren) "/" &AMk-t&AOk-/2024
      S: a2 OK List completed.
    `);
  });

  it('renaming INBOX moves its messages and leaves it empty', async () => {
    await deliver(env, 2);
    const c = await loggedIn(env);
    await c.run(`
      C: a1 RENAME INBOX Archive
      S: a1 OK Rename completed.
      C: a2 STATUS INBOX (MESSAGES)
      S: * STATUS INBOX (MESSAGES 0)
      S: a2 OK Status completed.
      C: a3 STATUS Archive (MESSAGES)
      S: * STATUS Archive (MESSAGES 2)
      S: a3 OK Status completed.
    `);
  });

  it('refuses a missing source, an existing target, traversal names, bad mUTF-7', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 RENAME nothere x
      S: a1 NO [NONEXISTENT] Mailbox doesn't exist: nothere
      C: a2 RENAME Work Sent
      S: a2 NO [ALREADYEXISTS] Target mailbox already exists
      C: a3 RENAME Work Work/sub
      S: a3 NO [ALREADYEXISTS] *
      C: a4 RENAME Work "../bob/INBOX"
      S: a4 NO [CANNOT] *
      C: a5 RENAME "INBOX/../../" x
      S: a5 NO [CANNOT] *
      C: a6 RENAME Work &Jjo
      S: a6 NO Mailbox name is not valid mUTF-7
      C: a7 RENAME Work
      S: a7 BAD Error in IMAP command RENAME: expected SP *
      C: a8 RENAME
      S: a8 BAD Error in IMAP command RENAME: expected SP *
      C: a9 RENAME a b c
      S: a9 BAD Error in IMAP command RENAME: expected end of command *
    `);
    const names = (await (await env.store.openUser('alice')).list()).map((m) => m.name);
    expect(names).toContain('Work/2024');
  });

  it('is refused before login', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 RENAME a b
      S: a1 BAD RENAME is not allowed before login: log in first.
    `);
  });
});
