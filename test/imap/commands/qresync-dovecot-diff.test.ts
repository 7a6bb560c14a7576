/**
 * QRESYNC against Dovecot 2.3 (preauth, harness/dovecot-preauth.ts): one script to both servers, a command at
 * a time, the answers compared after normalising what differs by nature (UIDVALIDITY and MODSEQ values,
 * Dovecot's timing suffix, RECENT outside SELECT). `$UV`, `$M0`, `$M1` in a command
 * stand for each server's own UIDVALIDITY and MODSEQs, captured from its earlier answers.
 *
 * The one difference RFC 7162 leaves open: VANISHED (EARLIER). Dovecot remembers when each UID went, Mailgate
 * does not (imap/vanished.ts; RFC 7162 §5), so Mailgate's set may be larger — never smaller, and never a UID
 * that still exists. Those lines are checked that way and taken out before the rest is compared. For BAD
 * answers only the status is compared where Mailgate's text says more than Dovecot's ("at column N").
 */
import { expect, it } from 'vitest';
import { parseSequenceSet, resolveSequenceNumbers } from '../../../src/imap/wire/sequence-set.js';
import { DOVECOT_SPECIAL_USE } from '../../interop/harness/imap-targets.js';
import { PreauthDovecot, mailgateCommand } from '../harness/dovecot-preauth.js';
import { Env, loggedIn, type Client } from '../harness/transcript.js';

const CONF = `protocols =
ssl = no
log_path = /dev/stderr
${DOVECOT_SPECIAL_USE.trimStart()}`;

const APPEND = (n: number): string => `a${n} APPEND INBOX {12+}\r\nSubject: ${n}\r\n`;

interface Step {
  readonly text: string;
  /** Compare everything (default), only the tagged status, or nothing. */
  readonly compare?: 'all' | 'status' | 'none';
  /** Take HIGHESTMODSEQ (into M0 or M1) or UIDVALIDITY (into UV) from each server's answer. */
  readonly capture?: readonly ('UV' | 'M0' | 'M1')[];
  /**
   * The sequence match data shows the client knows every expunge up to this UID (RFC 7162 §3.2.5.2):
   * Mailgate leaves those out, Dovecot, knowing exactly what went since the MODSEQ, names them anyway.
   */
  readonly matched?: number;
  /** The session: A (the QRESYNC client, the default) or B (another session; not compared by default). */
  readonly who?: 'A' | 'B';
}

const SCRIPT: readonly Step[] = [
  ...[1, 2, 3, 4, 5, 6].map((n) => ({ text: APPEND(n), compare: 'none' as const })),
  { text: 'c1 CREATE Work' },
  { text: 'q0 SELECT INBOX (QRESYNC (1 1))' },
  { text: 'e1 ENABLE QRESYNC' },
  { text: 'e2 CAPABILITY', compare: 'none' },
  { text: 's1 SELECT INBOX', capture: ['M0', 'UV'] },
  { text: 's3 STORE 2,4 +FLAGS.SILENT (\\Deleted)' },
  { text: 's4 EXPUNGE', capture: ['M1'] },
  { text: 's5 FETCH 1:* (UID)' },
  { text: 's6 STORE 1 +FLAGS (\\Seen)' },
  { text: 'f1 UID FETCH 1:* (FLAGS) (CHANGEDSINCE $M0 VANISHED)' },
  { text: 'f2 UID FETCH 1:* (FLAGS) (CHANGEDSINCE $M1 VANISHED)' },
  { text: 'f3 UID FETCH 3:5 (FLAGS) (VANISHED CHANGEDSINCE $M0)' },
  { text: 'x1 FETCH 2 (BODY[TEXT])' },
  { text: 'x2 UID FETCH 5 (BODY[TEXT] FLAGS)' },
  { text: 'f4 UID FETCH 1:* (FLAGS) (VANISHED)', compare: 'status' },
  { text: 'f5 FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)', compare: 'status' },
  { text: 'm1 UID MOVE 3 Work' },
  { text: 'm2 STORE 1 +FLAGS.SILENT (\\Deleted)' },
  { text: 'm3 UID EXPUNGE 1' },
  { text: 'r1 SELECT INBOX (QRESYNC ($UV $M0))' },
  { text: 'r2 EXAMINE INBOX (QRESYNC ($UV $M0 1:4))' },
  { text: 'r3 SELECT INBOX (QRESYNC ($UV $M0 1:6 (1:2 5,6)))', matched: 6 },
  { text: 'r3b SELECT INBOX (QRESYNC ($UV $M0 1:6 (1:2 1,5)))' },
  { text: 'r4 SELECT INBOX (QRESYNC ($UV $M1))' },
  { text: 'r5 SELECT INBOX (CONDSTORE QRESYNC ($UV 1 2:6))' },
  { text: 'r6 SELECT INBOX (QRESYNC (1 $M0))' },
  { text: 'u1 UNSELECT' },
  { text: 'b1 SELECT INBOX (QRESYNC)', compare: 'status' },
  { text: 'b2 SELECT INBOX (QRESYNC ($UV))', compare: 'status' },
  { text: 'b3 SELECT INBOX (QRESYNC ($UV 1 *))', compare: 'status' },
  { text: 'b4 SELECT INBOX (QRESYNC ($UV 1 1:7 (1:4 1,3,5)))', compare: 'status' },
  { text: 'b5 SELECT INBOX (QRESYNC ($UV 1 1:7 (0:1 1)))', compare: 'status' },
];

