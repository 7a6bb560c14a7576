/**
 * Fuzzing the command reader and the cursor (fast-check, fixed seed, 100,000 inputs; MAILGATE_FUZZ_RUNS
 * overrides). Inputs from three generators: random bytes; grammar-shaped token soups with the nasty cases
 * ({-1}, {99999999999999999999}, {5+} short, NUL, bare CR/LF, 8-bit, `*`/`0`/4294967296 in sets, unbalanced
 * parentheses, long lines); and command lines shaped like those imapflow, mutt and mbsync send (written
 * from their documented behaviour, not captured), as a well-behaved client streams them with literals whose
 * bytes look like commands.
 * Properties: nothing but ParseError ever comes out (reader or cursor); the same events however the input
 * is chunked, in push and in pull mode; memory bounded (no partial line, literal or command past its limit is held); a literal's
 * bytes are never read as a command; every command gets exactly one answerable outcome.
 * Limits are small here so every limit path is hit while each run stays cheap.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgCursor } from '../../../src/imap/wire/cursor.js';
import { ParseError, type CommandFrame } from '../../../src/imap/wire/frame.js';
import { CommandReader } from '../../../src/imap/wire/reader.js';
import { b, checkNoLiteralCommands, evilLiteral, plain, playClient, pull, split, type Piece, type Policy, type Step } from './drive.js';

const RUNS = Number(process.env.MAILGATE_FUZZ_RUNS ?? 100_000);
const SEED = 20261203;
const LIMITS = { maxLineLength: 64, maxLiteralSize: 32, maxCommandSize: 200, maxDiscardSize: 128 };
const policy: Policy = (a) => (a.size % 5 === 2 ? 'refuse' : 'accept');

/** Feeds chunks; checks the reader's own buffers stay within the limits after every call. */
function run(chunks: readonly Buffer[], limits = LIMITS): Step[] {
  const reader = new CommandReader(limits);
  const inner = reader as unknown as { lineBuf: Buffer; literalBuf: Buffer; overflow?: { head: Buffer; tail: Buffer } };
  const steps: Step[] = [];
  const check = (): void => {
    if (inner.lineBuf.length > Math.max(256, limits.maxLineLength + 1)) throw new Error(`line buffer ${inner.lineBuf.length}`);
    if (inner.literalBuf.length > limits.maxLiteralSize) throw new Error(`literal buffer ${inner.literalBuf.length}`);
    if (inner.overflow !== undefined && inner.overflow.head.length + inner.overflow.tail.length > 256 + 64) throw new Error('overflow kept too much');
  };
  const take = (events: ReturnType<CommandReader['feed']>): void => {
    check();
    for (const e of events) {
      steps.push(e);
      // Plain checks, not expect(): this runs a million times.
      if (e.type === 'error' && !(e.error.error instanceof ParseError)) throw new Error('not a ParseError');
      if (e.type === 'command') {
        if (e.frame.size > limits.maxCommandSize) throw new Error(`command of ${e.frame.size}`);
        for (const s of e.frame.segments) if (s.kind === 'literal' && s.data.length > limits.maxLiteralSize) throw new Error('literal over the limit');
      }
      if (e.type === 'literal') {
        const d = policy(e.announcement);
        steps.push({ type: 'decision', decision: d });
        take(d === 'accept' ? reader.accept() : reader.refuse());
      }
    }
  };
  for (const c of chunks) take(reader.feed(c));
  return steps;
}

/** The same events, compared cheaply (expect's deep equality on the failing case only). */
function same(a: Step[], b: Step[]): void {
  const pa = plain(a);
  const pb = plain(b);
  if (JSON.stringify(pa) !== JSON.stringify(pb)) expect(pa).toEqual(pb);
}

