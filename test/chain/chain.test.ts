import { afterEach, describe, expect, it } from 'vitest';
import { APPLY, STOP, type Condition } from '../../src/chain/condition.js';
import { Chain, type ChildDefinition } from '../../src/chain/chain.js';
import { FULL_OFFER } from '../../src/mail/capabilities.js';
import type { Change } from '../../src/mail/changes.js';
import { defineFilter, type StageHandlers } from '../../src/mail/define-filter.js';
import type { Action, Filter } from '../../src/mail/filter.js';
import { silentLogger } from '../../src/mail/logger.js';
import { ACCEPT, CONTINUE, reject, type Reply } from '../../src/mail/reply.js';
import { EVENT_STAGES, type EventStage } from '../../src/mail/stage.js';
import { MilterClient } from '../../src/milter/client.js';
import { Command } from '../../src/milter/constants.js';
import { MilterServer } from '../../src/milter/server.js';
import { context } from '../milter/helpers.js';
import { hangGuard } from '../hang-guard.js';

const ALL: Action[] = ['addHeader', 'changeHeader', 'changeBody', 'addRecipient', 'deleteRecipient', 'changeSender', 'quarantine'];
const servers: MilterServer[] = [];
const chains: Chain[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const c of chains.splice(0)) c.dispose();
});

function child(name: string, handlers: () => StageHandlers, extra: Partial<ChildDefinition> = {}, stages?: EventStage[]): ChildDefinition {
  return {
    name,
    filter: defineFilter(name, { actions: ALL, stages: stages ?? EVENT_STAGES }, handlers),
    fallbackStatus: 'accept',
    evaluationMode: false,
    conditions: [],
    ...extra,
  };
}

function chainOf(children: ChildDefinition[], fallbackStatus: 'accept' | 'tempfail' = 'accept'): Chain {
  const c = new Chain(children, { fallbackStatus, logger: silentLogger, reprobeSeconds: 0.1 });
  chains.push(c);
  return c;
}

/** Runs a whole session through a chain as the MTA side would, returning every reply. */
async function session(chain: Chain, opts: { sender?: string; rcpts?: string[]; headers?: [string, string][]; body?: string } = {}) {
  const s = chain.open();
  const ctx = context();
  const caps = await s.negotiate(FULL_OFFER);
  const replies: Record<string, Reply> = {};
  ctx.store.set(Command.CONNECT, [['j', 'mx']]);
  replies.connect = await s.connect({ hostname: 'client.example.com', family: 'inet', address: '192.0.2.1', port: 1 }, ctx);
  replies.helo = await s.helo('client.example.com', ctx);
  replies.mail = await s.mail(opts.sender ?? '<a@example.com>', [], ctx);
  const rcpts = opts.rcpts ?? ['<b@example.org>'];
  for (const [i, r] of rcpts.entries()) replies[`rcpt${i}`] = await s.rcpt(r, [], ctx);
  replies.data = await s.data(ctx);
  for (const [n, v] of opts.headers ?? [['Subject', ' hello']]) await s.header(n, v, ctx);
  await s.endOfHeaders(ctx);
  await s.body(Buffer.from(opts.body ?? 'body\r\n'), ctx);
  const eom = await s.endOfMessage(ctx);
  await s.close();
  return { caps, replies, eom };
}

