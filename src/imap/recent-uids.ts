/**
 * The UIDs one selection holds \Recent for. The store hands them out in ascending runs (every UID at or
 * above the folder's \Recent floor: a folder's first SELECT claims all of its 100,000 messages), so they are
 * kept as one sorted array, taken as given, with a binary search for membership, rather than a Set built
 * element by element (tens of milliseconds and megabytes at that size). Expunged ones are only counted off:
 * a UID is never given again in a UIDVALIDITY, so nobody asks about it afterwards.
 */
import { lowerBound, positionOf } from '../store/mailbox/message-list.js';

export class RecentUids {
  private uids: readonly number[];
  private own = false;
  private readonly gone = new Set<number>();

  /** `initial`: the snapshot's claim, kept as it is when ascending and all in `view` (ascending); not changed here. */
  constructor(initial: readonly number[], view: readonly number[]) {
    this.uids = inView(initial, view);
  }

  has(uid: number): boolean {
    return positionOf(this.uids, uid) >= 0 && !this.gone.has(uid);
  }

  get size(): number {
    return this.uids.length - this.gone.size;
  }

  /** More claimed UIDs (a later claim: above the earlier ones, else merged in order). */
  add(uids: readonly number[]): void {
    if (uids.length === 0) return;
    const mine = this.own ? (this.uids as number[]) : this.uids.slice();
    this.own = true;
    const last = mine.length === 0 ? 0 : mine[mine.length - 1]!;
    let sorted = true;
    for (let i = 0; i < uids.length; i++) {
      const uid = uids[i]!;
      this.gone.delete(uid);
      if (uid <= (i === 0 ? last : uids[i - 1]!)) sorted = false;
      mine.push(uid);
    }
    this.uids = sorted ? mine : [...new Set(mine)].sort((a, b) => a - b);
  }

  /** An expunged message: no longer counted. */
  delete(uid: number): void {
    if (positionOf(this.uids, uid) >= 0) this.gone.add(uid);
  }
}

/** `claim` when it is ascending and every UID of it is in `view` (one walk: the usual case), else those in it, sorted. */
function inView(claim: readonly number[], view: readonly number[]): readonly number[] {
  let at = 0;
  for (let i = 0; i < claim.length; i++) {
    const uid = claim[i]!;
    at = lowerBound(view, uid, at);
    if ((i > 0 && uid <= claim[i - 1]!) || view[at] !== uid) return [...new Set(claim)].filter((u) => positionOf(view, u) >= 0).sort((a, b) => a - b);
  }
  return claim;
}
