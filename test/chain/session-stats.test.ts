import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Chain } from '../../src/chain/chain.js';
import { mergeCapabilities } from '../../src/chain/negotiation.js';
import { MAX_LOGGED_MESSAGES, MAX_LOGGED_RECIPIENTS, postfixAddress } from '../../src/chain/session-stats.js';
import { FULL_OFFER } from '../../src/mail/capabilities.js';
import { defineFilter } from '../../src/mail/define-filter.js';
import { humanLine, type Logger } from '../../src/mail/logger.js';
import { ACCEPT, CONTINUE, reject } from '../../src/mail/reply.js';
import { EVENT_STAGES } from '../../src/mail/stage.js';
import { Command } from '../../src/milter/constants.js';
import { context } from '../milter/helpers.js';

/** A logger whose JSON records are kept, as pino writes them. */
function recording(): { logger: Logger; records: Record<string, unknown>[]; raw: string[] } {
  const raw: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void raw.push(line) });
  return {
    logger,
    raw,
    get records() {
      return raw.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
  };
}

/**
 * A chain with one child that refuses <refused@example.org> at RCPT, a message from <spam@example.com>
 * at end of message and one from <nodata@example.com> at DATA, accepts one from <accepted@example.com> at
 * DATA, and continues otherwise.
 */
function chainWith(logger: Logger): Chain {
  const filter = defineFilter('one', { actions: [], stages: EVENT_STAGES }, () => {
    let sender = '';
    return {
      mail: (s) => ((sender = s), CONTINUE),
      rcpt: (r) => (r === '<refused@example.org>' ? reject(550, '5.1.1', 'no') : CONTINUE),
      data: () => (sender === '<nodata@example.com>' ? reject(550, '5.7.1', 'no data') : sender === '<accepted@example.com>' ? ACCEPT : CONTINUE),
      endOfMessage: () => ({ reply: sender === '<spam@example.com>' ? reject(550, '5.7.1', 'spam') : CONTINUE, changes: [] }),
    };
  });
  return new Chain([{ name: 'one', filter, fallbackStatus: 'accept', evaluationMode: false, conditions: [] }], {
    fallbackStatus: 'accept',
    logger,
  });
}

/** One message as Postfix sends it by default: `i` unknown at MAIL, known from DATA on. */
async function message(
  s: ReturnType<Chain['open']>,
  ctx: ReturnType<typeof context>,
  sender: string,
  rcpts: string[],
  queueId: string,
): Promise<void> {
  ctx.store.set(Command.MAIL, [['{mail_addr}', sender]]);
  await s.mail(sender, [], ctx);
  for (const r of rcpts) {
    ctx.store.set(Command.RCPT, [['{rcpt_addr}', r]]);
    await s.rcpt(r, [], ctx);
  }
  ctx.store.set(Command.DATA, [['i', queueId]]);
  await s.data(ctx);
  await s.header('Subject', ' hi', ctx);
  await s.endOfHeaders(ctx);
  await s.body(Buffer.from('x\r\n'), ctx);
  ctx.store.set(Command.BODYEOB, [['i', queueId]]);
  await s.endOfMessage(ctx);
}

/** A recorded chain (chainWith) and one negotiated session on it, connected from 192.0.2.1 unless told not to. */
async function openSession({ connect = true } = {}) {
  const rec = recording();
  const chain = chainWith(rec.logger);
  const s = chain.open();
  const ctx = context();
  await s.negotiate(FULL_OFFER);
  if (connect) await s.connect({ hostname: 'c.example.com', family: 'inet', address: '192.0.2.1', port: 1 }, ctx);
  return { rec, chain, s, ctx };
}

