/**
 * milter-manager's merge order through a real Chain with in-process children (chain/merge.ts):
 * every pair of statuses at RCPT (asked at once, the strongest wins, the later child on a tie) and at
 * end of message (asked one after another, the first refusal ends the message). Each child's reply
 * carries its own text (and code, where the status has one), so the table also shows whose reply,
 * with its code and text, reached the MTA.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Chain, type ChildDefinition } from '../../src/chain/chain.js';
import { FULL_OFFER } from '../../src/mail/capabilities.js';
import { defineFilter, type StageHandlers } from '../../src/mail/define-filter.js';
import { silentLogger } from '../../src/mail/logger.js';
import { CONTINUE, type Reply, type Status } from '../../src/mail/reply.js';
import { context } from '../milter/helpers.js';
import { throughEnvelope } from './envelope.js';

const STATUSES = ['discard', 'reject', 'tempfail', 'continue', 'skip', 'accept'] as const satisfies readonly Status[];
type S = (typeof STATUSES)[number];

/**
 * Who wins, written out by hand: rows are the first child's status, columns the second's, in the order
 * of STATUSES. 'a' the first child's reply, 'b' the second's, '-' neither (the chain's own continue).
 */
const RCPT_WINNER: Record<S, string> = {
  //        discard reject tempfail continue skip accept
  discard: 'b a a a a a',
  reject: 'b b a a a a',
  tempfail: 'b b b a a a',
  continue: 'b b b b a a',
  skip: 'b b b b b a',
  accept: 'b b b b b b',
};

/** At end of message the children run in turn: a refusal by the first ends the message unasked. */
const EOM_WINNER: Record<S, string> = {
  //        discard reject tempfail continue skip accept
  discard: 'a a a a a a',
  reject: 'a a a a a a',
  tempfail: 'a a a a a a',
  continue: 'b b b - - -',
  skip: 'b b b - - -',
  accept: 'b b b - - -',
};

const winner = (table: Record<S, string>, a: S, b: S): string => table[a].split(' ')[STATUSES.indexOf(b)]!;

/** A reply that says who gave it: reject and tempfail with a code of their class, all with a text. */
function replyOf(status: S, who: string, n = 0): Reply {
  if (status === 'reject') return { status, code: 550 + n, enhancedCode: `5.7.${n + 1}`, text: `rejected by ${who}` };
  if (status === 'tempfail') return { status, code: 450 + n, enhancedCode: `4.7.${n + 1}`, text: `deferred by ${who}` };
  return { status, text: `${status} from ${who}` };
}

const chains: Chain[] = [];
afterEach(async () => {
  await Promise.all(chains.splice(0).map((c) => c.dispose()));
});

function child(name: string, handlers: StageHandlers): ChildDefinition {
  return {
    name,
    filter: defineFilter(name, { stages: ['connect', 'helo', 'mail', 'rcpt', 'data', 'header', 'endOfHeaders', 'body', 'endOfMessage'] }, () => handlers),
    fallbackStatus: 'accept',
    evaluationMode: false,
    conditions: [],
  };
}

function chainOf(children: ChildDefinition[]): Chain {
  const c = new Chain(children, { fallbackStatus: 'accept', logger: silentLogger });
  chains.push(c);
  return c;
}

/** The chain's reply to one RCPT whose children answer `replies`, in order. */
async function atRcpt(replies: readonly Reply[]): Promise<Reply> {
  const chain = chainOf(replies.map((r, i) => child(`c${i}`, { rcpt: () => r })));
  const s = chain.open();
  const ctx = context();
  await s.negotiate(FULL_OFFER);
  expect(await s.connect({ hostname: 'client.example.com', family: 'inet', address: '192.0.2.1', port: 1 }, ctx)).toEqual(CONTINUE);
  expect(await s.helo('client.example.com', ctx)).toEqual(CONTINUE);
  expect(await s.mail('<a@example.com>', [], ctx)).toEqual(CONTINUE);
  const reply = await s.rcpt('<b@example.org>', [], ctx);
  await s.abort();
  await s.close();
  return reply;
}

/** The chain's answer at end of message when the two children answer `a` and `b` there; and whether b was asked. */
async function atEndOfMessage(a: Reply, b: Reply): Promise<{ reply: Reply; secondAsked: boolean }> {
  let secondAsked = false;
  const chain = chainOf([
    child('a', { endOfMessage: () => ({ reply: a, changes: [] }) }),
    child('b', { endOfMessage: () => ((secondAsked = true), { reply: b, changes: [] }) }),
  ]);
  const s = chain.open();
  const ctx = context();
  await throughEnvelope(s, ctx);
  await s.header('Subject', ' hello', ctx);
  await s.endOfHeaders(ctx);
  await s.body(Buffer.from('body\r\n'), ctx);
  const { reply } = await s.endOfMessage(ctx);
  await s.close();
  return { reply, secondAsked };
}

const PAIRS = STATUSES.flatMap((a) => STATUSES.map((b) => [a, b] as const));

describe('merge order at RCPT (children asked at once)', () => {
  it.each(PAIRS)('first %s, second %s', async (a, b) => {
    const first = replyOf(a, 'first', 0);
    const second = replyOf(b, 'second', 1);
    const w = winner(RCPT_WINNER, a, b);
    expect(await atRcpt([first, second])).toEqual(w === 'a' ? first : second);
  });

  it('on a tie the later child’s code, enhanced code and text reach the MTA', async () => {
    expect(await atRcpt([replyOf('reject', 'first', 0), replyOf('reject', 'second', 1)])).toEqual({
      status: 'reject',
      code: 551,
      enhancedCode: '5.7.2',
      text: 'rejected by second',
    });
    expect(await atRcpt([replyOf('tempfail', 'first', 0), replyOf('tempfail', 'second', 1)])).toEqual({
      status: 'tempfail',
      code: 451,
      enhancedCode: '4.7.2',
      text: 'deferred by second',
    });
  });

  it('with any number of children: the strongest status wins, the last of its children on a tie', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...STATUSES), { minLength: 1, maxLength: 4 }), async (statuses) => {
        const replies = statuses.map((s, i) => replyOf(s, `child ${i}`, i));
        // STATUSES is strongest first: the winner is the last child holding the strongest status present.
        const strongest = STATUSES.find((s) => statuses.includes(s))!;
        expect(await atRcpt(replies)).toEqual(replies[statuses.lastIndexOf(strongest)]);
      }),
      { numRuns: 60 },
    );
  });
});

describe('merge order at end of message (children asked in turn)', () => {
  it.each(PAIRS)('first %s, second %s', async (a, b) => {
    const first = replyOf(a, 'first', 0);
    const second = replyOf(b, 'second', 1);
    const w = winner(EOM_WINNER, a, b);
    const { reply, secondAsked } = await atEndOfMessage(first, second);
    expect(reply).toEqual(w === 'a' ? first : w === 'b' ? second : CONTINUE);
    expect(secondAsked).toBe(w !== 'a');
  });
});
