/**
 * SelectedMailbox: the client's seq ↔ uid view, sequence-set resolution, and updates from other handles
 * turned into EXISTS / RECENT / EXPUNGE / FETCH FLAGS / FLAGS at the points RFC 3501 §7.4.1 allows (never
 * EXPUNGE during FETCH, STORE or SEARCH; always during their UID forms and NOOP/CHECK). FETCH and STORE
 * here are test doubles with the real handlers' expungeSafe = false (their real files belong to others).
 */
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SELECTED, command, ok, type CommandHandler } from '../../src/imap/command.js';
import { SelectedMailbox } from '../../src/imap/selected.js';
import { atom, list, num } from '../../src/imap/wire/encoder.js';
import { ParseError } from '../../src/imap/wire/frame.js';
import type { SequenceSet } from '../../src/imap/wire/sequence-set.js';
import type { Mailbox, UserMailboxes } from '../../src/store/mailbox/mailbox-store.js';
import { Env, loggedIn, type Client } from './harness/transcript.js';

/** Test double of FETCH: `* n FETCH (UID u FLAGS (...))` for each message (UID FETCH skips expunged ones). */
const fakeFetch: CommandHandler<SequenceSet> = command<SequenceSet>({
  name: 'FETCH',
  states: SELECTED,
  uidForm: true,
  expungeSafe: false,
  parse(args) {
    args.sp();
    return args.sequenceSet();
  },
  run(session, set, info) {
    const sel = session.selected!;
    for (const uid of sel.resolve(set, info.uid))
      if (!(info.uid && sel.isExpungePending(uid))) session.out.untagged([num(sel.seqOf(uid)!), atom('FETCH'), list([atom('UID'), num(uid), atom('FLAGS'), sel.flagsValue(uid)])]);
    return Promise.resolve(ok('Fetch completed.'));
  },
});

/** Test double of STORE +FLAGS.SILENT: sets through the handle and records the result (no FETCH repeated later). */
const fakeStore: CommandHandler<{ set: SequenceSet; flag: string }> = command({
  name: 'STORE',
  states: SELECTED,
  uidForm: true,
  expungeSafe: false,
  parse(args) {
    args.sp();
    const set = args.sequenceSet();
    args.sp();
    return { set, flag: args.flag() };
  },
  async run(session, { set, flag }, info) {
    const sel = session.selected!;
    const { updated } = await sel.handle.setFlags(sel.resolve(set, info.uid), { mode: 'add', flags: [flag] });
    sel.recordFlags(updated);
    return ok('Store completed.');
  },
});

let env: Env;
let user: UserMailboxes;
let other: Mailbox;

async function deliver(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await env.store.delivery.deliver('alice', () => Readable.from([Buffer.from(`Subject: ${i}\n\nbody\n`)]), { hostname: 'test' });
}

