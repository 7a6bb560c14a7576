/**
 * APPEND: synchronising and LITERAL+ literals, flags and date-time stored, [APPENDUID], EXISTS in the
 * selected mailbox, 8-bit bytes kept exactly, [TRYCREATE], [TOOBIG] (reader limit) and [OVERQUOTA]
 * (store), zero-byte messages, traversal names, every BAD case, and the state rule.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Env, loggedIn } from '../harness/transcript.js';
import { select, useStore } from './helpers.js';

let env: Env;
beforeEach(() => {
  env = new Env({ appendLimit: 1000 });
});
afterEach(async () => {
  await env.close();
});

async function inbox(): Promise<{ uidValidity: number; flags: readonly string[][]; contents: Buffer[]; dates: number[] }> {
  const box = await (await env.store.openUser('alice')).open('INBOX', 'read-only');
  const { records } = await box.snapshot();
  const details = await box.details(records.map((r) => r.uid));
  const contents: Buffer[] = [];
  for (const r of records) contents.push(await (await box.openContent(r.uid))!.readAll());
  await box.close();
  return { uidValidity: box.uidValidity, flags: records.map((r) => [...r.flags]), contents, dates: details.map((d) => d.internalDate.ms) };
}

describe('APPEND', () => {
  it('takes a synchronising literal with flags and a date; answers APPENDUID', async () => {
    const c = await loggedIn(env);
    const { uidValidity } = await inbox();
    await c.run(`
      C: a1 APPEND INBOX (\\Seen $Work) "01-Feb-2026 10:00:00 +0100" {12}
      S: + Ready for literal data
      C: Subject: x
      C:
      S: a1 OK [APPENDUID ${uidValidity} 1] Append completed.
    `);
    const box = await inbox();
    expect(box.flags[0]!.sort()).toEqual(['$Work', '\\Seen']);
    expect(box.dates[0]).toBe(Date.UTC(2026, 1, 1, 9, 0, 0));
    expect(box.contents[0]!.toString()).toBe('Subject: x\r\n');
  });

  it('takes a LITERAL+ literal without a continuation; keeps 8-bit bytes exactly', async () => {
    const c = await loggedIn(env);
    const body = Buffer.concat([Buffer.from('Subject: \xe9t\xe9\r\n\r\n', 'latin1'), Buffer.from([0, 1, 0xff, 0x80]), Buffer.from('\r\n')]);
    c.send(Buffer.concat([Buffer.from(`a1 APPEND INBOX {${body.length}+}\r\n`), body, Buffer.from('\r\n')]));
    await c.run(`
      S: a1 OK [APPENDUID * 1] Append completed.
      C: a2 APPEND Sent {3+}
      C: abc
      S: a2 OK [APPENDUID * 1] Append completed.
    `);
    expect((await inbox()).contents[0]).toEqual(body);
  });

  it('appending to the selected mailbox is announced with EXISTS', async () => {
    const c = await loggedIn(env);
    await select(c, 'INBOX', 0);
    await c.run(`
      C: a1 APPEND INBOX {3+}
      C: abc
      S: * 1 EXISTS
      S: * 1 RECENT
      S: a1 OK [APPENDUID * 1] Append completed.
    `);
  });

  it('a UTF-8 folder name in mUTF-7', async () => {
    await (await env.store.openUser('alice')).create('Été');
    const c = await loggedIn(env);
    await c.run(`
      C: a1 APPEND &AMk-t&AOk- {3+}
      C: abc
      S: a1 OK [APPENDUID * 1] Append completed.
    `);
  });

  it('refuses a missing mailbox with [TRYCREATE], traversal names with [CANNOT], a zero-byte message', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 APPEND nothere {3+}
      C: abc
      S: a1 NO [TRYCREATE] Mailbox doesn't exist: nothere
      C: a2 APPEND "../bob/INBOX" {3+}
      C: abc
      S: a2 NO [CANNOT] *
      C: a3 APPEND "INBOX/../../" {3+}
      C: abc
      S: a3 NO [CANNOT] *
      C: a4 APPEND INBOX {0+}
      C:
      S: a4 NO Can't save a zero byte message.
      C: a5 APPEND &Jjo {3+}
      C: abc
      S: a5 NO Mailbox name is not valid mUTF-7
    `);
    expect((await inbox()).contents).toEqual([]);
  });

  // Review finding (issue 11), checked: [TRYCREATE] comes once the literal is read, not in place of the "+"
  // (the client would otherwise take the NO for the refused literal and never learn to CREATE).
  it('answers [TRYCREATE] for a synchronising literal after its bytes came', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 APPEND nothere {3}
      S: + Ready for literal data
      C: abc
      S: a1 NO [TRYCREATE] Mailbox doesn't exist: nothere
      C: a2 NOOP
      S: a2 OK NOOP completed.
    `);
  });

  it('a synchronising literal of a doomed APPEND is refused unread (no continuation)', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 APPEND "../bob/INBOX" {3}
      S: a1 NO [CANNOT] *
      C: a2 APPEND "INBOX/../../" (\\Seen) {3}
      S: a2 NO [CANNOT] *
      C: a3 APPEND &Jjo {3}
      S: a3 NO Mailbox name is not valid mUTF-7
      C: a4 APPEND INBOX (\\Recent) {3}
      S: a4 BAD Error in IMAP command APPEND: Invalid system flag \\RECENT
      C: a5 APPEND INBOX "31-Feb-2026 10:00:00 +0000" {3}
      S: a5 BAD Error in IMAP command APPEND: expected a date-time *
      C: a6 APPEND INBOX {0}
      S: a6 NO Can't save a zero byte message.
      C: a7 NOOP
      S: a7 OK NOOP completed.
      C: a8 APPEND {5}
      S: + Ready for literal data
      C: INBOX {3}
      S: + Ready for literal data
      C: abc
      S: a8 OK [APPENDUID * 1] Append completed.
    `);
    expect((await inbox()).contents.map((b) => b.toString())).toEqual(['abc']);
  });

  it('a literal over the limit is refused [TOOBIG] before it is sent; LITERAL+ over it is read and dropped', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 APPEND INBOX {1001}
      S: a1 NO [TOOBIG] *
      C: a2 NOOP
      S: a2 OK NOOP completed.
    `);
    c.send(`a3 APPEND INBOX {1001+}\r\n${'x'.repeat(1001)}\r\n`);
    await c.run(`
      S: a3 NO [TOOBIG] *
      C: a4 NOOP
      S: a4 OK NOOP completed.
    `);
    expect((await inbox()).contents).toEqual([]);
  });

  it('over quota is [OVERQUOTA] and stores nothing', async () => {
    useStore(env, { quotaBytes: 100 });
    const c = await loggedIn(env);
    c.send(`a1 APPEND INBOX {200+}\r\n${'x'.repeat(200)}\r\n`);
    await c.run(`
      S: a1 NO [OVERQUOTA] Quota exceeded (mailbox for user is full)
      C: a2 APPEND INBOX {50+}
      C: ${'y'.repeat(50)}
      S: a2 OK [APPENDUID * 1] *
    `);
  });

  it.each([
    ['a1 APPEND INBOX', 'expected SP *'],
    ['a1 APPEND INBOX "abc"', 'expected a date-time *'],
    ['a1 APPEND INBOX abc', 'expected a literal *'],
    ['a1 APPEND INBOX (\\Recent) {3+}\r\nabc', 'Invalid system flag \\RECENT'],
    ['a1 APPEND INBOX (\\Foo) {3+}\r\nabc', 'Invalid system flag \\FOO'],
    ['a1 APPEND INBOX (\\Seen {3+}\r\nabc', '*'],
    ['a1 APPEND INBOX "31-Feb-2026 10:00:00 +0000" {3+}\r\nabc', 'expected a date-time *'],
    ['a1 APPEND INBOX "1-Feb-2026 10:00:00 +0000" {3+}\r\nabc', 'expected a date-time *'],
    ['a1 APPEND INBOX () {3+}\r\nabc extra', 'expected end of command *'],
    ['a1 APPEND INBOX {3+}\r\nabc {3+}\r\ndef', 'expected end of command *'],
  ])('%s is BAD', async (cmd, text) => {
    const c = await loggedIn(env);
    c.send(`${cmd}\r\n`);
    await c.run(`
      S: a1 BAD Error in IMAP command APPEND: ${text}
      C: a2 NOOP
      S: a2 OK NOOP completed.
    `);
    expect((await inbox()).contents).toEqual([]);
  });

  it('is refused before login; APPENDLIMIT is announced after', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 APPEND INBOX {3+}
      C: abc
      S: a1 BAD APPEND is not allowed before login: log in first.
      C: a2 LOGIN alice secret
      S: a2 OK [CAPABILITY * APPENDLIMIT=1000] Logged in
    `);
  });
});
