/**
 * STATUS: every item, in the order asked; HIGHESTMODSEQ turns CONDSTORE on; mUTF-7 names; missing and
 * traversal names; Dovecot's BAD texts for empty and unknown items; state.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Env, loggedIn } from '../harness/transcript.js';
import { deliver } from './helpers.js';

let env: Env;
beforeEach(() => {
  env = new Env({ appendLimit: 5000 });
});
afterEach(async () => {
  await env.close();
});

describe('STATUS', () => {
  it('answers every item in the order asked', async () => {
    await deliver(env, 3, { text: () => 'Subject: x\n\nbody\n' });
    const user = await env.store.openUser('alice');
    const box = await user.open('INBOX', 'read-write');
    await box.setFlags([1], { mode: 'add', flags: ['\\Seen'] });
    const { status } = await box.snapshot();
    await box.close();
    const c = await loggedIn(env);
    await c.run(`
      C: a1 STATUS INBOX (UIDNEXT MESSAGES RECENT UIDVALIDITY UNSEEN SIZE APPENDLIMIT)
      S: * STATUS INBOX (UIDNEXT 4 MESSAGES 3 RECENT 0 UIDVALIDITY ${status.uidValidity} UNSEEN 2 SIZE 60 APPENDLIMIT 5000)
      S: a1 OK Status completed.
      C: a2 status inbox (messages)
      S: * STATUS INBOX (MESSAGES 3)
      S: a2 OK Status completed.
    `);
    expect(c.session.enabled.has('CONDSTORE')).toBe(false);
    await c.run(`
      C: a3 STATUS INBOX (HIGHESTMODSEQ)
      S: * STATUS INBOX (HIGHESTMODSEQ ${status.highestModseq})
      S: a3 OK Status completed.
    `);
    expect(c.session.enabled.has('CONDSTORE')).toBe(true);
  });

  it('a UTF-8 name goes both ways in mUTF-7; a quoted name stays quoted', async () => {
    const user = await env.store.openUser('alice');
    await user.create('Été');
    await user.create('My Box');
    const c = await loggedIn(env);
    await c.run(`
      C: a1 STATUS &AMk-t&AOk- (MESSAGES)
      S: * STATUS &AMk-t&AOk- (MESSAGES 0)
      S: a1 OK Status completed.
      C: a2 STATUS "My Box" (MESSAGES)
      S: * STATUS "My Box" (MESSAGES 0)
      S: a2 OK Status completed.
    `);
  });

  it('missing and traversal names are NO', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 STATUS nothere (MESSAGES)
      S: a1 NO [NONEXISTENT] Mailbox doesn't exist: nothere
      C: a2 STATUS "../bob/INBOX" (MESSAGES)
      S: a2 NO [CANNOT] *
      C: a3 STATUS "INBOX/../../" (MESSAGES)
      S: a3 NO [CANNOT] *
      C: a4 STATUS &Jjo (MESSAGES)
      S: a4 NO Mailbox name is not valid mUTF-7
    `);
  });

  it.each([
    ['STATUS INBOX ()', 'Empty status list'],
    ['STATUS INBOX (FOO)', 'Invalid status item FOO'],
    ['STATUS INBOX (MESSAGES FOO)', 'Invalid status item FOO'],
    ['STATUS INBOX', 'expected SP *'],
    ['STATUS INBOX MESSAGES', 'expected a list of status items *'],
    ['STATUS INBOX (MESSAGES', 'expected SP or ")" *'],
    ['STATUS', 'expected SP *'],
    ['STATUS INBOX (MESSAGES) x', 'expected end of command *'],
  ])('%s is BAD', async (cmd, text) => {
    const c = await loggedIn(env);
    await c.run(`
      C: b1 ${cmd}
      S: b1 BAD Error in IMAP command STATUS: ${text}
    `);
  });

  it('is refused before login', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 STATUS INBOX (MESSAGES)
      S: a1 BAD STATUS is not allowed before login: log in first.
    `);
  });
});