/**
 * RECENT outside SELECT is left out: Dovecot sends it when the session's count changes, Mailgate with every
 * EXISTS (as without QRESYNC; dovecot-diff.test.ts leaves it out too).
 */
function normalise(lines: readonly string[]): string[] {
  const select = lines.some((l) => l.startsWith('* FLAGS '));
  return lines
    .filter((l) => select || !/^\* \d+ RECENT$/.test(l))
    .map((l) =>
      l
        .replace(/ \(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)/, '')
        .replace(/\.$/, '')
        .replace(/(UIDVALIDITY|COPYUID) \d+/g, '$1 V')
        .replace(/(HIGHESTMODSEQ|MODSEQ) \(?\d+\)?/g, '$1 M'),
    );
}

const EARLIER = /^\* VANISHED \(EARLIER\) (\S+)$/;
const uidsOf = (set: string): number[] => (set === '' ? [] : (resolveSequenceNumbers(parseSequenceSet(set), 1000, 'lenient') ?? []));

/** One side's two sessions: A is the QRESYNC client under test, B another session changing the mailbox. */
interface Sessions {
  command(who: 'A' | 'B', text: string, tag: string): Promise<string[]>;
}

/** Runs `script` on both servers; the differences found, one text each. `gone`: the UIDs the script removes. */
async function differences(script: readonly Step[], dovecot: Sessions, mailgate: Sessions, gone: readonly number[]): Promise<string> {
  const vars = { dovecot: new Map<string, string>(), mailgate: new Map<string, string>() };
  const fill = (text: string, side: Map<string, string>): string => text.replace(/\$(UV|M0|M1)/g, (_m, k: string) => side.get(k) ?? '0');
  const found: string[] = [];
  for (const step of script) {
    const tag = step.text.slice(0, step.text.indexOf(' '));
    const who = step.who ?? 'A';
    const theirs = await dovecot.command(who, fill(step.text, vars.dovecot), tag);
    const ours = await mailgate.command(who, fill(step.text, vars.mailgate), tag);
    for (const name of step.capture ?? []) {
      const re = name === 'UV' ? /UIDVALIDITY (\d+)/ : /HIGHESTMODSEQ (\d+)/;
      for (const [side, lines] of [['dovecot', theirs], ['mailgate', ours]] as const) {
        const m = lines.map((l) => re.exec(l)).find((x) => x !== null);
        expect(m, `${side} gave no ${name} in ${lines.join(' | ')}`).toBeDefined();
        vars[side].set(name, m![1]!);
      }
    }
    const compare = step.compare ?? (who === 'B' ? 'none' : 'all');
    if (compare === 'none') continue;
    let a = normalise(theirs);
    let b = normalise(ours);
    if (compare === 'status') {
      a = [a.at(-1)!.split(' ').slice(0, 2).join(' ')];
      b = [b.at(-1)!.split(' ').slice(0, 2).join(' ')];
    }
    const earlierA = a.map((l) => EARLIER.exec(l)?.[1]).find((x) => x !== undefined);
    const earlierB = b.map((l) => EARLIER.exec(l)?.[1]).find((x) => x !== undefined);
    if (earlierA !== undefined || earlierB !== undefined) {
      const want = uidsOf(earlierA ?? '').filter((u) => u > (step.matched ?? 0));
      const got = uidsOf(earlierB ?? '');
      // a superset of Dovecot's, of UIDs that really went
      if (!want.every((u) => got.includes(u)) || got.some((u) => !gone.includes(u))) {
        found.push(`${step.text}\n  VANISHED (EARLIER) dovecot: ${earlierA ?? '-'}  mailgate: ${earlierB ?? '-'}`);
      }
      a = a.filter((l) => !EARLIER.test(l));
      b = b.filter((l) => !EARLIER.test(l));
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) found.push(`${step.text.split('\r\n')[0]}\n  dovecot:  ${a.join('\n            ')}\n  mailgate: ${b.join('\n            ')}`);
  }
  return found.join('\n');
}

