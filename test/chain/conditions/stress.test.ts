import { describe, expect, it } from 'vitest';
import { APPLY, STOP } from '../../../src/chain/condition.js';
import { createNoStress, createStressNotify } from '../../../src/chain/conditions/stress.js';
import { ctx } from './helpers.js';

const at = (sessions: number) => ctx({ concurrentSessions: sessions });

describe('Stress Notify / No Stress', () => {
  it('act at connect only, under their milter-manager names', () => {
    const notify = createStressNotify({ threshold: 1 });
    const noStress = createNoStress({ threshold: 1 });
    expect([notify.name, noStress.name]).toEqual(['Stress Notify', 'No Stress']);
    expect([...notify.stages]).toEqual(['connect']);
    expect([...noStress.stages]).toEqual(['connect']);
    expect(notify.check('mail', at(100))).toBe(APPLY);
    expect(noStress.check('helo', at(100))).toBe(APPLY);
  });

  it.each([
    [10, 1, false],
    [10, 9, false],
    [10, 10, true],
    [10, 11, true],
    [1, 1, true],
    [1, 0, false],
    [0, 0, false],
    [0, 1_000_000, false],
    [2.5, 2, false],
    [2.5, 3, true],
  ])('threshold %d with %d sessions: stressed=%s', (threshold, sessions, stressed) => {
    const notify = createStressNotify({ threshold }).check('connect', at(sessions));
    const noStress = createNoStress({ threshold }).check('connect', at(sessions));
    expect(notify.stop).toBe(false);
    expect(notify.macros).toEqual(stressed ? { '{stress}': 'yes' } : undefined);
    expect(noStress).toBe(stressed ? STOP : APPLY);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, '3' as unknown as number, undefined as unknown as number])(
    'rejects threshold %s',
    (threshold) => {
      expect(() => createStressNotify({ threshold })).toThrow(/Stress Notify: threshold must be a number >= 0/);
      expect(() => createNoStress({ threshold })).toThrow(/No Stress: threshold must be a number >= 0/);
    },
  );

  it('a threshold given as a function is read at each connect (learnt later from Postfix, in the background)', () => {
    let threshold = 0;
    const noStress = createNoStress({ threshold: () => threshold });
    expect(noStress.check('connect', at(5))).toBe(APPLY);
    threshold = 5;
    expect(noStress.check('connect', at(5))).toBe(STOP);
    threshold = Number.NaN; // a broken answer counts as never stressed, never as a throw mid-session
    expect(noStress.check('connect', at(5))).toBe(APPLY);
  });
});
