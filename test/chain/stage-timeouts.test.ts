import { describe, expect, it, vi } from 'vitest';
import { Chain } from '../../src/chain/chain.js';
import { StageTimeoutError, withStageTimeouts } from '../../src/chain/stage-timeouts.js';
import { FULL_OFFER } from '../../src/mail/capabilities.js';
import { TICK_MS } from '../../src/mail/deadlines.js';
import { defineFilter } from '../../src/mail/define-filter.js';
import type { SessionContext } from '../../src/mail/filter.js';
import { silentLogger } from '../../src/mail/logger.js';
import { NO_MACROS } from '../../src/mail/macros.js';
import { CONTINUE, type Reply } from '../../src/mail/reply.js';

const ctx: SessionContext = { macros: NO_MACROS, progress: () => Promise.resolve() };
const never = () => new Promise<Reply>(() => undefined);

describe('withStageTimeouts (built-in children)', () => {
  it('a stage that never answers rejects after reading_timeout, not before', async () => {
    // Deadlines read performance.now() from one shared interval: both faked, the clock is the test's.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    try {
      const f = withStageTimeouts(defineFilter('stuck', {}, () => ({ rcpt: never })), { reading: 0.05, endOfMessage: 1 });
      const s = await f.open();
      await s.negotiate(FULL_OFFER);
      let settled = false;
      const call = Promise.resolve(s.rcpt!('<a@example.org>', [], ctx)).finally(() => (settled = true));
      const rejected = expect(call).rejects.toThrow(new StageTimeoutError('no answer to rcpt within 0.05 s'));
      await vi.advanceTimersByTimeAsync(45);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(10 + TICK_MS);
      await rejected;
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps the filter shape: stages it lacks stay absent', async () => {
    const s = await withStageTimeouts(defineFilter('rcpt', {}, () => ({ rcpt: () => CONTINUE })), { reading: 1, endOfMessage: 1 }).open();
    expect(typeof s.rcpt).toBe('function');
    expect(s.mail).toBeUndefined();
    expect(await s.rcpt!('<a@example.org>', [], ctx)).toEqual(CONTINUE);
  });

  it('an answer given at once comes back as it is (no timer, no promise); a throw becomes a rejection', async () => {
    const f = withStageTimeouts(
      defineFilter('sync', {}, () => ({
        rcpt: () => CONTINUE,
        mail: () => {
          throw new Error('broken filter');
        },
      })),
      { reading: 1, endOfMessage: 1 },
    );
    const s = await f.open();
    expect(s.rcpt!('<a@example.org>', [], ctx)).toEqual(CONTINUE);
    await expect(s.mail!('<a@example.org>', [], ctx)).rejects.toThrow('broken filter');
  });

  it('progress() called during the synchronous part of a stage starts its clock; a stuck stage still times out', async () => {
    const f = withStageTimeouts(
      defineFilter('sync-progress', {}, () => ({
        rcpt: (_r, _a, c) => {
          void c.progress();
          return never();
        },
      })),
      { reading: 0.05, endOfMessage: 1 },
    );
    const s = await f.open();
    let told = 0;
    const counting: SessionContext = { macros: NO_MACROS, progress: () => ((told += 1), Promise.resolve()) };
    await expect(s.rcpt!('<a@example.org>', [], counting)).rejects.toBeInstanceOf(StageTimeoutError);
    expect(told).toBe(1);
  });

  it('progress() at end of message restarts the clock', async () => {
    // 160 ms of work against a 100 ms timeout, on the test's clock (a loaded machine cannot stretch a step).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
    try {
      const f = withStageTimeouts(
        defineFilter('slow', {}, () => ({
          endOfMessage: async (c) => {
            for (let i = 0; i < 4; i++) {
              await new Promise((r) => setTimeout(r, 40));
              await c.progress();
            }
            return { reply: CONTINUE, changes: [] };
          },
        })),
        { reading: 1, endOfMessage: 0.1 },
      );
      const s = await f.open();
      const result = expect(Promise.resolve(s.endOfMessage!(ctx))).resolves.toEqual({ reply: CONTINUE, changes: [] });
      await vi.advanceTimersByTimeAsync(4 * 40 + TICK_MS);
      await result;
    } finally {
      vi.useRealTimers();
    }
  });

  it('through the chain, a stuck built-in child gives its fallback and the session goes on', async () => {
    const stuck = withStageTimeouts(defineFilter('stuck', {}, () => ({ mail: never })), { reading: 0.05, endOfMessage: 1 });
    const chain = new Chain([{ name: 'stuck', filter: stuck, fallbackStatus: 'tempfail', evaluationMode: false, conditions: [] }], {
      fallbackStatus: 'accept',
      logger: silentLogger,
    });
    const s = chain.open();
    await s.negotiate(FULL_OFFER);
    const reply = await s.mail('<a@example.org>', [], ctx);
    expect(reply.status).toBe('tempfail');
    await s.close();
    await chain.dispose();
  });
});
