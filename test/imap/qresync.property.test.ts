/**
 * Properties of QRESYNC's pieces (fast-check, fixed seed): the QRESYNC parameter parser reads back what a
 * client writes; missingUids and matchedFloor agree with a brute-force model on small mailboxes; and a
 * session fed random QRESYNC parameters and FETCH modifiers answers each command with exactly one tagged
 * OK/NO/BAD, never SERVERBUG, and stays usable.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQresync } from '../../src/imap/qresync-param.js';
import { matchedFloor, missingUids } from '../../src/imap/vanished.js';
import { ArgCursor } from '../../src/imap/wire/cursor.js';
import { parseSequenceSet, resolveSequenceNumbers } from '../../src/imap/wire/sequence-set.js';
import { frameOf } from './wire/drive.js';
import { Env, loggedIn, type Client } from './harness/transcript.js';
import { deliver } from './commands/helpers.js';

const SEED = 20261204;
const RUNS = Number(process.env['MAILGATE_FUZZ_RUNS'] ?? 1000);

/** Ascending, non-overlapping ranges written as a set ("1:3,7,9:12"), and the numbers they name. */
const ascendingSet = fc.array(fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 4 })), { minLength: 1, maxLength: 5 }).map((steps) => {
  const parts: string[] = [];
  const numbers: number[] = [];
  let at = 0;
  for (const [gap, len] of steps) {
    const lo = at + gap;
    const hi = lo + len;
    parts.push(lo === hi ? String(lo) : `${lo}:${hi}`);
    for (let n = lo; n <= hi; n++) numbers.push(n);
    at = hi;
  }
  return { text: parts.join(','), numbers };
});

/** A cursor standing after the word QRESYNC of `x QRESYNC<rest>`. */
function after(rest: string): ArgCursor {
  return new ArgCursor(frameOf(`a1 QRESYNC${rest}`));
}

/** The set's numbers written back as single numbers (so a size-n set pairs with any size-n set). */
const singles = (numbers: readonly number[]): string => numbers.join(',');

describe('QRESYNC parameter parser', () => {
  it('reads back every well-formed parameter a client can write', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4294967295 }), fc.bigInt({ min: 0n, max: 9223372036854775807n }), fc.option(ascendingSet), fc.option(ascendingSet), (uv, modseq, known, match) => {
        let text = ` (${uv} ${modseq}`;
        if (known !== null) {
          text += ` ${known.text}`;
          if (match !== null) text += ` (${match.text} ${singles(match.numbers.map((n) => n * 2))})`;
        }
        const c = after(`${text})`);
        const q = parseQresync(c);
        c.end();
        expect(q.uidValidity).toBe(uv);
        expect(q.modseq).toBe(Number(modseq));
        if (known === null) expect(q.knownUids).toBeUndefined();
        else expect(resolveSequenceNumbers(q.knownUids!, 1000, 'lenient')).toEqual(known.numbers);
        if (known !== null && match !== null) expect(resolveSequenceNumbers(q.seqMatch!.uids, 2000, 'lenient')).toEqual(match.numbers.map((n) => n * 2));
        else expect(q.seqMatch).toBeUndefined();
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

describe('VANISHED (EARLIER) sets', () => {
  /** A mailbox: UIDs 1..top, some present. */
  const mailbox = fc.integer({ min: 0, max: 40 }).chain((top) => fc.tuple(fc.constant(top), fc.subarray(Array.from({ length: top }, (_, i) => i + 1))));

  it('missingUids names exactly the asked UIDs above the floor, up to the top, that are not present', () => {
    fc.assert(
      fc.property(mailbox, fc.option(ascendingSet), fc.integer({ min: 0, max: 45 }), ([top, present], asked, floor) => {
        const set = parseSequenceSet(asked === null ? '1:*' : asked.text);
        const want = (asked === null ? Array.from({ length: top }, (_, i) => i + 1) : asked.numbers).filter((u) => u > floor && u <= top && !present.includes(u));
        const got = missingUids(set, top, present, floor);
        expect(got === '' ? [] : resolveSequenceNumbers(parseSequenceSet(got), 100, 'lenient')).toEqual(want);
        // written compressed: each part starts past the next number after the previous one
        const parts = got === '' ? [] : got.split(',').map((p) => p.split(':').map(Number));
        for (let i = 1; i < parts.length; i++) expect(parts[i]![0]!).toBeGreaterThan(parts[i - 1]!.at(-1)! + 1);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('matchedFloor is the UID of the last matching pair before the first mismatch', () => {
    fc.assert(
      fc.property(mailbox, fc.array(fc.tuple(fc.integer({ min: 1, max: 45 }), fc.integer({ min: 1, max: 45 })), { minLength: 1, maxLength: 6 }), ([, view], pairs) => {
        // ascending in both, as the parser demands
        const seqs = [...new Set(pairs.map((p) => p[0]))].sort((a, b) => a - b);
        const uids = [...new Set(pairs.map((p) => p[1]))].sort((a, b) => a - b);
        const n = Math.min(seqs.length, uids.length);
        const s = seqs.slice(0, n);
        const u = uids.slice(0, n);
        let want = 0;
        for (let i = 0; i < n && view[s[i]! - 1] === u[i]; i++) want = u[i]!;
        expect(matchedFloor(parseSequenceSet(s.join(',')), parseSequenceSet(u.join(',')), view)).toBe(want);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

describe('a session under random QRESYNC input', () => {
  const TOKENS = ['(', ')', ' ', '1', '0', '7', '4294967295', '4294967296', '9223372036854775808', '*', '1:*', '2:4', '5,3', '1:3,5', 'x', '()', '(1 1)', 'QRESYNC', 'CONDSTORE', 'VANISHED', 'CHANGEDSINCE', '"1"', '{1+}\r\n1'];
  const soup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 9 }).map((t) => t.join(''));
  const FORMS = [(s: string) => `SELECT INBOX (QRESYNC ${s})`, (s: string) => `EXAMINE INBOX (QRESYNC (${s}))`, (s: string) => `SELECT INBOX (${s})`, (s: string) => `UID FETCH 1:* (FLAGS) (${s})`, (s: string) => `UID FETCH ${s} (FLAGS) (CHANGEDSINCE 1 VANISHED)`];

  let env: Env;
  let c: Client;
  beforeAll(async () => {
    env = new Env();
    await deliver(env, 5);
    c = await loggedIn(env);
    c.send('e1 ENABLE QRESYNC\r\n');
    for (let line = await c.line(); !line.startsWith('e1 '); line = await c.line());
  });
  afterAll(async () => {
    await env.close();
  });

  it('answers each command once, never SERVERBUG, and stays usable', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: FORMS.length - 1 }), soup, async (form, s) => {
        const tag = `q${n++}`;
        c.send(`${tag} ${FORMS[form]!(s)}\r\n${tag}n NOOP\r\n`);
        let tagged = 0;
        for (;;) {
          const got = await c.line();
          if (got.startsWith(`${tag} `)) {
            expect(got).toMatch(new RegExp(`^${tag} (OK|NO|BAD) `));
            expect(got).not.toMatch(/SERVERBUG/);
            tagged++;
          } else if (got.startsWith(`${tag}n `)) {
            expect(got).toMatch(new RegExp(`^${tag}n (OK|BAD) `));
            expect(tagged).toBe(1);
            return;
          } else expect(got).toMatch(/^\* /);
        }
      }),
      { seed: SEED, numRuns: Math.min(RUNS, 400), endOnFailure: true },
    );
  });
});
