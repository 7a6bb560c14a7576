/**
 * The message stages as they overlap (ChainSession.runMessage): streamed to the children up to the
 * first that may edit the message while the MTA sends it, side by side for children that cannot
 * change what later ones see, and still in chain order for verdicts, changes and end of message.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Chain, type ChildDefinition } from '../../src/chain/chain.js';
import type { ChainSession } from '../../src/chain/chain-session.js';
import type { Condition } from '../../src/chain/condition.js';
import { withStageTimeouts } from '../../src/chain/stage-timeouts.js';
import type { Change } from '../../src/mail/changes.js';
import { defineFilter } from '../../src/mail/define-filter.js';
import type { Action } from '../../src/mail/filter.js';
import type { Logger } from '../../src/mail/logger.js';
import { CONTINUE, reject, tempfail, type Reply } from '../../src/mail/reply.js';
import { EVENT_STAGES } from '../../src/mail/stage.js';
import { MilterClient } from '../../src/milter/client.js';
import { Command } from '../../src/milter/constants.js';
import { PacketDecoder } from '../../src/milter/packet.js';
import { encodeResponse } from '../../src/milter/responses.js';
import { MilterServer } from '../../src/milter/server.js';
import { context, spillDescriptors, tempDir } from '../milter/helpers.js';
import { hangGuard } from '../hang-guard.js';
import { throughEnvelope } from './envelope.js';

const later = <T>(value: T, ms: number) => new Promise<T>((r) => setTimeout(() => r(value), ms));

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const warnings: string[] = [];
const logger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (_o: unknown, msg?: string) => void warnings.push(msg ?? ''),
  error: () => undefined,
  child: () => logger,
} as never;

interface KidOptions {
  actions?: Action[];
  /** Its end-of-message answer (default continue, no change). */
  eom?: () => Reply | Promise<Reply> | { reply: Reply; changes: Change[] };
  /** Its answer to a header (default continue). */
  header?: (name: string) => Reply | Promise<Reply>;
  /** Milliseconds each header and body chunk takes. */
  delay?: number;
  fallbackStatus?: ChildDefinition['fallbackStatus'];
  evaluationMode?: boolean;
  conditions?: Condition[];
}

/** An in-process child asking for every stage that writes what it is sent to `log`. */
function kid(log: string[], name: string, o: KidOptions = {}): ChildDefinition {
  const answer = <T>(v: T): T | Promise<T> => (o.delay ? later(v, o.delay) : v);
  return {
    name,
    filter: defineFilter(name, { actions: o.actions ?? [], stages: EVENT_STAGES }, () => ({
      header: (n, v) => (log.push(`${name}:header:${n}:${v.trim()}`), o.header ? o.header(n) : answer(CONTINUE)),
      endOfHeaders: () => (log.push(`${name}:eoh`), CONTINUE),
      body: (c) => (log.push(`${name}:body:${c.length}`), answer(CONTINUE)),
      endOfMessage: async () => {
        log.push(`${name}:eom`);
        const r = await (o.eom?.() ?? CONTINUE);
        return 'reply' in r ? r : { reply: r, changes: [] };
      },
      abort: () => void log.push(`${name}:abort`),
    })),
    fallbackStatus: o.fallbackStatus ?? 'accept',
    evaluationMode: o.evaluationMode ?? false,
    conditions: o.conditions ?? [],
  };
}

function chainOf(children: ChildDefinition[], bodyMemoryLimit?: number): Chain {
  warnings.length = 0;
  const c = new Chain(children, { fallbackStatus: 'accept', logger, ...(bodyMemoryLimit !== undefined ? { bodyMemoryLimit } : {}) });
  cleanups.push(() => c.dispose());
  return c;
}

/** A session up to DATA, so that the test sends the message itself. */
async function toData(chain: Chain): Promise<{ s: ChainSession; ctx: ReturnType<typeof context> }> {
  const s = chain.open();
  cleanups.push(() => s.close());
  const ctx = context();
  await throughEnvelope(s, ctx);
  return { s, ctx };
}

