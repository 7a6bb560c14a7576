/**
 * CREATE: success (parents made, trailing separator dropped, UTF-8 names through mUTF-7), existing names
 * and INBOX refused, traversal and unusable names refused with nothing made, bad mUTF-7 (NO) and bad
 * syntax (BAD), the state rule.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Env, loggedIn } from '../harness/transcript.js';

let env: Env;
beforeEach(() => {
  env = new Env();
});
afterEach(async () => {
  await env.close();
});

async function names(): Promise<string[]> {
  return (await (await env.store.openUser('alice')).list()).map((m) => m.name);
}

describe('CREATE', () => {
  it('makes a folder and its parents; a trailing "/" is dropped; UTF-8 via mUTF-7', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 CREATE Work/2024
      S: a1 OK Create completed.
      C: a2 CREATE "Projects/"
      S: a2 OK Create completed.
      C: a3 CREATE &AMk-t&AOk-
      S: a3 OK Create completed.
      C: a4 CREATE {5}
      S: + Ready for literal data
      C: Lit&-
      S: a4 OK Create completed.
      C: a5 LIST "" "*"
      S: * LIST (\\HasNoChildren) "/" INBOX
      S: * LIST (\\HasNoChildren \\Drafts) "/" Drafts
      S: * LIST (\\HasNoChildren \\Junk) "/" Junk
      S: * LIST (\\HasNoChildren) "/" Lit&-
      S: * LIST (\\HasNoChildren) "/" Projects
      S: * LIST (\\HasNoChildren \\Sent) "/" Sent
      S: * LIST (\\HasNoChildren \\Trash) "/" Trash
      S: * LIST (\\Noselect \\HasChildren) "/" Work
      S: * LIST (\\HasNoChildren) "/" Work/2024
      S: * LIST (\\HasNoChildren) "/" &AMk-t&AOk-
      S: a5 OK List completed.
    `);
    expect(await names()).toContain('Été');
    expect(await names()).toContain('Lit&');
  });

  it('refuses existing names and INBOX in any case', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 CREATE Sent
      S: a1 NO [ALREADYEXISTS] Mailbox already exists
      C: a2 CREATE inbox
      S: a2 NO [ALREADYEXISTS] Mailbox already exists
      C: a3 CREATE INBOX
      S: a3 NO [ALREADYEXISTS] Mailbox already exists
    `);
  });

  it.each([
    ['"../bob/INBOX"'],
    ['"INBOX/../../"'],
    ['".."'],
    ['"a/./b"'],
    ['"a//b"'],
    ['"/etc"'],
    ['"f%o"'],
    ['"f*o"'],
  ])('refuses %s with NO [CANNOT] and makes nothing', async (name) => {
    const before = await names();
    const c = await loggedIn(env);
    await c.run(`
      C: a1 CREATE ${name}
      S: a1 NO [CANNOT] *
    `);
    expect(await names()).toEqual(before);
  });

  it('a name over 1000 bytes is refused', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 CREATE ${'x'.repeat(1001)}
      S: a1 NO [CANNOT] the mailbox name is longer than 1000 bytes
    `);
  });

  it('bad mUTF-7 is NO, bad syntax is BAD', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 CREATE &Jjo
      S: a1 NO Mailbox name is not valid mUTF-7
      C: a2 CREATE &AGE-
      S: a2 NO Mailbox name is not valid mUTF-7
      C: a21 CREATE &AC4ALg-
      S: a21 NO Mailbox name is not valid mUTF-7
      C: a22 CREATE &AC4ALg-/x
      S: a22 NO Mailbox name is not valid mUTF-7
      C: a3 CREATE
      S: a3 BAD Error in IMAP command CREATE: expected SP *
      C: a4 CREATE a b
      S: a4 BAD Error in IMAP command CREATE: expected end of command *
      C: a5 CREATE (a)
      S: a5 BAD Error in IMAP command CREATE: expected a mailbox name *
      C: a6 CREATE "a
      S: a6 BAD Error in IMAP command CREATE: unterminated quoted string *
    `);
  });

  it('is refused before login', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 CREATE x
      S: a1 BAD CREATE is not allowed before login: log in first.
    `);
  });
});
