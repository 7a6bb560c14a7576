/**
 * QRESYNC against Dovecot 2.3 (preauth, harness/dovecot-preauth.ts): one script to both servers, a command at
 * a time, the answers compared after normalising what differs by nature (UIDVALIDITY and MODSEQ values,
 * Dovecot's timing suffix, the RECENT line Dovecot adds after an expunge). `$UV`, `$M0`, `$M1` in a command
 * stand for each server's own UIDVALIDITY and MODSEQs, captured from its earlier answers.
 *
 * The one difference RFC 7162 leaves open: VANISHED (EARLIER). Dovecot remembers when each UID went, Mailgate
 * does not (imap/vanished.ts; RFC 7162 §5), so Mailgate's set may be larger — never smaller, and never a UID
 * that still exists. Those lines are checked that way and taken out before the rest is compared. For BAD
 * answers only the status is compared where Mailgate's text says more than Dovecot's ("at column N").
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseSequenceSet, resolveSequenceNumbers } from '../../../src/imap/wire/sequence-set.js';
import { DOVECOT_SPECIAL_USE } from '../../interop/harness/imap-targets.js';
import { PreauthDovecot, mailgateCommand } from '../harness/dovecot-preauth.js';
import { Env, loggedIn } from '../harness/transcript.js';

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

function normalise(lines: readonly string[]): string[] {
  return lines
    .filter((l) => !/^\* \d+ RECENT$/.test(l) || !lines.some((x) => /^\* VANISHED \d/.test(x)))
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

let dovecot: PreauthDovecot;
let env: Env;
beforeAll(async () => {
  dovecot = await PreauthDovecot.start('dovecot-qresync', CONF);
  env = new Env();
});
afterAll(async () => {
  await dovecot?.stop();
  await env?.close();
});

it('answers QRESYNC as Dovecot does, VANISHED (EARLIER) a superset of its', async () => {
  const c = await loggedIn(env);
  const vars = { dovecot: new Map<string, string>(), mailgate: new Map<string, string>() };
  const fill = (text: string, side: Map<string, string>): string => text.replace(/\$(UV|M0|M1)/g, (_m, k: string) => side.get(k) ?? '0');
  const differences: string[] = [];
  for (const step of SCRIPT) {
    const tag = step.text.slice(0, step.text.indexOf(' '));
    const theirs = await dovecot.command(fill(step.text, vars.dovecot), tag);
    const ours = await mailgateCommand(c, fill(step.text, vars.mailgate), tag);
    for (const name of step.capture ?? []) {
      const re = name === 'UV' ? /UIDVALIDITY (\d+)/ : /HIGHESTMODSEQ (\d+)/;
      for (const [side, lines] of [['dovecot', theirs], ['mailgate', ours]] as const) {
        const m = lines.map((l) => re.exec(l)).find((x) => x !== null);
        expect(m, `${side} gave no ${name} in ${lines.join(' | ')}`).toBeDefined();
        vars[side].set(name, m![1]!);
      }
    }
    const compare = step.compare ?? 'all';
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
      // Only the UIDs this script expunged or moved (2, 4, 3, 1) may be named; 5 and 6 still exist.
      if (!want.every((u) => got.includes(u)) || got.some((u) => ![1, 2, 3, 4].includes(u))) {
        differences.push(`${step.text}\n  VANISHED (EARLIER) dovecot: ${earlierA ?? '-'}  mailgate: ${earlierB ?? '-'}`);
      }
      a = a.filter((l) => !EARLIER.test(l));
      b = b.filter((l) => !EARLIER.test(l));
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) differences.push(`${step.text.split('\r\n')[0]}\n  dovecot:  ${a.join('\n            ')}\n  mailgate: ${b.join('\n            ')}`);
  }
  expect(differences.join('\n')).toBe('');
}, 60_000);