/** Sends headers, end of headers and body as the MTA does, without end of message. */
async function sendMessage(s: ChainSession, ctx: ReturnType<typeof context>, headers: [string, string][], body = 'body\r\n'): Promise<Reply[]> {
  const replies: Reply[] = [];
  for (const [n, v] of headers) replies.push(s.header(n, v, ctx));
  replies.push(s.endOfHeaders(ctx));
  replies.push(await s.body(Buffer.from(body), ctx));
  return replies;
}

/** Lets the streamed steps queued so far run. */
const settle = () => later(undefined, 30);

const of = (log: string[], name: string) => log.filter((l) => l.startsWith(`${name}:`));

describe('streaming the message to the leading children', () => {
  it('every child up to the first editor gets the message as the MTA sends it; those after it wait for its changes', async () => {
    const log: string[] = [];
    const chain = chainOf([
      kid(log, 'reader'),
      kid(log, 'editor', { actions: ['addHeader'], eom: () => ({ reply: CONTINUE, changes: [{ kind: 'addHeader', name: 'X-Edited', value: 'yes' }] }) }),
      kid(log, 'after'),
    ]);
    const { s, ctx } = await toData(chain);
    const replies = await sendMessage(s, ctx, [['Subject', ' hi'], ['From', ' a@example.com']]);
    await settle();
    expect(replies.every((r) => r.status === 'continue')).toBe(true);
    // Before end of message: the reader and the editor have the whole message, the child after the editor nothing.
    expect(of(log, 'reader')).toEqual(['reader:header:Subject:hi', 'reader:header:From:a@example.com', 'reader:eoh', 'reader:body:6']);
    expect(of(log, 'editor')).toEqual(['editor:header:Subject:hi', 'editor:header:From:a@example.com', 'editor:eoh', 'editor:body:6']);
    expect(of(log, 'after')).toEqual([]);
    const eom = await s.endOfMessage(ctx);
    expect(eom.reply).toEqual(CONTINUE);
    expect(eom.changes).toEqual([{ kind: 'addHeader', name: 'X-Edited', value: ' yes' }]);
    // The child after the editor sees its change, and only after the editor's end of message.
    expect(of(log, 'after')).toEqual([
      'after:header:Subject:hi',
      'after:header:From:a@example.com',
      'after:header:X-Edited:yes',
      'after:eoh',
      'after:body:6',
      'after:eom',
    ]);
    expect(log.indexOf('reader:eom')).toBeLessThan(log.indexOf('editor:eom'));
    expect(log.indexOf('editor:eom')).toBeLessThan(log.indexOf('after:header:Subject:hi'));
  });

  it('an earlier child refusing at end of message: a later read-only child already streamed the message gets ABORT, never end of message', async () => {
    const log: string[] = [];
    const chain = chainOf([kid(log, 'spam', { eom: () => reject(550, '5.7.1', 'spam') }), kid(log, 'later')]);
    const { s, ctx } = await toData(chain);
    await sendMessage(s, ctx, [['Subject', ' buy']]);
    await settle();
    expect(of(log, 'later')).toEqual(['later:header:Subject:buy', 'later:eoh', 'later:body:6']);
    const eom = await s.endOfMessage(ctx);
    expect(eom.reply).toEqual({ status: 'reject', code: 550, enhancedCode: '5.7.1', text: 'spam' });
    expect(of(log, 'later')).toEqual(['later:header:Subject:buy', 'later:eoh', 'later:body:6', 'later:abort']);
    expect(of(log, 'spam')).toEqual(['spam:header:Subject:buy', 'spam:eoh', 'spam:body:6', 'spam:eom']);
  });

  it('a later child refusing during the stream waits its turn: an earlier child’s verdict at end of message comes first', async () => {
    const run = async (firstEom: Reply) => {
      const log: string[] = [];
      const chain = chainOf([
        kid(log, 'first', { eom: () => firstEom }),
        kid(log, 'second', { header: (n) => (n === 'X-Bad' ? reject(554, '5.7.0', 'bad header') : CONTINUE) }),
      ]);
      const { s, ctx } = await toData(chain);
      const replies = await sendMessage(s, ctx, [['X-Bad', ' 1'], ['Subject', ' s']]);
      await settle();
      // The MTA is not told before end of message: the first child has not given its verdict yet.
      expect(replies.every((r) => r.status === 'continue')).toBe(true);
      // The second child's part ended with its refusal: nothing more was sent to it.
      expect(of(log, 'second')).toEqual(['second:header:X-Bad:1']);
      return { eom: await s.endOfMessage(ctx), log };
    };
    const earlier = await run(tempfail(451, '4.7.1', 'try later'));
    expect(earlier.eom.reply).toEqual({ status: 'tempfail', code: 451, enhancedCode: '4.7.1', text: 'try later' });
    const passed = await run(CONTINUE);
    expect(passed.eom.reply).toEqual({ status: 'reject', code: 554, enhancedCode: '5.7.0', text: 'bad header' });
    expect(of(passed.log, 'first')).toContain('first:eom');
    expect(of(passed.log, 'second')).not.toContain('second:eom');
  });

  it('an editor refusing during the stream: the children after it never see the message', async () => {
    const log: string[] = [];
    const chain = chainOf([
      kid(log, 'reader'),
      kid(log, 'editor', { actions: ['changeBody'], header: () => reject(550, '5.7.1', 'no') }),
      kid(log, 'after'),
    ]);
    const { s, ctx } = await toData(chain);
    await sendMessage(s, ctx, [['Subject', ' x']]);
    const eom = await s.endOfMessage(ctx);
    expect(eom.reply).toEqual({ status: 'reject', code: 550, enhancedCode: '5.7.1', text: 'no' });
    expect(of(log, 'reader')).toContain('reader:eom');
    expect(of(log, 'after')).toEqual(['after:abort']);
  });

  it('the MTA aborting mid-stream: the command in flight is answered before ABORT, queued ones are dropped; the next message streams again', async () => {
    const seen: string[] = [];
    const slow = defineFilter('slow', { actions: ['addHeader'], stages: EVENT_STAGES }, () => ({
      header: async (n) => {
        seen.push(`header:${n}`);
        await later(undefined, 20);
        return CONTINUE;
      },
      body: () => (seen.push('body'), CONTINUE),
      endOfMessage: () => (seen.push('eom'), { reply: CONTINUE, changes: [{ kind: 'addHeader', name: 'X-Slow', value: '1' }] }),
      abort: () => void seen.push('abort'),
    }));
    const rs = new MilterServer(slow, { logger, drainTimeout: 0 });
    cleanups.push(() => rs.close());
    const spec = await rs.listen('inet:0@127.0.0.1');
    const chain = chainOf([{ name: 'slow', filter: new MilterClient({ spec }), fallbackStatus: 'tempfail', evaluationMode: false, conditions: [] }]);
    const { s, ctx } = await toData(chain);
    expect(s.header('Subject', ' one', ctx)).toEqual(CONTINUE);
    expect(s.header('To', ' c@d', ctx)).toEqual(CONTINUE);
    await later(undefined, 10);
    expect(seen).toEqual(['header:Subject']); // streamed before end of message; the second still queued
    await s.abort();
    await s.mail('<a@b>', [], ctx);
    await s.rcpt('<c@d>', [], ctx);
    await s.data(ctx);
    await sendMessage(s, ctx, [['Subject', ' two']], 'x\r\n');
    const eom = await s.endOfMessage(ctx);
    expect(eom.reply).toEqual(CONTINUE);
    expect(eom.changes).toEqual([{ kind: 'addHeader', name: 'X-Slow', value: ' 1' }]);
    expect(seen).toEqual(['header:Subject', 'abort', 'header:Subject', 'body', 'eom']);
    expect(warnings).toEqual([]);
  });

  it('a new MAIL without an abort waits for the streamed command in flight; what was queued is dropped', async () => {
    const seen: string[] = [];
    const slow: ChildDefinition = {
      name: 'slow',
      filter: defineFilter('slow', { stages: EVENT_STAGES }, () => ({
        mail: (sender) => (seen.push(`mail:${sender}`), CONTINUE),
        header: async (n) => (seen.push(`header:${n}:start`), await later(undefined, 20), seen.push(`header:${n}:end`), CONTINUE),
      })),
      fallbackStatus: 'accept',
      evaluationMode: false,
      conditions: [],
    };
    const { s, ctx } = await toData(chainOf([slow]));
    s.header('Subject', ' one', ctx);
    s.header('To', ' c@d', ctx);
    await later(undefined, 5);
    expect(await s.mail('<second@example.com>', [], ctx)).toEqual(CONTINUE);
    expect(seen).toEqual(['mail:<a@example.com>', 'header:Subject:start', 'header:Subject:end', 'mail:<second@example.com>']);
  });
});

