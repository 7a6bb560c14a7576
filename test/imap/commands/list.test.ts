/**
 * LIST and LSUB: reference + pattern semantics ('%', '*', INBOX in any case), the delimiter answer,
 * CHILDREN and SPECIAL-USE attributes, \Noselect parents, mUTF-7 names both ways, LIST-EXTENDED
 * selection/return options, LIST-STATUS, every BAD case, and the state rule.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compilePattern, referenceRoot } from '../../../src/imap/list-match.js';
import { Env, loggedIn } from '../harness/transcript.js';
import { response } from './helpers.js';

let env: Env;
beforeEach(async () => {
  env = new Env();
  const user = await env.store.openUser('alice');
  await user.create('Work/2024/Q1');
  await user.create('Été');
});
afterEach(async () => {
  await env.close();
});

describe('list-match', () => {
  it('matches * across levels and % within one', () => {
    const all = compilePattern('', '*');
    expect(['INBOX', 'a/b/c', ''].map((n) => all.matches(n))).toEqual([true, true, true]);
    const one = compilePattern('', '%');
    expect(['INBOX', 'a', 'a/b'].map((n) => one.matches(n))).toEqual([true, true, false]);
    const mid = compilePattern('', 'Work/%/Q1');
    expect(['Work/2024/Q1', 'Work/2024/x/Q1', 'Work/Q1'].map((n) => mid.matches(n))).toEqual([true, false, false]);
  });

  it('joins the reference, ignores it for an absolute pattern, and folds INBOX', () => {
    expect(compilePattern('Work/', '%').matches('Work/2024')).toBe(true);
    expect(compilePattern('Work', '*').matches('Work/2024/Q1')).toBe(true);
    expect(compilePattern('Work', '/x').text).toBe('/x');
    expect(compilePattern('', 'inbox').matches('INBOX')).toBe(true);
    expect(compilePattern('', 'InBoX/%').matches('INBOX/a')).toBe(true);
    expect(compilePattern('', 'inboxes').matches('INBOXes')).toBe(false);
  });

  it('treats regex characters literally and stays fast on many wildcards', () => {
    expect(compilePattern('', 'a.b').matches('axb')).toBe(false);
    expect(compilePattern('', '(a)+[b]').matches('(a)+[b]')).toBe(true);
    const evil = compilePattern('', '*a'.repeat(200) + 'b');
    expect(evil.matches('a'.repeat(1000))).toBe(false);
  });

  it('referenceRoot', () => {
    expect(referenceRoot('')).toBe('');
    expect(referenceRoot('foo/bar')).toBe('foo/');
  });
});

describe('LIST', () => {
  it('LIST "" "" gives the delimiter; a reference gives its root', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 LIST "" ""
      S: * LIST (\\Noselect) "/" ""
      S: a1 OK List completed.
      C: a2 LIST "Work/2024" ""
      S: * LIST (\\Noselect) "/" Work/
      S: a2 OK List completed.
    `);
  });

  it('LIST "" "*": every folder with children and special-use attributes, mUTF-7 names', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 LIST "" "*"
      S: * LIST (\\HasNoChildren) "/" INBOX
      S: * LIST (\\HasNoChildren \\Drafts) "/" Drafts
      S: * LIST (\\HasNoChildren \\Junk) "/" Junk
      S: * LIST (\\HasNoChildren \\Sent) "/" Sent
      S: * LIST (\\HasNoChildren \\Trash) "/" Trash
      S: * LIST (\\Noselect \\HasChildren) "/" Work
      S: * LIST (\\Noselect \\HasChildren) "/" Work/2024
      S: * LIST (\\HasNoChildren) "/" Work/2024/Q1
      S: * LIST (\\HasNoChildren) "/" &AMk-t&AOk-
      S: a1 OK List completed.
    `);
  });

  it('% lists one level, parents as \\Noselect; reference joins; INBOX in any case', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 LIST "Work/" %
      S: * LIST (\\Noselect \\HasChildren) "/" Work/2024
      S: a1 OK List completed.
      C: a2 LIST "" Work/%/%
      S: * LIST (\\HasNoChildren) "/" Work/2024/Q1
      S: a2 OK List completed.
      C: a3 LIST "" inbox
      S: * LIST (\\HasNoChildren) "/" INBOX
      S: a3 OK List completed.
      C: a4 LIST "" &AMk-*
      S: * LIST (\\HasNoChildren) "/" &AMk-t&AOk-
      S: a4 OK List completed.
      C: a5 LIST "" nothing*
      S: a5 OK List completed.
      C: a6 LIST "" {4}
      S: + Ready for literal data
      C: Sen%
      S: * LIST (\\HasNoChildren \\Sent) "/" Sent
      S: a6 OK List completed.
    `);
  });

  it('a traversal pattern matches only what exists and reaches nothing outside', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 LIST "" "../*"
      S: a1 OK List completed.
      C: a2 LIST "../bob/" "*"
      S: a2 OK List completed.
      C: a3 LIST "INBOX/../../" "%"
      S: a3 OK List completed.
    `);
  });

  it('quotes names that are not atoms', async () => {
    const user = await env.store.openUser('alice');
    await user.create('My Folder');
    await user.create('a"b');
    const c = await loggedIn(env);
    await c.run(`
      C: a1 LIST "" "My*"
      S: * LIST (\\HasNoChildren) "/" "My Folder"
      S: a1 OK List completed.
      C: a2 LIST "" a*
      S: * LIST (\\HasNoChildren) "/" "a\\"b"
      S: a2 OK List completed.
    `);
  });

  it('LIST-EXTENDED: selection and return options, several patterns', async () => {
    const user = await env.store.openUser('alice');
    await user.subscribe('Work/2024/Q1', true);
    await user.subscribe('Junk', false);
    const c = await loggedIn(env);
    await c.run(`
      C: a1 LIST "" ("INBOX" "Sent")
      S: * LIST () "/" INBOX
      S: * LIST () "/" Sent
      S: a1 OK List completed.
      C: a2 LIST (SUBSCRIBED) "" "*"
      S: * LIST (\\Subscribed) "/" INBOX
      S: * LIST (\\Subscribed) "/" Drafts
      S: * LIST (\\Subscribed) "/" Sent
      S: * LIST (\\Subscribed) "/" Trash
      S: * LIST (\\Subscribed) "/" Work/2024/Q1
      S: a2 OK List completed.
      C: a3 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"
      S: * LIST (\\Subscribed) "/" INBOX
      S: * LIST (\\Subscribed) "/" Drafts
      S: * LIST (\\Subscribed) "/" Sent
      S: * LIST (\\Subscribed) "/" Trash
      S: * LIST (\\NonExistent) "/" Work (CHILDINFO ("SUBSCRIBED"))
      S: a3 OK List completed.
      C: a4 LIST (SPECIAL-USE) "" "*"
      S: * LIST (\\Drafts) "/" Drafts
      S: * LIST (\\Junk) "/" Junk
      S: * LIST (\\Sent) "/" Sent
      S: * LIST (\\Trash) "/" Trash
      S: a4 OK List completed.
      C: a5 LIST "" "Work*" RETURN (CHILDREN SUBSCRIBED SPECIAL-USE)
      S: * LIST (\\NonExistent \\HasChildren) "/" Work
      S: * LIST (\\NonExistent \\HasChildren) "/" Work/2024
      S: * LIST (\\Subscribed \\HasNoChildren) "/" Work/2024/Q1
      S: a5 OK List completed.
      C: a6 LIST () "" "J*" RETURN ()
      S: * LIST () "/" Junk
      S: a6 OK List completed.
    `);
  });

  it('RECURSIVEMATCH: no CHILDINFO for a parent whose qualifying descendant the patterns list themselves', async () => {
    // RFC 5258 §3: a non-matching parent is returned only for a descendant that matches the selection
    // criteria but not the LIST pattern (found by imaptest's listext script).
    const user = await env.store.openUser('alice');
    await user.subscribe('Work/2024/Q1', true);
    const c = await loggedIn(env);
    await c.run(`
      C: a1 LIST (SUBSCRIBED RECURSIVEMATCH) "" ("Work/2024" "Work/2024/Q1")
      S: * LIST (\\Subscribed) "/" Work/2024/Q1
      S: a1 OK List completed.
      C: a2 LIST (SUBSCRIBED RECURSIVEMATCH) "" ("Work/2024" "Work/%/Q2")
      S: * LIST (\\NonExistent) "/" Work/2024 (CHILDINFO ("SUBSCRIBED"))
      S: a2 OK List completed.
    `);
  });

  it('LIST-STATUS: a STATUS line after each selectable mailbox', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 LIST "" "Work*" RETURN (STATUS (MESSAGES UIDNEXT))
      S: * LIST (\\NonExistent) "/" Work
      S: * LIST (\\NonExistent) "/" Work/2024
      S: * LIST () "/" Work/2024/Q1
      S: * STATUS Work/2024/Q1 (MESSAGES 0 UIDNEXT 1)
      S: a1 OK List completed.
    `);
  });

  it.each([
    ['LIST', 'expected SP *'],
    ['LIST ""', 'expected SP *'],
    ['LIST "" "*" extra', 'expected RETURN'],
    ['LIST "" "*" RETURN (FOO)', 'Unknown return options'],
    ['LIST "" "*" RETURN', 'expected SP *'],
    ['LIST (FOO) "" "*"', 'Unknown select options'],
    ['LIST (RECURSIVEMATCH) "" "*"', 'RECURSIVEMATCH must not be the only selection'],
    ['LIST "" ()', '*'],
    ['LIST "" "*" RETURN (STATUS ())', 'Empty status list'],
    ['LIST "" "*" RETURN (STATUS (FOO))', 'Invalid status item FOO'],
    ['LIST "" ("a" "b"', '*'],
    ['LIST "" "unterminated', '*'],
  ])('%s is BAD', async (cmd, text) => {
    const c = await loggedIn(env);
    await c.run(`
      C: b1 ${cmd}
      S: b1 BAD Error in IMAP command LIST: ${text}
    `);
  });

  it('is refused before login', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 LIST "" "*"
      S: a1 BAD LIST is not allowed before login: log in first.
      C: a2 LSUB "" "*"
      S: a2 BAD LSUB is not allowed before login: log in first.
    `);
  });

  it('works in the selected state too', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 SELECT INBOX
    `);
    await response(c, 'a1');
    await c.run(`
      C: a2 LIST "" INBOX
      S: * LIST (\\HasNoChildren) "/" INBOX
      S: a2 OK List completed.
    `);
  });
});

describe('LSUB', () => {
  it('lists subscribed names; a parent reached by % is \\Noselect', async () => {
    const user = await env.store.openUser('alice');
    await user.subscribe('Work/2024/Q1', true);
    await user.subscribe('Été', true);
    const c = await loggedIn(env);
    await c.run(`
      C: a1 LSUB "" "*"
      S: * LSUB () "/" INBOX
      S: * LSUB (\\Drafts) "/" Drafts
      S: * LSUB (\\Junk) "/" Junk
      S: * LSUB (\\Sent) "/" Sent
      S: * LSUB (\\Trash) "/" Trash
      S: * LSUB () "/" Work/2024/Q1
      S: * LSUB () "/" &AMk-t&AOk-
      S: a1 OK Lsub completed.
      C: a2 LSUB "" "W%"
      S: * LSUB (\\Noselect) "/" Work
      S: a2 OK Lsub completed.
      C: a3 LSUB "Work/" "%/%"
      S: * LSUB () "/" Work/2024/Q1
      S: a3 OK Lsub completed.
      C: a4 LSUB "" ""
      S: * LSUB (\\Noselect) "/" ""
      S: a4 OK Lsub completed.
      C: a5 LSUB ""
      S: a5 BAD Error in IMAP command LSUB: *
      C: a6 LSUB "" "*" extra
      S: a6 BAD Error in IMAP command LSUB: *
    `);
  });
});

describe('names', () => {
  it('LIST writes names as mUTF-7 and orders INBOX first', async () => {
    const c = await loggedIn(env);
    await c.send('z1 LIST "" "%"\r\n');
    const lines = await response(c, 'z1');
    expect(lines[0]).toBe('* LIST (\\HasNoChildren) "/" INBOX');
    expect(lines).toContain('* LIST (\\HasNoChildren) "/" &AMk-t&AOk-');
  });
});
