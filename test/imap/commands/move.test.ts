/**
 * MOVE / UID MOVE (RFC 6851): the untagged OK [COPYUID] before the EXPUNGEs (highest first), then the
 * tagged OK; the messages gone from the source with their flags in the target; read-only refused;
 * TRYCREATE, EXPUNGEISSUED, traversal names, BAD cases, state.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Mailbox, UserMailboxes } from '../../../src/store/mailbox/mailbox-store.js';
import { Env, loggedIn, type Client } from '../harness/transcript.js';
import { deliver, select } from './helpers.js';

let env: Env;
let user: UserMailboxes;
let other: Mailbox;
beforeEach(async () => {
  env = new Env();
  await deliver(env, 4);
  user = await env.store.openUser('alice');
  await user.create('Work');
  other = await user.open('INBOX', 'read-write');
  await other.setFlags([2], { mode: 'add', flags: ['\\Seen'] });
});
afterEach(async () => {
  await other.close();
  await env.close();
});

async function selected(verb = 'SELECT'): Promise<Client> {
  const c = await loggedIn(env);
  await select(c, 'INBOX', 4, verb);
  return c;
}

describe('MOVE', () => {
  it('COPYUID first, then EXPUNGE highest first, then OK', async () => {
    const c = await selected();
    const v = (await user.status('Work')).uidValidity;
    await c.run(`
      C: a1 MOVE 2:3 Work
      S: * OK [COPYUID ${v} 2:3 1:2] Moved UIDs.
      S: * 3 EXPUNGE
      S: * 2 EXPUNGE
      S: a1 OK Move completed.
      C: a2 UID MOVE 4 Work
      S: * OK [COPYUID ${v} 4 3] Moved UIDs.
      S: * 2 EXPUNGE
      S: a2 OK Move completed.
      C: a3 UID MOVE 2:4 Work
      S: a3 OK No messages found.
    `);
    const box = await user.open('Work', 'read-only');
    const { records } = await box.snapshot();
    expect(records.map((r) => [...r.flags])).toEqual([['\\Seen'], [], []]);
    await box.close();
    expect((await user.status('INBOX')).messages).toBe(1);
  });

  it('into a missing mailbox is TRYCREATE; traversal names are refused; nothing moves', async () => {
    const c = await selected();
    await c.run(`
      C: a1 MOVE 1 nothere
      S: a1 NO [TRYCREATE] Mailbox doesn't exist: nothere
      C: a2 MOVE 1 "../bob/INBOX"
      S: a2 NO [CANNOT] *
      C: a3 UID MOVE 1 "INBOX/../../"
      S: a3 NO [CANNOT] *
    `);
    expect((await user.status('INBOX')).messages).toBe(4);
  });

  it('a read-only mailbox refuses MOVE', async () => {
    const c = await selected('EXAMINE');
    await c.run(`
      C: a1 MOVE 1 Work
      S: a1 NO [NOPERM] *
    `);
    expect((await user.status('Work')).messages).toBe(0);
  });

  it('a message expunged by another session: EXPUNGEISSUED by number', async () => {
    const c = await selected();
    await other.setFlags([1], { mode: 'add', flags: ['\\Deleted'] });
    await other.expunge();
    await c.run(`
      C: a1 MOVE 1:2 Work
      S: * 1 EXPUNGE
      S: a1 NO [EXPUNGEISSUED] Some of the requested messages no longer exist.
    `);
  });

  it.each([
    ['MOVE', 'expected SP *'],
    ['MOVE 1', 'expected SP *'],
    ['MOVE 1 Work x', 'expected end of command *'],
    ['MOVE 9 Work', 'Invalid messageset'],
  ])('%s is BAD', async (cmd, text) => {
    const c = await selected();
    await c.run(`
      C: b1 ${cmd}
      S: b1 BAD Error in IMAP command MOVE: ${text}
    `);
  });

  it('needs a selected mailbox', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 MOVE 1 Work
      S: a1 BAD No mailbox selected.
    `);
  });
});
