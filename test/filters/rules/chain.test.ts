/** The rules filter as a `builtin = "rules"` child of the chain built from mailgate.toml. */
import { afterEach, describe, expect, it } from 'vitest';
import type { Chain } from '../../../src/chain/chain.js';
import { chainFromConfig } from '../../../src/chain/from-config.js';
import { parseConfig } from '../../../src/config/load.js';
import { FULL_OFFER } from '../../../src/mail/capabilities.js';
import { silentLogger } from '../../../src/mail/logger.js';
import { CONTINUE, reject, type Reply } from '../../../src/mail/reply.js';
import { context } from '../../milter/helpers.js';

const TOML = `
[[milter]]
name = "rules"
builtin = "rules"
score_threshold = 5
score_action = "add_header"

[[milter.rule]]
field = "recipient"
pattern = '^abuse@'
action = "reject"
reply = "550 5.1.1 no such user"

[[milter.rule]]
field = "header"
header = "Subject"
pattern = '/\\bviagra\\b/i'
action = "reject"
reply = "550 5.7.1 No thanks"

[[milter.rule]]
field = "header"
header = "From"
pattern = '@(?<domain>[\\w.-]+)>?$'
action = "add_header"
header_name = "X-Rule"
header_value = "matched $<domain>"

[[milter.rule]]
field = "body"
pattern = '/lottery/i'
action = "score"
score = 2.5

[[milter.rule]]
field = "body"
pattern = '/winner/i'
action = "score"
score = 2.5
`;

const chains: Chain[] = [];
afterEach(() => {
  for (const c of chains.splice(0)) c.dispose();
});

async function deliver(opts: { rcpts: string[]; subject: string; body: string }) {
  const chain = chainFromConfig(parseConfig(TOML, 'mailgate.toml').config, silentLogger);
  chains.push(chain);
  const s = chain.open();
  const ctx = context();
  await s.negotiate(FULL_OFFER);
  const replies: Record<string, Reply> = {};
  replies.connect = await s.connect({ hostname: 'client.example.com', family: 'inet', address: '192.0.2.1', port: 1 }, ctx);
  replies.helo = await s.helo('client.example.com', ctx);
  replies.mail = await s.mail('<a@example.com>', [], ctx);
  for (const [i, r] of opts.rcpts.entries()) replies[`rcpt${i}`] = await s.rcpt(r, [], ctx);
  replies.data = await s.data(ctx);
  for (const [n, v] of [['From', ' Alice <alice@sender.example>'], ['Subject', ` ${opts.subject}`]] as const) await s.header(n, v, ctx);
  replies.endOfHeaders = await s.endOfHeaders(ctx);
  await s.body(Buffer.from(opts.body), ctx);
  const eom = await s.endOfMessage(ctx);
  await s.close();
  return { replies, eom };
}

describe('rules through the chain', () => {
  it('rejects one recipient, adds the header with the named group, and marks the score (each rule counts once)', async () => {
    const { replies, eom } = await deliver({ rcpts: ['<abuse@example.org>', '<bob@example.org>'], subject: 'hi', body: 'You are a WINNER of our lottery, lottery, lottery\r\n' });
    expect(replies.rcpt0).toEqual({ status: 'reject', code: 550, enhancedCode: '5.1.1', text: 'no such user' });
    expect(replies.rcpt1).toEqual(CONTINUE);
    expect(eom.reply).toEqual(CONTINUE);
    expect(eom.changes).toEqual([
      { kind: 'addHeader', name: 'X-Rule', value: ' matched sender.example' },
      { kind: 'addHeader', name: 'X-Rules-Score', value: ' yes, score=5 threshold=5' },
    ]);
  });

  it('a Subject rule rejects the message', async () => {
    const { eom } = await deliver({ rcpts: ['<bob@example.org>'], subject: 'cheap Viagra', body: 'x\r\n' });
    expect(eom.reply).toEqual(reject(550, '5.7.1', 'No thanks'));
  });
});