async function selectInbox(c: Client, exists: number): Promise<void> {
  await c.run(`
    C: s1 SELECT INBOX
    S: * FLAGS *
    S: * OK [PERMANENTFLAGS *] *
    S: * ${exists} EXISTS
    S: * * RECENT
  `);
  for (let line = await c.line(); !line.startsWith('s1 '); line = await c.line()) expect(line).toMatch(/^\* OK \[/);
}

beforeEach(async () => {
  env = new Env({ commands: [fakeFetch, fakeStore] });
  user = await env.store.openUser('alice');
  other = await user.open('INBOX', 'read-write');
});
afterEach(async () => {
  await other.close();
  await env.close();
});

describe('two sessions', () => {
  it('flags set by another handle show up as FETCH FLAGS at NOOP', async () => {
    await deliver(2);
    const c = await loggedIn(env);
    await selectInbox(c, 2);
    await other.setFlags([2], { mode: 'add', flags: ['\\Seen'] });
    await c.run(`
      C: a1 NOOP
      S: * 2 FETCH (FLAGS (\\Seen \\Recent))
      S: a1 OK NOOP completed.
      C: a2 NOOP
      S: a2 OK NOOP completed.
    `);
  });

  it('a second IMAP session\'s flags reach the first', async () => {
    await deliver(1);
    const c1 = await loggedIn(env);
    await selectInbox(c1, 1);
    const c2 = await loggedIn(env);
    await selectInbox(c2, 1);
    await c2.run(`
      C: b1 STORE 1 \\Flagged
      S: b1 OK Store completed.
      C: b2 NOOP
      S: b2 OK NOOP completed.
    `);
    await c1.run(`
      C: a1 NOOP
      S: * 1 FETCH (FLAGS (\\Flagged \\Recent))
      S: a1 OK *
    `);
  });

  it('one NOOP with a flag change, two expunges and new mail answers as Dovecot 2.3 does', async () => {
    await deliver(4);
    const c = await loggedIn(env);
    await selectInbox(c, 4);
    await other.setFlags([2], { mode: 'add', flags: ['\\Seen', '\\Flagged'] });
    await other.setFlags([1, 3], { mode: 'add', flags: ['\\Deleted'] });
    await other.expunge();
    await deliver(1);
    await c.run(`
      C: a1 NOOP
      S: * 2 FETCH (FLAGS (\\Flagged \\Seen \\Recent))
      S: * 3 EXPUNGE
      S: * 1 EXPUNGE
      S: * 3 EXISTS
      S: * 3 RECENT
      S: a1 OK NOOP completed.
    `);
  });

  it('a new keyword is announced with FLAGS and PERMANENTFLAGS first', async () => {
    await deliver(1);
    const c = await loggedIn(env);
    await selectInbox(c, 1);
    await other.setFlags([1], { mode: 'add', flags: ['$Junk'] });
    await c.run(`
      C: a1 NOOP
      S: * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Junk)
      S: * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Junk \\*)] Flags permitted.
      S: * 1 FETCH (FLAGS (\\Recent $Junk))
      S: a1 OK *
    `);
  });

  it('new mail: EXISTS and RECENT, even during FETCH', async () => {
    await deliver(1);
    const c = await loggedIn(env);
    await selectInbox(c, 1);
    await deliver(2);
    await c.run(`
      C: a1 FETCH 1
      S: * 1 FETCH (UID 1 FLAGS (\\Recent))
      S: * 3 EXISTS
      S: * 3 RECENT
      S: a1 OK Fetch completed.
    `);
  });

  it('EXPUNGE is held back during FETCH and STORE, sent during UID FETCH and NOOP, highest first', async () => {
    await deliver(4);
    const c = await loggedIn(env);
    await selectInbox(c, 4);
    await other.setFlags([1, 3], { mode: 'add', flags: ['\\Deleted'] });
    await other.expunge();
    await c.run(`
      C: a1 FETCH 1:4
      S: * 1 FETCH (UID 1 FLAGS (\\Recent))
      S: * 2 FETCH (UID 2 FLAGS (\\Recent))
      S: * 3 FETCH (UID 3 FLAGS (\\Recent))
      S: * 4 FETCH (UID 4 FLAGS (\\Recent))
      S: a1 OK Fetch completed.
      C: a2 STORE 4 \\Answered
      S: a2 OK Store completed.
      C: a3 FETCH 3
      S: * 3 FETCH *
      S: a3 OK Fetch completed.
      C: a4 UID FETCH 1:*
      S: * 2 FETCH (UID 2 FLAGS (\\Recent))
      S: * 4 FETCH (UID 4 FLAGS (\\Answered \\Recent))
      S: * 3 EXPUNGE
      S: * 1 EXPUNGE
      S: a4 OK Fetch completed.
      C: a5 FETCH 1:*
      S: * 1 FETCH (UID 2 *)
      S: * 2 FETCH (UID 4 *)
      S: a5 OK *
    `);
  });

  it('NOOP sends held expunges; sequence numbers past EXISTS are BAD', async () => {
    await deliver(2);
    const c = await loggedIn(env);
    await selectInbox(c, 2);
    await other.setFlags([2], { mode: 'add', flags: ['\\Deleted'] });
    await other.expunge();
    await c.run(`
      C: a1 FETCH 2
      S: * 2 FETCH *
      S: a1 OK *
      C: a2 CHECK
      S: * 2 EXPUNGE
      S: a2 OK Check completed.
      C: a3 FETCH 2
      S: a3 BAD Error in IMAP command FETCH: Invalid messageset
      C: a4 UID FETCH 2
      S: a4 OK Fetch completed.
      C: a5 FETCH 0
      S: a5 BAD Error in IMAP command FETCH: *
    `);
  });
});

describe('SelectedMailbox', () => {
  it('maps sequence numbers and UIDs, resolves sets both ways', async () => {
    await deliver(5);
    await other.setFlags([2, 4], { mode: 'add', flags: ['\\Deleted'] });
    await other.expunge();
    const handle = await user.open('INBOX', 'read-only');
    const sel = await SelectedMailbox.open(handle);
    expect(sel.allUids()).toEqual([1, 3, 5]);
    expect(sel.count).toBe(3);
    expect(sel.uidAt(2)).toBe(3);
    expect(sel.seqOf(5)).toBe(3);
    expect(sel.seqOf(4)).toBeUndefined();
    const set = (...r: [number | '*', number | '*'][]): SequenceSet => r.map(([from, to]) => ({ from, to }));
    expect(sel.resolve(set([2, '*']), false)).toEqual([3, 5]);
    expect(sel.resolve(set(['*', 1]), false)).toEqual([1, 3, 5]);
    expect(sel.resolve(set([3, 3], [1, 1]), false)).toEqual([1, 5]);
    expect(() => sel.resolve(set([4, 4]), false)).toThrow(ParseError);
    expect(sel.resolve(set([2, 4]), true)).toEqual([3]);
    expect(sel.resolve(set([6, '*']), true)).toEqual([5]);
    expect(sel.resolve(set([100, 200]), true)).toEqual([]);
    expect(sel.firstUnseen()).toBe(1);
    expect(sel.readOnly).toBe(true);
    await sel.close();
  });

  it('an empty mailbox: "*" as a sequence number is BAD, as a UID names nothing', async () => {
    const handle = await user.open('Trash', 'read-write');
    const sel = await SelectedMailbox.open(handle);
    expect(() => sel.resolve([{ from: 1, to: '*' }], false)).toThrow(ParseError);
    expect(sel.resolve([{ from: 1, to: '*' }], true)).toEqual([]);
    expect(sel.firstUnseen()).toBeUndefined();
    await sel.close();
  });
});