describe('children side by side', () => {
  it('after an editor, read-only children get the edited message side by side; end of message still one after the other', async () => {
    const log: string[] = [];
    const chain = chainOf([
      kid(log, 'editor', { actions: ['addHeader'], eom: () => ({ reply: CONTINUE, changes: [{ kind: 'addHeader', name: 'X-E', value: '1' }] }) }),
      kid(log, 'one', { delay: 5, eom: () => later(CONTINUE, 20) }),
      kid(log, 'two', { delay: 5 }),
    ]);
    const { s, ctx } = await toData(chain);
    await sendMessage(s, ctx, [['Subject', ' s'], ['From', ' f']]);
    const eom = await s.endOfMessage(ctx);
    expect(eom.reply).toEqual(CONTINUE);
    // Side by side: the second got its first header before the first got its second.
    expect(log.indexOf('two:header:Subject:s')).toBeLessThan(log.indexOf('one:header:From:f'));
    expect(of(log, 'two')).toContain('two:header:X-E:1');
    expect(log.indexOf('one:eom')).toBeLessThan(log.indexOf('two:eom'));
  });

  it('a child in evaluation mode does not hold up the next; its refusal and changes count for nothing', async () => {
    const log: string[] = [];
    const chain = chainOf([
      kid(log, 'eval', {
        actions: ['addHeader'],
        evaluationMode: true,
        delay: 5,
        eom: () => ({ reply: reject(), changes: [{ kind: 'addHeader', name: 'X-Eval', value: '1' }] }),
      }),
      kid(log, 'next', { delay: 5 }),
    ]);
    const { s, ctx } = await toData(chain);
    await sendMessage(s, ctx, [['Subject', ' s'], ['From', ' f']]);
    const eom = await s.endOfMessage(ctx);
    expect(log.indexOf('next:header:Subject:s')).toBeLessThan(log.indexOf('eval:header:From:f'));
    expect(eom).toEqual({ reply: CONTINUE, changes: [] });
    expect(log).toContain('next:eom');
  });

  it('a header change a read-only child did not negotiate is a protocol error: its fallback, never applied', async () => {
    const log: string[] = [];
    const sneaky = (fallbackStatus: ChildDefinition['fallbackStatus']) =>
      kid(log, 'sneaky', { fallbackStatus, eom: () => ({ reply: CONTINUE, changes: [{ kind: 'addHeader', name: 'X-Sneaky', value: '1' }] }) });
    const { s, ctx } = await toData(chainOf([sneaky('tempfail'), kid(log, 'next')]));
    await sendMessage(s, ctx, [['Subject', ' s']]);
    expect((await s.endOfMessage(ctx)).reply.status).toBe('tempfail');
    expect(warnings.some((w) => w.includes('child sneaky failed at endOfMessage'))).toBe(true);
    const second = await toData(chainOf([sneaky('accept'), kid(log, 'next')]));
    await sendMessage(second.s, second.ctx, [['Subject', ' s']]);
    expect(await second.s.endOfMessage(second.ctx)).toEqual({ reply: CONTINUE, changes: [] });
  });
});