describe('Chain', () => {
  it('runs message stages child after child; later children see earlier changes; the MTA gets the net result', async () => {
    const seenBySecond: string[] = [];
    const chain = chainOf([
      child('first', () => ({
        endOfMessage: () => ({
          reply: CONTINUE,
          changes: [
            { kind: 'addHeader', name: 'X-First', value: '1' },
            { kind: 'replaceBody', body: Buffer.from('replaced\r\n') },
          ],
        }),
      })),
      child('second', () => {
        let body = '';
        return {
          header: (n, v) => (seenBySecond.push(`${n}:${v}`), CONTINUE),
          body: (c) => ((body += c.toString()), CONTINUE),
          endOfMessage: () => ({
            reply: CONTINUE,
            changes: [
              { kind: 'addHeader', name: 'X-Second', value: body.trim() },
              { kind: 'changeHeader', name: 'Subject', index: 1, value: 'changed' },
              { kind: 'addRecipient', recipient: '<c@example.org>' },
            ],
          }),
        };
      }),
    ]);
    const { eom, caps } = await session(chain);
    expect(caps.actions.has('addHeader')).toBe(true);
    expect(seenBySecond).toEqual(['Subject:hello', 'X-First:1']);
    expect(eom.reply).toEqual(CONTINUE);
    expect(eom.changes).toEqual<Change[]>([
      { kind: 'changeHeader', name: 'Subject', index: 1, value: ' changed' },
      { kind: 'addHeader', name: 'X-First', value: ' 1' },
      { kind: 'addHeader', name: 'X-Second', value: ' replaced' },
      { kind: 'replaceBody', body: Buffer.from('replaced\r\n') },
      { kind: 'addRecipient', recipient: '<c@example.org>' },
    ]);
  });

  it('merges envelope replies: the strongest status wins, a RCPT reject covers that recipient only', async () => {
    const chain = chainOf([
      child('a', () => ({ rcpt: (r) => (r === '<bad@example.org>' ? reject(550, '5.1.1', 'unknown') : CONTINUE) })),
      child('b', () => ({ rcpt: () => ACCEPT })),
    ]);
    const { replies, eom } = await session(chain, { rcpts: ['<bad@example.org>', '<good@example.org>'] });
    expect(replies.rcpt0).toEqual({ status: 'reject', code: 550, enhancedCode: '5.1.1', text: 'unknown' });
    expect(replies.rcpt1).toEqual(CONTINUE);
    expect(eom.reply).toEqual(CONTINUE);
  });

  it('a refusal at end of message ends the message with that child’s reply', async () => {
    let thirdRan = false;
    const chain = chainOf([
      child('spam', () => ({ endOfMessage: () => ({ reply: reject(550, '5.7.1', 'Blocked by SpamAssassin'), changes: [] }) })),
      child('later', () => ({ endOfMessage: () => ((thirdRan = true), { reply: CONTINUE, changes: [] }) })),
    ]);
    const { eom } = await session(chain);
    expect(eom.reply).toEqual({ status: 'reject', code: 550, enhancedCode: '5.7.1', text: 'Blocked by SpamAssassin' });
    expect(thirdRan).toBe(false);
  });

  it('evaluation mode: a refusal counts as accept and changes are not applied', async () => {
    const chain = chainOf([
      child('eval', () => ({
        endOfMessage: () => ({ reply: reject(), changes: [{ kind: 'addHeader', name: 'X-Eval', value: 'x' }] }),
      }), { evaluationMode: true }),
      child('real', () => ({ endOfMessage: () => ({ reply: CONTINUE, changes: [{ kind: 'addHeader', name: 'X-Real', value: 'y' }] }) })),
    ]);
    const { eom } = await session(chain);
    expect(eom.reply).toEqual(CONTINUE);
    expect(eom.changes).toEqual([{ kind: 'addHeader', name: 'X-Real', value: ' y' }]);
  });

  it('a condition that stops a child at connect keeps it out of the session', async () => {
    const stopAll: Condition = { name: 'never', description: '', stages: new Set(['connect']), check: () => STOP };
    const trust: Condition = {
      name: 'trust',
      description: '',
      stages: new Set(['mail']),
      check: () => ({ stop: false, macros: { '{trusted_domain}': 'yes' } }),
    };
    let stoppedSaw = false;
    let trusted: string | undefined;
    const chain = chainOf([
      child('stopped', () => ({ endOfMessage: () => ((stoppedSaw = true), { reply: CONTINUE, changes: [] }) }), { conditions: [stopAll] }),
      child('trusting', () => ({ mail: (_s, _a, ctx) => ((trusted = ctx.macros.get('trusted_domain')), CONTINUE) }), {
        conditions: [trust, { ...stopAll, check: () => APPLY }],
      }),
    ]);
    await session(chain);
    expect(stoppedSaw).toBe(false);
    expect(trusted).toBe('yes');
  });

  it('header inserts count the MTA’s hidden Received, as Postfix does: later children and the MTA get Postfix’s order', async () => {
    let seenByB: string[] = [];
    const ins = (index: number, name: string): Change => ({ kind: 'insertHeader', index, name, value: name });
    const chain = chainOf([
      child('A', () => ({ endOfMessage: () => ({ reply: CONTINUE, changes: [ins(1, 'X-Ins1')] }) })),
      child('B', () => ({
        header: (n) => (seenByB.push(n), CONTINUE),
        endOfMessage: () => ({ reply: CONTINUE, changes: [ins(0, 'X-Ins0'), ins(2, 'X-Ins2')] }),
      })),
    ]);
    seenByB = [];
    const { eom } = await session(chain, { headers: [['Date', ' d'], ['From', ' f']] });
    // Postfix put A's insert at 1 just below its own Received, above Date.
    expect(seenByB).toEqual(['X-Ins1', 'Date', 'From']);
    // Final order as Postfix writes it: X-Ins0, Received, X-Ins2, X-Ins1, Date, From.
    expect(eom.changes).toEqual([
      { kind: 'insertHeader', index: 0, name: 'X-Ins0', value: ' X-Ins0' },
      { kind: 'insertHeader', index: 2, name: 'X-Ins2', value: ' X-Ins2' },
      { kind: 'insertHeader', index: 3, name: 'X-Ins1', value: ' X-Ins1' },
    ]);
  });

  it('conditions get the null sender as it came: "" (Postfix’s non_smtpd_milters form) and "<>"', async () => {
    const seen: (string | undefined)[] = [];
    const record: Condition = { name: 'record', description: '', stages: new Set(['mail', 'rcpt']), check: (_stage, c) => (seen.push(c.sender), APPLY) };
    const chain = chainOf([child('any', () => ({}), { conditions: [record] })]);
    await session(chain, { sender: '' });
    await session(chain, { sender: '<>' });
    expect(seen).toEqual(['', '', '<>', '<>']);
  });

  it('a child that left the envelope stages out does not make the chain accept early', async () => {
    const chain = chainOf([
      child('eom-only', () => ({ endOfMessage: () => ({ reply: CONTINUE, changes: [{ kind: 'addHeader', name: 'X-Eom', value: '1' }] }) }), {}, ['endOfMessage']),
    ]);
    const { replies, eom } = await session(chain);
    expect(replies.connect).toEqual(CONTINUE);
    expect(replies.mail).toEqual(CONTINUE);
    expect(eom.changes).toEqual([{ kind: 'addHeader', name: 'X-Eom', value: ' 1' }]);
  });

  it('asks the MTA only for end of message when every child reads nothing else and edits nothing', async () => {
    const passThrough = (name: string): ChildDefinition => ({
      name,
      filter: defineFilter(name, {}, () => ({})),
      fallbackStatus: 'accept',
      evaluationMode: false,
      conditions: [],
    });
    const caps = await chainOf([passThrough('a'), passThrough('b')]).open().negotiate(FULL_OFFER);
    expect([...caps.stages]).toEqual(['endOfMessage']);
    // One child that edits headers needs the message buffered for the others' sake.
    const edit = child('edit', () => ({}), {}, ['endOfMessage']);
    const withEdit = await chainOf([passThrough('a'), edit]).open().negotiate(FULL_OFFER);
    expect([...withEdit.stages].sort()).toEqual(['body', 'endOfHeaders', 'endOfMessage', 'header']);
  });

  it('a child that cannot be reached gives its fallback, is marked down and skipped until it answers', async () => {
    const down: ChildDefinition = {
      name: 'down',
      filter: new MilterClient({ spec: 'inet:1@127.0.0.1', timeouts: { connection: 1 } }),
      fallbackStatus: 'tempfail',
      evaluationMode: false,
      conditions: [],
    };
    const chain = chainOf([down, child('ok', () => ({}))]);
    const first = await session(chain);
    expect(first.replies.connect?.status).toBe('tempfail');
    expect(chain.isDown('down')).toBe(true);
    const second = await session(chain);
    expect(second.replies.connect?.status).toBe('tempfail');
  });

  it('a child that hangs gives its fallback within its reading timeout while the others work', async () => {
    const hang: Filter = defineFilter('hang', { stages: EVENT_STAGES }, () => ({ helo: () => new Promise<Reply>(() => undefined) }));
    const server = new MilterServer(hang, { logger: silentLogger, drainTimeout: 0 });
    servers.push(server);
    const spec = await server.listen('inet:0@127.0.0.1');
    const chain = chainOf([
      { name: 'hang', filter: new MilterClient({ spec, timeouts: { reading: 0.3 } }), fallbackStatus: 'accept', evaluationMode: false, conditions: [] },
      child('ok', () => ({ endOfMessage: () => ({ reply: CONTINUE, changes: [{ kind: 'addHeader', name: 'X-Ok', value: '1' }] }) })),
    ]);
    const noHang = hangGuard(300);
    const { replies, eom } = await session(chain);
    noHang();
    expect(replies.helo).toEqual(CONTINUE);
    expect(eom.changes).toEqual([{ kind: 'addHeader', name: 'X-Ok', value: ' 1' }]);
  });

  it('answers the manager fallback when no child is alive', async () => {
    const dead: ChildDefinition = {
      name: 'dead',
      filter: new MilterClient({ spec: 'inet:1@127.0.0.1' }),
      fallbackStatus: 'accept',
      evaluationMode: false,
      conditions: [],
    };
    const chain = chainOf([dead], 'tempfail');
    const { replies } = await session(chain);
    expect(replies.connect?.status).toBe('tempfail');
  });

  it('serves Postfix-style MTAs through MilterServer with remote and in-process children', async () => {
    const remote = defineFilter('remote', { actions: ['addHeader'], stages: EVENT_STAGES }, () => ({
      endOfMessage: () => ({ reply: CONTINUE, changes: [{ kind: 'insertHeader', index: 0, name: 'X-Remote', value: 'r' }] }),
    }));
    const rs = new MilterServer(remote, { logger: silentLogger, drainTimeout: 0 });
    servers.push(rs);
    const rspec = await rs.listen('inet:0@127.0.0.1');
    const chain = chainOf([
      { name: 'remote', filter: new MilterClient({ spec: rspec }), fallbackStatus: 'accept', evaluationMode: false, conditions: [] },
      child('local', () => ({ endOfMessage: () => ({ reply: CONTINUE, changes: [{ kind: 'deleteHeader', name: 'Subject', index: 1 }] }) })),
    ]);
    const front = new MilterServer(chain, { logger: silentLogger, drainTimeout: 0 });
    servers.push(front);
    const fspec = await front.listen('inet:0@127.0.0.1');
    const mta = new MilterClient({ spec: fspec }).open();
    const ctx = context();
    await mta.negotiate(FULL_OFFER);
    await mta.connect({ hostname: 'h', family: 'inet', address: '192.0.2.9', port: 2 }, ctx);
    await mta.mail('<a@b>', [], ctx);
    await mta.rcpt('<c@d>', [], ctx);
    await mta.data(ctx);
    await mta.header('Subject', ' s', ctx);
    await mta.header('To', ' c@d', ctx);
    await mta.endOfHeaders(ctx);
    await mta.body(Buffer.from('x\r\n'), ctx);
    const eom = await mta.endOfMessage(ctx);
    mta.close();
    expect(eom.reply).toEqual(CONTINUE);
    expect(eom.changes).toEqual([
      { kind: 'deleteHeader', name: 'Subject', index: 1 },
      // The MTA negotiated HDR_LEADSPC with the chain: values carry their leading space.
      { kind: 'insertHeader', index: 0, name: 'X-Remote', value: ' r' },
    ]);
  });
});