/** Every cursor primitive a command parser might try, in the order a handler would; only ParseError may escape. */
function exercise(frame: CommandFrame): void {
  const attempts: ((c: ArgCursor) => void)[] = [
    (c) => {
      c.sp();
      c.astring();
      c.sp();
      c.astring();
      c.end();
    },
    (c) => {
      c.sp();
      c.mailbox();
      if (c.tryChar(' ') && c.peek() === 0x28) c.flagList();
      if (c.tryChar(' ') && c.peek() === 0x22) c.dateTime();
      c.tryChar(' ');
      c.literal();
      c.end();
    },
    (c) => {
      c.sp();
      c.sequenceSet();
      c.sp();
      const item = (x: ArgCursor): void => {
        x.itemName();
        if (x.peek() === 0x5b) {
          x.section();
          x.partial();
        }
      };
      if (c.peek() === 0x28) c.list(item);
      else item(c);
      c.end();
    },
    (c) => {
      c.sp();
      c.listMailbox();
      c.sp();
      c.nstring();
      c.sp();
      c.number64();
      c.sp();
      c.date();
      c.sp();
      c.flag({ allowStar: true });
    },
    (c) => {
      // A generic value walker (SEARCH-like).
      const any = (x: ArgCursor): void => {
        if (x.atLiteral() || x.peek() === 0x22) x.stringBytes();
        else if (x.peek() === 0x28) x.list(any);
        else if (x.peek() >= 0x30 && x.peek() <= 0x39) x.sequenceSet();
        else x.atom();
      };
      while (!c.atEnd()) {
        c.sp();
        any(c);
      }
    },
  ];
  for (const attempt of attempts) {
    try {
      attempt(new ArgCursor(frame));
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      if (!(e.position >= 0 && e.position <= frame.size)) throw new Error(`position ${e.position} outside the command`);
    }
  }
}

const TOKENS = [
  'a1', 'A002', '*', '+', 'NOOP', 'LOGIN', 'SELECT', 'FETCH', 'UID', 'STORE', 'APPEND', 'SEARCH', 'LIST', 'x',
  '"quoted"', '"a\\"b"', '"open', '(', ')', '((', '))', '[', ']', '<0.10>', '{-1}', '{99999999999999999999}',
  '{3}\r\nabc', '{5+}\r\nabc\r\n', '{0}\r\n', '{2+}\r\n\r\n', '\0', '\r', '\n', '\r\n', '\xe9\xff', '1:*', '*:1',
  '0', '4294967295', '4294967296', '1,2:3', 'BODY[1.2.HEADER.FIELDS (A B)]<0.10>', 'BODY.PEEK[]', 'BODY[MIME]',
  '"03-Dec-2026 01:02:03 +0000"', '"31-Feb-2026 01:02:03 +0000"', '1-Jan-2020', '&AOk-', '&AC4ALg-', 'INBOX',
  'inbox/x', '\\Seen', '\\*', '(\\Seen $Junk)', 'NIL', 'x'.repeat(70),
];

const soup = fc
  .tuple(fc.array(fc.constantFrom(...TOKENS), { maxLength: 10 }), fc.array(fc.constantFrom(' ', ' ', ' ', '', '\r\n'), { minLength: 10, maxLength: 10 }))
  .map(([tokens, seps]) => b(tokens.map((t, i) => t + seps[i]).join('') + '\r\n'));

const randomBytes = fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a));

/** Shaped like what the real clients send. */
const CLIENT_LINES = [
  'CAPABILITY', 'ID ("name" "imapflow" "version" "1.15.0")', 'AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==', 'ENABLE CONDSTORE QRESYNC',
  'LIST "" "*" RETURN (SPECIAL-USE SUBSCRIBED)', 'SELECT INBOX (CONDSTORE)', 'UID FETCH 1:* (UID FLAGS MODSEQ) (CHANGEDSINCE 12345)',
  'FETCH 1:3 (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (DATE FROM SUBJECT TO CC MESSAGE-ID REFERENCES)])',
  'UID STORE 7 +FLAGS.SILENT (\\Seen)', 'UID MOVE 1:5 Trash', 'IDLE', 'DONE', 'STATUS "Sent" (MESSAGES UIDNEXT UNSEEN)', 'NAMESPACE',
  'UID SEARCH UNDELETED SINCE 1-Jan-2024 NOT HEADER Subject "x"', 'EXAMINE "Entw&APw-rfe"', 'LSUB "" "*"', 'CHECK', 'EXPUNGE', 'LOGOUT',
  'SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1:10 41,43:51)))', 'UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)',
];