describe('conditions, failures and large bodies while streaming', () => {
  it('a header condition stops a streamed child as that header arrives: it gets ABORT there, the others go on', async () => {
    const log: string[] = [];
    const seenHeaders: string[] = [];
    const noListHeaders: Condition = {
      name: 'no lists',
      description: '',
      stages: new Set(['header']),
      check: (_stage, c) => (seenHeaders.push(c.header!.name), { stop: c.header!.name === 'List-Id' }),
    };
    const chain = chainOf([kid(log, 'cond', { conditions: [noListHeaders] }), kid(log, 'other')]);
    const { s, ctx } = await toData(chain);
    await sendMessage(s, ctx, [['Subject', ' s'], ['List-Id', ' l'], ['From', ' f']]);
    await settle();
    expect(of(log, 'cond')).toEqual(['cond:header:Subject:s', 'cond:abort']);
    expect(seenHeaders).toEqual(['Subject', 'List-Id']);
    const eom = await s.endOfMessage(ctx);
    expect(eom.reply).toEqual(CONTINUE);
    expect(of(log, 'other')).toEqual(['other:header:Subject:s', 'other:header:List-Id:l', 'other:header:From:f', 'other:eoh', 'other:body:6', 'other:eom']);
    expect(of(log, 'cond')).toEqual(['cond:header:Subject:s', 'cond:abort']);
  });

  it('a side-by-side child whose end-of-message condition throws while an earlier one still works: the message fails, no unhandled rejection', async () => {
    const log: string[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown): void => void unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    cleanups.push(() => process.off('unhandledRejection', onUnhandled));
    const broken: Condition = {
      name: 'broken',
      description: '',
      stages: new Set(['endOfMessage']),
      check: () => {
        throw new Error('condition bug');
      },
    };
    const chain = chainOf([
      kid(log, 'editor', { actions: ['addHeader'] }),
      kid(log, 'slow', { eom: () => later(CONTINUE, 300) }),
      kid(log, 'throws', { conditions: [broken] }),
    ]);
    const { s, ctx } = await toData(chain);
    await sendMessage(s, ctx, [['Subject', ' s']]);
    await s.endOfMessage(ctx).catch(() => undefined);
    await later(undefined, 50);
    expect(unhandled).toEqual([]);
  });

  it('an end-of-message condition stops a streamed child before its end of message', async () => {
    const log: string[] = [];
    const atEom: Condition = { name: 'eom', description: '', stages: new Set(['endOfMessage']), check: () => ({ stop: true }) };
    const chain = chainOf([kid(log, 'cond', { conditions: [atEom] }), kid(log, 'other')]);
    const { s, ctx } = await toData(chain);
    await sendMessage(s, ctx, [['Subject', ' s']]);
    expect((await s.endOfMessage(ctx)).reply).toEqual(CONTINUE);
    expect(of(log, 'cond')).toEqual(['cond:header:Subject:s', 'cond:eoh', 'cond:body:6', 'cond:abort']);
    expect(of(log, 'other')).toContain('other:eom');
  });

  it('a remote child dying mid-stream: its fallback counts where it stands in the chain, logged once; the others go on', async () => {
    const run = async (fallbackStatus: 'tempfail' | 'accept') => {
      const spec = await dyingMilter();
      const log: string[] = [];
      const chain = chainOf([
        kid(log, 'first'),
        { name: 'dies', filter: new MilterClient({ spec, timeouts: { reading: 2 } }), fallbackStatus, evaluationMode: false, conditions: [] },
        kid(log, 'third'),
      ]);
      const { s, ctx } = await toData(chain);
      const noHang = hangGuard(2000);
      await sendMessage(s, ctx, [['Subject', ' s'], ['From', ' f']]);
      const eom = await s.endOfMessage(ctx);
      noHang();
      expect(warnings.filter((w) => w.includes('child dies failed'))).toHaveLength(1);
      return { eom, log };
    };
    const refused = await run('tempfail');
    expect(refused.eom.reply.status).toBe('tempfail');
    // The first child passed the message before the dead one's fallback counted; the third was streamed it, then aborted.
    expect(of(refused.log, 'first')).toContain('first:eom');
    expect(of(refused.log, 'third')).toEqual(['third:header:Subject:s', 'third:header:From:f', 'third:eoh', 'third:body:6', 'third:abort']);
    const accepted = await run('accept');
    expect(accepted.eom.reply).toEqual(CONTINUE);
    expect(of(accepted.log, 'third')).toContain('third:eom');
  });

  it('a built-in child stuck on a streamed header gives its fallback after reading_timeout', async () => {
    const log: string[] = [];
    const stuck: ChildDefinition = {
      name: 'stuck',
      filter: withStageTimeouts(
        defineFilter('stuck', { stages: EVENT_STAGES }, () => ({ header: () => new Promise<Reply>(() => undefined) })),
        { reading: 0.05, endOfMessage: 1 },
      ),
      fallbackStatus: 'tempfail',
      evaluationMode: false,
      conditions: [],
    };
    const { s, ctx } = await toData(chainOf([kid(log, 'first'), stuck]));
    const noHang = hangGuard(50);
    await sendMessage(s, ctx, [['Subject', ' s']]);
    expect((await s.endOfMessage(ctx)).reply.status).toBe('tempfail');
    noHang();
    expect(warnings.some((w) => w.includes('child stuck failed at header'))).toBe(true);
  });

  it('a body over the in-memory limit: streamed children and those after an editor get every byte; the spill file is gone after the message', async () => {
    const dir = tempDir('mailgate-stream-spill-');
    cleanups.push(() => dir.cleanup());
    const got = new Map<string, Buffer[]>();
    const collector = (name: string, actions: Action[] = []): ChildDefinition => ({
      name,
      filter: defineFilter(name, { actions, stages: EVENT_STAGES }, () => ({
        // Slow enough that the MTA's chunks queue up behind it (FEED_QUEUE_LIMIT holds the MTA back).
        body: async (c) => (got.set(name, [...(got.get(name) ?? []), Buffer.from(c)]), later(CONTINUE, 2)),
      })),
      fallbackStatus: 'tempfail',
      evaluationMode: false,
      conditions: [],
    });
    const chain = chainOf([collector('streamed'), collector('editor', ['addHeader']), collector('after')], 64 * 1024);
    const { s, ctx } = await toData(chain);
    s.header('Subject', ' big', ctx);
    s.endOfHeaders(ctx);
    const chunks: Buffer[] = [];
    for (let i = 0; i < 12; i++) chunks.push(Buffer.alloc(65535, 0x41 + i));
    for (const c of chunks) expect(await s.body(c, ctx)).toEqual(CONTINUE);
    expect(spillDescriptors().length).toBeGreaterThan(0);
    expect((await s.endOfMessage(ctx)).reply).toEqual(CONTINUE);
    const whole = Buffer.concat(chunks);
    for (const name of ['streamed', 'editor', 'after']) expect(Buffer.concat(got.get(name) ?? []).equals(whole), name).toBe(true);
    await s.close();
    expect(spillDescriptors()).toEqual([]);
  });
});

/** A remote milter that answers the envelope and then closes its connection at the second header. */
async function dyingMilter(): Promise<string> {
  let headers = 0;
  const server: Server = createServer((sock) => {
    const dec = new PacketDecoder(1 << 20);
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => {
      for (const p of dec.push(d)) {
        if (p.code === Command.OPTNEG) {
          sock.write(encodeResponse({ type: 'optneg', version: 6, actions: 0, protocol: 0, macroLists: new Map() }));
        } else if (p.code === Command.HEADER && ++headers === 2) {
          sock.destroy();
          return;
        } else if (p.code !== Command.MACRO && p.code !== Command.ABORT && p.code !== Command.QUIT) {
          sock.write(encodeResponse({ type: 'continue' }));
        }
      }
    });
  });
  cleanups.push(() => new Promise((r) => server.close(r)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return `inet:${typeof addr === 'object' && addr ? addr.port : 0}@127.0.0.1`;
}
