/**
 * EXPUNGE and UID EXPUNGE: only \Deleted messages (among the UIDs given, for UID EXPUNGE), EXPUNGE
 * responses highest first with sequence numbers valid as written, nothing removed in a read-only mailbox,
 * BAD cases, state.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserMailboxes } from '../../../src/store/mailbox/mailbox-store.js';
import { Env, loggedIn, type Client } from '../harness/transcript.js';
import { deliver, select } from './helpers.js';

let env: Env;
let user: UserMailboxes;
beforeEach(async () => {
  env = new Env();
  await deliver(env, 5);
  user = await env.store.openUser('alice');
  const box = await user.open('INBOX', 'read-write');
  await box.setFlags([2, 3, 5], { mode: 'add', flags: ['\\Deleted'] });
  await box.close();
});
afterEach(async () => {
  await env.close();
});

async function selected(verb = 'SELECT'): Promise<Client> {
  const c = await loggedIn(env);
  await select(c, 'INBOX', 5, verb);
  return c;
}

describe('EXPUNGE', () => {
  it('removes the \\Deleted messages, highest sequence number first', async () => {
    const c = await selected();
    await c.run(`
      C: a1 EXPUNGE
      S: * 5 EXPUNGE
      S: * 3 EXPUNGE
      S: * 2 EXPUNGE
      S: a1 OK Expunge completed.
      C: a2 EXPUNGE
      S: a2 OK Expunge completed.
    `);
    expect((await user.status('INBOX')).messages).toBe(2);
  });

  it('UID EXPUNGE removes only the \\Deleted ones among the UIDs given', async () => {
    const c = await selected();
    await c.run(`
      C: a1 UID EXPUNGE 1:3
      S: * 3 EXPUNGE
      S: * 2 EXPUNGE
      S: a1 OK Expunge completed.
      C: a2 UID EXPUNGE 100
      S: a2 OK Expunge completed.
      C: a3 UID EXPUNGE 5
      S: * 3 EXPUNGE
      S: a3 OK Expunge completed.
    `);
  });

  it('a read-only mailbox removes nothing (OK, as Dovecot)', async () => {
    const c = await selected('EXAMINE');
    await c.run(`
      C: a1 EXPUNGE
      S: a1 OK Expunge completed.
    `);
    expect((await user.status('INBOX')).messages).toBe(5);
  });

  it.each([
    ['EXPUNGE 1', 'EXPUNGE', 'expected end of command *'],
    ['UID EXPUNGE', 'UID EXPUNGE', 'expected SP *'],
    ['UID EXPUNGE x', 'UID EXPUNGE', 'expected a sequence set *'],
    ['UID EXPUNGE 1 2', 'UID EXPUNGE', 'expected end of command *'],
  ])('%s is BAD', async (cmd, name, text) => {
    const c = await selected();
    await c.run(`
      C: b1 ${cmd}
      S: b1 BAD Error in IMAP command ${name}: ${text}
    `);
  });

  it('needs a selected mailbox', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 EXPUNGE
      S: a1 BAD No mailbox selected.
      C: a2 UID EXPUNGE 1
      S: a2 BAD No mailbox selected.
    `);
  });
});
