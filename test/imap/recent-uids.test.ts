/** RecentUids (a selection's \Recent UIDs as a sorted array) against a Set, under random claims and expunges. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecentUids } from '../../src/imap/recent-uids.js';

describe('RecentUids', () => {
  it('answers as a Set of the claimed UIDs in the view, less the expunged, would', () => {
    const uidSet = fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { maxLength: 30 });
    fc.assert(
      fc.property(uidSet, uidSet, fc.array(fc.oneof(uidSet.map((u) => ({ add: u })), fc.integer({ min: 1, max: 60 }).map((u) => ({ del: u }))), { maxLength: 8 }), (view, claim, steps) => {
        const sortedView = [...view].sort((a, b) => a - b);
        // a claim is usually the view's tail, ascending; any order and UIDs outside the view are handled too
        const r = new RecentUids(claim, sortedView);
        const model = new Set(claim.filter((u) => sortedView.includes(u)));
        for (const step of steps) {
          if ('add' in step) {
            r.add(step.add);
            for (const u of step.add) model.add(u);
          } else {
            r.delete(step.del);
            model.delete(step.del);
          }
          expect(r.size).toBe(model.size);
          for (let u = 0; u <= 61; u++) expect(r.has(u), `uid ${u}`).toBe(model.has(u));
        }
        expect(r.size).toBe(model.size);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps a first SELECT claim of 100,000 as it is', () => {
    const uids = Array.from({ length: 100_000 }, (_, i) => i + 1);
    const r = new RecentUids(uids, uids);
    expect(r.size).toBe(100_000);
    expect(r.has(1) && r.has(100_000) && !r.has(100_001)).toBe(true);
    r.delete(5);
    expect(r.size).toBe(99_999);
    expect(r.has(5)).toBe(false);
  });
});
