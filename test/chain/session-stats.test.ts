import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Chain } from '../../src/chain/chain.js';
import { mergeCapabilities } from '../../src/chain/negotiation.js';
import { postfixAddress } from '../../src/chain/session-stats.js';
import { FULL_OFFER } from '../../src/mail/capabilities.js';
import { defineFilter } from '../../src/mail/define-filter.js';
import { humanLine, type Logger } from '../../src/mail/logger.js';
import { CONTINUE, reject } from '../../src/mail/reply.js';
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

/** A chain with one child that refuses <refused@example.org> and continues otherwise. */
function chainWith(logger: Logger): Chain {
  const filter = defineFilter('one', { actions: [], stages: EVENT_STAGES }, () => ({
    rcpt: (r) => (r === '<refused@example.org>' ? reject(550, '5.1.1', 'no') : CONTINUE),
  }));
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

describe('the session statistics line', () => {
  it('carries the queue id (macro i), from=<...> and the accepted to=<...>, as Postfix logs them', async () => {
    const rec = recording();
    const chain = chainWith(rec.logger);
    const s = chain.open();
    const ctx = context();
    await s.negotiate(FULL_OFFER);
    await s.connect({ hostname: 'c.example.com', family: 'inet', address: '192.0.2.1', port: 1 }, ctx);
    await message(s, ctx, '<a@example.com>', ['<b@example.org>', '<refused@example.org>', 'c@example.org'], '4XyZ1Q2w3');
    await s.close();
    const sessions = rec.records.filter((r) => r['event'] === 'session');
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({
      level: 30,
      status: 'continue',
      client: '192.0.2.1',
      queueId: '4XyZ1Q2w3',
      from: '<a@example.com>',
      to: ['<b@example.org>', '<c@example.org>'],
    });
    expect(sessions[0]).not.toHaveProperty('messages');
    await chain.dispose();
  });

  it('with several messages in one session: the last message, and how many there were', async () => {
    const rec = recording();
    const chain = chainWith(rec.logger);
    const s = chain.open();
    const ctx = context();
    await s.negotiate(FULL_OFFER);
    await s.connect({ hostname: 'c.example.com', family: 'inet', address: '192.0.2.1', port: 1 }, ctx);
    await message(s, ctx, '<a@example.com>', ['<b@example.org>'], 'FIRST');
    await message(s, ctx, '<>', ['<postmaster@example.org>'], 'SECOND');
    await s.close();
    const [session] = rec.records.filter((r) => r['event'] === 'session');
    expect(session).toMatchObject({ queueId: 'SECOND', from: '<>', to: ['<postmaster@example.org>'], messages: 2 });
    await chain.dispose();
  });

  it('a session without a message has no envelope fields; one whose queue id never came has none', async () => {
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
    expect(first).not.toHaveProperty('from');
    expect(first).not.toHaveProperty('queueId');
    expect(second).toMatchObject({ from: '<a@example.com>', to: [] });
    expect(second).not.toHaveProperty('queueId');
    await chain.dispose();
  });

  it('writes addresses as Postfix does', () => {
    expect(postfixAddress('<a@example.com>')).toBe('<a@example.com>');
    expect(postfixAddress('a@example.com')).toBe('<a@example.com>');
    expect(postfixAddress('<>')).toBe('<>');
    expect(postfixAddress('')).toBe('<>');
  });

  it('in the human format: an ISO date and time, the level name, the recipients comma-separated', async () => {
    const rec = recording();
    const chain = chainWith(rec.logger);
    const s = chain.open();
    const ctx = context();
    await s.negotiate(FULL_OFFER);
    await s.connect({ hostname: 'c.example.com', family: 'inet', address: '192.0.2.1', port: 1 }, ctx);
    await message(s, ctx, '<a@example.com>', ['<b@example.org>', '<c@example.org>'], 'QID1');
    await s.close();
    const line = humanLine(rec.raw.find((l) => l.includes('"event":"session"'))!);
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO session finished /);
    expect(line).toContain(' queueId=QID1 from=<a@example.com> to=<b@example.org>,<c@example.org>');
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
