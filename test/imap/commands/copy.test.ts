/**
 * COPY / UID COPY: [COPYUID] with both UID sets, flags and content copied, EXISTS when copying into the
 * selected mailbox, [TRYCREATE], [OVERQUOTA] leaving nothing, [EXPUNGEISSUED] for a message another
 * session expunged, UID forms skipping it, mUTF-7 and traversal names, BAD cases, state.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Mailbox, UserMailboxes } from '../../../src/store/mailbox/mailbox-store.js';
import { Env, loggedIn, type Client } from '../harness/transcript.js';
import { deliver, select, useStore } from './helpers.js';

let env: Env;
let user: UserMailboxes;
let other: Mailbox;
beforeEach(async () => {
  env = new Env();
});
afterEach(async () => {
  await other?.close();
  await env.close();
});

async function setup(): Promise<Client> {
  await deliver(env, 4);
  user = await env.store.openUser('alice');
  await user.create('Work');
  await user.create('Été');
  other = await user.open('INBOX', 'read-write');
  await other.setFlags([2], { mode: 'add', flags: ['\\Flagged', '$Later'] });
  const c = await loggedIn(env);
  await select(c, 'INBOX', 4);
  return c;
}

async function validity(name: string): Promise<number> {
  return (await user.status(name)).uidValidity;
}

describe('COPY', () => {
  it('copies with COPYUID; flags and bytes come along', async () => {
    const c = await setup();
    const v = await validity('Work');
    await c.run(`
      C: a1 COPY 2:3 Work
      S: a1 OK [COPYUID ${v} 2:3 1:2] Copy completed.
      C: a2 UID COPY 4,1 Work
      S: a2 OK [COPYUID ${v} 1,4 3:4] Copy completed.
    `);
    const box = await user.open('Work', 'read-only');
    const { records } = await box.snapshot();
    expect(records.map((r) => r.uid)).toEqual([1, 2, 3, 4]);
    expect([...records[0]!.flags].sort()).toEqual(['$Later', '\\Flagged']);
    expect((await (await box.openContent(1))!.readAll()).toString()).toBe('Subject: 1\n\nbody 1\n');
    await box.close();
  });

  it('copying into the selected mailbox is announced with EXISTS', async () => {
    const c = await setup();
    await c.run(`
      C: a1 COPY 1 INBOX
      S: * 5 EXISTS
      S: * * RECENT
      S: a1 OK [COPYUID * 1 5] Copy completed.
    `);
  });

  it('UTF-8 names in mUTF-7; missing mailbox is TRYCREATE; traversal names are refused', async () => {
    const c = await setup();
    await c.run(`
      C: a1 COPY 1 &AMk-t&AOk-
      S: a1 OK [COPYUID * 1 1] Copy completed.
      C: a2 COPY 1 nothere
      S: a2 NO [TRYCREATE] Mailbox doesn't exist: nothere
      C: a3 COPY 1 "../bob/INBOX"
      S: a3 NO [CANNOT] *
      C: a4 UID COPY 1 "INBOX/../../"
      S: a4 NO [CANNOT] *
      C: a5 COPY 1 &Jjo
      S: a5 NO Mailbox name is not valid mUTF-7
    `);
  });

  it('a message expunged by another session: EXPUNGEISSUED by number, left out by UID', async () => {
    const c = await setup();
    await other.setFlags([3], { mode: 'add', flags: ['\\Deleted'] });
    await other.expunge();
    await c.run(`
      C: a1 COPY 2:3 Work
      S: * 3 EXPUNGE
      S: a1 NO [EXPUNGEISSUED] Some of the requested messages no longer exist.
      C: a2 STATUS Work (MESSAGES)
      S: * STATUS Work (MESSAGES 0)
      S: a2 OK *
      C: a3 UID COPY 3 Work
      S: a3 OK No messages found.
      C: a4 UID COPY 1:* Work
      S: a4 OK [COPYUID * 1:2,4 1:3] Copy completed.
    `);
    await other.setFlags([4], { mode: 'add', flags: ['\\Deleted'] });
    await other.expunge();
    await c.run(`
      C: a5 UID COPY 1:* Work
      S: * 3 EXPUNGE
      S: a5 OK [COPYUID * 1:2 4:5] Copy completed.
    `);
  });

  it('over quota: OVERQUOTA and nothing copied', async () => {
    useStore(env, { quotaBytes: 100 });
    const c = await setup();
    await c.run(`
      C: a1 COPY 1:4 Work
      S: a1 NO [OVERQUOTA] *
      C: a2 STATUS Work (MESSAGES)
      S: * STATUS Work (MESSAGES 0)
      S: a2 OK *
    `);
  });

  it.each([
    ['COPY', 'expected SP *'],
    ['COPY 1', 'expected SP *'],
    ['COPY 1 Work extra', 'expected end of command *'],
    ['COPY 5 Work', 'Invalid messageset'],
    ['COPY 0 Work', 'expected a non-zero number *'],
    ['COPY x Work', 'expected a sequence set *'],
  ])('%s is BAD', async (cmd, text) => {
    const c = await setup();
    await c.run(`
      C: b1 ${cmd}
      S: b1 BAD Error in IMAP command COPY: ${text}
    `);
  });

  it('needs a selected mailbox', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 COPY 1 Work
      S: a1 BAD No mailbox selected.
      C: a2 UID COPY 1 Work
      S: a2 BAD No mailbox selected.
    `);
  });
});