describe('the session statistics line', () => {
  it('carries the queue id (macro i), from=<...> and the accepted to=<...>, as Postfix logs them', async () => {
    const { rec, chain, s, ctx } = await openSession();
    await message(s, ctx, '<a@example.com>', ['<b@example.org>', '<refused@example.org>', 'c@example.org'], '4XyZ1Q2w3');
    await s.close();
    const sessions = rec.records.filter((r) => r['event'] === 'session');
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ level: 30, status: 'continue', client: '192.0.2.1' });
    expect(sessions[0]!['messages']).toEqual([
      { queueId: '4XyZ1Q2w3', from: '<a@example.com>', to: ['<b@example.org>', '<c@example.org>'], status: 'continue' },
    ]);
    expect(sessions[0]).not.toHaveProperty('moreMessages');
    await chain.dispose();
  });

  it('with several messages in one session: every one, with its queue id, envelope and status', async () => {
    const { rec, chain, s, ctx } = await openSession();
    await message(s, ctx, '<a@example.com>', ['<b@example.org>'], 'FIRST');
    await message(s, ctx, '<spam@example.com>', ['<b@example.org>'], 'SECOND');
    await message(s, ctx, '<>', ['<postmaster@example.org>'], 'THIRD');
    await s.close();
    const [session] = rec.records.filter((r) => r['event'] === 'session');
    expect(session!['messages']).toEqual([
      { queueId: 'FIRST', from: '<a@example.com>', to: ['<b@example.org>'], status: 'continue' },
      { queueId: 'SECOND', from: '<spam@example.com>', to: ['<b@example.org>'], status: 'reject' },
      { queueId: 'THIRD', from: '<>', to: ['<postmaster@example.org>'], status: 'continue' },
    ]);
    await chain.dispose();
  });

  it('a message accepted at DATA (no end of message follows) is logged as accepted, not aborted', async () => {
    const { rec, chain, s, ctx } = await openSession();
    ctx.store.set(Command.MAIL, [['{mail_addr}', '<accepted@example.com>']]);
    await s.mail('<accepted@example.com>', [], ctx);
    await s.rcpt('<b@example.org>', [], ctx);
    ctx.store.set(Command.DATA, [['i', 'ACCEPTED']]);
    expect((await s.data(ctx)).status).toBe('accept');
    await message(s, ctx, '<a@example.com>', ['<b@example.org>'], 'NEXT');
    await s.close();
    const [session] = rec.records.filter((r) => r['event'] === 'session');
    expect(session!['messages']).toEqual([
      { queueId: 'ACCEPTED', from: '<accepted@example.com>', to: ['<b@example.org>'], status: 'accept' },
      { queueId: 'NEXT', from: '<a@example.com>', to: ['<b@example.org>'], status: 'continue' },
    ]);
    await chain.dispose();
  });

  it('a later transaction refused at RCPT, at DATA or aborted does not wipe the delivered message', async () => {
    const { rec, chain, s, ctx } = await openSession();
    await message(s, ctx, '<a@example.com>', ['<b@example.org>'], 'DELIVERED');
    // Every recipient refused: Postfix never reaches DATA, and sends an abort.
    ctx.store.set(Command.MAIL, [['{mail_addr}', '<x@example.com>']]);
    await s.mail('<x@example.com>', [], ctx);
    await s.rcpt('<refused@example.org>', [], ctx);
    await s.abort();
    // Refused at DATA: a message, refused.
    ctx.store.set(Command.MAIL, [['{mail_addr}', '<nodata@example.com>']]);
    await s.mail('<nodata@example.com>', [], ctx);
    await s.rcpt('<b@example.org>', [], ctx);
    ctx.store.set(Command.DATA, [['i', 'NODATA']]);
    await s.data(ctx);
    await s.abort();
    // Aborted in the middle of the message (the client went away), then a MAIL with no RCPT.
    ctx.store.set(Command.MAIL, [['{mail_addr}', '<y@example.com>']]);
    await s.mail('<y@example.com>', [], ctx);
    await s.rcpt('<b@example.org>', [], ctx);
    ctx.store.set(Command.DATA, [['i', 'ABORTED']]);
    await s.data(ctx);
    await s.header('Subject', ' hi', ctx);
    await s.abort();
    ctx.store.set(Command.MAIL, [['{mail_addr}', '<z@example.com>']]);
    await s.mail('<z@example.com>', [], ctx);
    await s.close();
    const [session] = rec.records.filter((r) => r['event'] === 'session');
    expect(session!['messages']).toEqual([
      { queueId: 'DELIVERED', from: '<a@example.com>', to: ['<b@example.org>'], status: 'continue' },
      { queueId: 'NODATA', from: '<nodata@example.com>', to: ['<b@example.org>'], status: 'reject' },
      { queueId: 'ABORTED', from: '<y@example.com>', to: ['<b@example.org>'], status: 'aborted' },
    ]);
    await chain.dispose();
  });

  it('a message in flight when the MTA closes is listed as aborted', async () => {
    const { rec, chain, s, ctx } = await openSession({ connect: false });
    await s.mail('<a@example.com>', [], ctx);
    await s.rcpt('<b@example.org>', [], ctx);
    await s.data(ctx);
    await s.close();
    const [session] = rec.records.filter((r) => r['event'] === 'session');
    expect(session!['messages']).toEqual([{ from: '<a@example.com>', to: ['<b@example.org>'], status: 'aborted' }]);
    await chain.dispose();
  });

  it('stays one bounded line: the first messages and recipients listed, the rest counted', async () => {
    const { rec, chain, s, ctx } = await openSession({ connect: false });
    const many = Array.from({ length: MAX_LOGGED_RECIPIENTS + 3 }, (_, i) => `<r${i}@example.org>`);
    await message(s, ctx, '<a@example.com>', many, 'Q0');
    for (let i = 1; i < MAX_LOGGED_MESSAGES + 2; i++) await message(s, ctx, '<a@example.com>', ['<b@example.org>'], `Q${i}`);
    await s.close();
    const [session] = rec.records.filter((r) => r['event'] === 'session');
    const messages = session!['messages'] as { queueId: string; to: string[]; moreTo?: number }[];
    expect(messages.map((m) => m.queueId)).toEqual(Array.from({ length: MAX_LOGGED_MESSAGES }, (_, i) => `Q${i}`));
    expect(messages[0]!.to).toEqual(many.slice(0, MAX_LOGGED_RECIPIENTS));
    expect(messages[0]!.moreTo).toBe(3);
    expect(messages[1]).not.toHaveProperty('moreTo');
    expect(session!['moreMessages']).toBe(2);
    expect(rec.raw.filter((l) => l.includes('"event":"session"'))).toHaveLength(1);
    await chain.dispose();
  });

  it('a session without a message has no messages; nor has a transaction aborted before DATA', async () => {
    const rec = recording();
    const chain = chainWith(rec.logger);
    const idle = chain.open();
    const ctx = context();
    await idle.negotiate(FULL_OFFER);
    await idle.connect({ hostname: 'c.example.com', family: 'inet', address: '192.0.2.1', port: 1 }, ctx);
    await idle.close();
    const aborted = chain.open();
    await aborted.negotiate(FULL_OFFER);
    await aborted.mail('<a@example.com>', [], ctx);
    await aborted.abort();
    await aborted.close();
    const [first, second] = rec.records.filter((r) => r['event'] === 'session');
    expect(first).not.toHaveProperty('messages');
    expect(first).not.toHaveProperty('queueId');
    expect(second).not.toHaveProperty('messages');
    expect(second).not.toHaveProperty('from');
    await chain.dispose();
  });

  it('writes addresses as Postfix does', () => {
    expect(postfixAddress('<a@example.com>')).toBe('<a@example.com>');
    expect(postfixAddress('a@example.com')).toBe('<a@example.com>');
    expect(postfixAddress('<>')).toBe('<>');
    expect(postfixAddress('')).toBe('<>');
  });

  it('in the human format: an ISO date and time, the level name, the recipients comma-separated', async () => {
    const { rec, chain, s, ctx } = await openSession();
    await message(s, ctx, '<spam@example.com>', ['<b@example.org>'], 'QID1');
    await message(s, ctx, '<a@example.com>', ['<b@example.org>', '<c@example.org>'], 'QID2');
    await s.close();
    const line = humanLine(rec.raw.find((l) => l.includes('"event":"session"'))!);
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO session finished /);
    expect(line).toContain(
      ' messages=[queueId=QID1 from=<spam@example.com> to=<b@example.org> status=reject;' +
        ' queueId=QID2 from=<a@example.com> to=<b@example.org>,<c@example.org> status=continue]',
    );
    expect(line).toContain(' children={"one":"continue"}');
    expect(line.endsWith('\n')).toBe(true);
    expect(line.split('\n')).toHaveLength(2);
    await chain.dispose();
  });

  it('asks the MTA for the i macro where children replace its default lists', () => {
    const child = (macros: Record<string, string[]>) => ({
      ...FULL_OFFER,
      actions: new Set([...FULL_OFFER.actions]),
      macros,
    });
    const merged = mergeCapabilities(FULL_OFFER, [child({ endOfMessage: ['{auth_authen}'], connect: ['j'] })], new Set());
    expect(merged.macros.endOfMessage).toEqual(['{auth_authen}', 'i']);
    expect(merged.macros.connect).toEqual(['j']);
    // A stage left to the MTA's defaults stays so (Postfix sends i there by default).
    expect(merged.macros.data).toBeUndefined();
  });
});
