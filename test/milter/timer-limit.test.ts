/**
 * Hostile-test defect: a timeout above 2,147,483 s became a 1 ms Node timer (TimeoutOverflowWarning),
 * so a child configured to be waited for patiently failed at once. Every timer goes through timerDelay().
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_TIMER_MS, timerDelay } from '../../src/config/timer-limit.js';
import { ClientTransport } from '../../src/milter/client-transport.js';
import { sleep } from './wire-helpers.js';

describe('timerDelay', () => {
  it('keeps what Node can hold, clamps what it cannot to the longest it can (never 1 ms)', () => {
    expect(timerDelay(250)).toBe(250);
    expect(timerDelay(MAX_TIMER_MS)).toBe(MAX_TIMER_MS);
    expect(timerDelay(30 * 86_400_000)).toBe(MAX_TIMER_MS);
    expect(timerDelay(1e300)).toBe(MAX_TIMER_MS);
    expect(timerDelay(Infinity)).toBe(MAX_TIMER_MS);
    expect(timerDelay(0)).toBe(1);
    expect(timerDelay(NaN)).toBe(1);
  });
});

describe('a milter client with a 30-day reading timeout', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('still waits for the milter: no timeout after 1 ms, no TimeoutOverflowWarning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(w.name);
    process.on('warning', onWarning);
    cleanups.push(() => process.off('warning', onWarning));
    // A milter that accepts and never answers.
    const server: Server = createServer(() => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => server.close());
    const port = (server.address() as { port: number }).port;
    const t = await ClientTransport.open({ type: 'inet', family: 4, host: '127.0.0.1', port }, 'slow', 30 * 86_400);
    cleanups.push(() => t.end());
    let outcome = 'pending';
    t.read(30 * 86_400).then(
      () => (outcome = 'read'),
      (err: Error) => (outcome = err.message),
    );
    await sleep(200);
    expect(outcome).toBe('pending');
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });
});