/** Both servers, each with its A and B sessions (B made on first use). */
async function servers(prefix: string): Promise<{ dovecot: Sessions; mailgate: Sessions; stop(): Promise<void> }> {
  const a = await PreauthDovecot.start(prefix, CONF);
  let b: PreauthDovecot | undefined;
  const env = new Env();
  const clients = new Map<'A' | 'B', Client>();
  return {
    dovecot: {
      async command(who, text, tag) {
        if (who === 'A') return a.command(text, tag);
        b ??= await a.another();
        return b.command(text, tag);
      },
    },
    mailgate: {
      async command(who, text, tag) {
        let c = clients.get(who);
        if (c === undefined) clients.set(who, (c = await loggedIn(env)));
        return mailgateCommand(c, text, tag);
      },
    },
    async stop() {
      await b?.stop();
      await a.stop();
      await env.close();
    },
  };
}

it('answers QRESYNC as Dovecot does, VANISHED (EARLIER) a superset of its', async () => {
  const s = await servers('dovecot-qresync');
  try {
    // Only the UIDs this script expunged or moved may be named; 5 and 6 still exist.
    expect(await differences(SCRIPT, s.dovecot, s.mailgate, [1, 2, 3, 4])).toBe('');
  } finally {
    await s.stop();
  }
}, 60_000);

/**
 * Another session changes INBOX while the QRESYNC client has it selected. (FETCHes while an expunge is held
 * back leave the expunged message out: Mailgate answers it after the others, Dovecot in order, with or
 * without QRESYNC.)
 */
const TWO_SESSIONS: readonly Step[] = [
  ...[1, 2, 3, 4].map((n) => ({ text: APPEND(n), compare: 'none' as const })),
  { text: 'e1 ENABLE QRESYNC' },
  { text: 's1 SELECT INBOX' },
  { text: 'o1 SELECT INBOX', who: 'B' },
  { text: 'o2 UID STORE 2 +FLAGS.SILENT (\\Deleted)', who: 'B' },
  { text: 'o3 UID EXPUNGE 2', who: 'B' },
  { text: 'n1 NOOP' },
  { text: 'o4 UID STORE 3 +FLAGS.SILENT (\\Seen)', who: 'B' },
  { text: 'n2 NOOP' },
  { text: 'o5 APPEND INBOX {12+}\r\nSubject: 5\r\n', who: 'B' },
  { text: 'n3 NOOP' },
  { text: 'o6 UID STORE 1 +FLAGS.SILENT (\\Deleted)', who: 'B' },
  { text: 'n4 NOOP' },
  { text: 'o7 UID EXPUNGE 1', who: 'B' },
  { text: 'o8 UID STORE 4 +FLAGS.SILENT (\\Flagged)', who: 'B' },
  { text: 'n5 FETCH 2:* (UID)' },
  { text: 'n6 STORE 2 +FLAGS (\\Answered)' },
  { text: 'n7 UID FETCH 3:* (UID)' },
  { text: 'n8 NOOP' },
];

it('tells a QRESYNC session of another session\'s changes as Dovecot does', async () => {
  const s = await servers('dovecot-qresync2');
  try {
    expect(await differences(TWO_SESSIONS, s.dovecot, s.mailgate, [1, 2])).toBe('');
  } finally {
    await s.stop();
  }
}, 60_000);