const clientPiece: fc.Arbitrary<Piece> = fc.record(
  { text: fc.constantFrom(...CLIENT_LINES), literal: fc.record({ data: evilLiteral, nonSync: fc.boolean() }) },
  { requiredKeys: ['text'] },
);
const appendPiece: fc.Arbitrary<Piece> = fc.record({
  text: fc.constantFrom('APPEND INBOX (\\Seen) ', 'LOGIN ', 'APPEND "Sent" "03-Dec-2026 01:02:03 +0000" '),
  literal: fc.record({ data: evilLiteral, nonSync: fc.boolean() }),
});

describe('reader fuzz', () => {
  it(`${RUNS} inputs: only ParseError, chunking-invariant, bounded, literals never commands`, () => {
    const input = fc.oneof(
      { weight: 3, arbitrary: fc.tuple(fc.constant('bytes' as const), randomBytes) },
      { weight: 4, arbitrary: fc.tuple(fc.constant('soup' as const), soup) },
      { weight: 3, arbitrary: fc.tuple(fc.constant('client' as const), fc.array(fc.array(fc.oneof(clientPiece, appendPiece), { maxLength: 3 }), { minLength: 1, maxLength: 3 })) },
    );
    fc.assert(
      fc.property(input, fc.array(fc.nat(), { maxLength: 4 }), ([kind, data], cuts) => {
        if (kind === 'client') {
          const commands = data as Piece[][];
          const whole = playClient(commands, policy, LIMITS, (x) => [x]);
          const chunked = playClient(commands, policy, LIMITS, (x) => split(x, cuts));
          same(chunked, whole);
          checkNoLiteralCommands(whole);
          const answers = whole.filter((s) => s.type === 'command' || s.type === 'error' || (s.type === 'decision' && s.decision === 'refuse'));
          if (!whole.some((s) => s.type === 'error' && s.error.fatal) && answers.length !== commands.length) throw new Error('a command without one answer');
          for (const s of whole) if (s.type === 'command') exercise(s.frame);
          return;
        }
        const bytes = data as Buffer;
        const whole = run([bytes]);
        // Chunked and in pull mode at once: both must give what the whole input gave in push mode.
        same(pull(split(bytes, cuts), policy, LIMITS), whole);
        for (const s of whole) if (s.type === 'command') exercise(s.frame);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 120_000);

  it('lines past the default 64 KiB limit, with and without a literal marker at the end', () => {
    const limits = { maxLineLength: 65_536, maxLiteralSize: 1024, maxCommandSize: 70_000, maxDiscardSize: 4096 };
    fc.assert(
      fc.property(fc.integer({ min: 65_000, max: 70_000 }), fc.constantFrom('', ' {3+}', ' {3}', ' {5000+}'), fc.array(fc.nat(), { maxLength: 6 }), (n, marker, cuts) => {
        const input = b(`a1 X ${'y'.repeat(n)}${marker}\r\nabc\r\na2 NOOP\r\n`);
        const whole = run([input], limits);
        expect(plain(run(split(input, cuts), limits))).toEqual(plain(whole));
        const tags = whole.flatMap((s) => (s.type === 'command' ? [s.frame.tag] : s.type === 'error' ? [s.error.tag] : []));
        expect(tags[0]).toBe('a1');
      }),
      { numRuns: 60, seed: SEED },
    );
  });
});
