/**
 * Which UIDs a QRESYNC client is told are gone (`VANISHED (EARLIER)`, RFC 7162 §3.2.5.2 and §3.2.6).
 * The store keeps no MODSEQ for expunged messages, so the answer is every UID the client asked about
 * that no longer exists: RFC 7162 §5 calls such a server compliant ("return all expunged messages
 * specified in the UID set ... without paying attention to the specified CHANGEDSINCE"); a client ignores
 * UIDs it never had. The message sequence match data narrows it as §3.2.5.2 intends: where the client's
 * sequence number and UID pair still matches, it already knows every expunge below that UID.
 * Everything works on ranges, never on expanded sets: 1:UIDNEXT-1 may be billions of numbers.
 */
import { lowerBound } from '../store/mailbox/message-list.js';
import { mergedBounds, type SeqRange, type SequenceSet } from './wire/sequence-set.js';

const span = (lo: number, hi: number): string => (lo === hi ? String(lo) : `${lo}:${hi}`);

/**
 * The UIDs `set` names (`*` is `top`) that are above `floor`, at most `top`, and not in `present`
 * (ascending): a sequence-set text, '' when there are none.
 */
export function missingUids(set: SequenceSet, top: number, present: readonly number[], floor = 0): string {
  const parts: string[] = [];
  let k = 0;
  for (const [a, b] of mergedBounds(set, top)) {
    let lo = Math.max(a, floor + 1);
    const hi = Math.min(b, top);
    if (lo > hi) continue;
    k = lowerBound(present, lo, k);
    while (lo <= hi) {
      const next = k < present.length ? present[k]! : Infinity;
      if (next > hi) {
        parts.push(span(lo, hi));
        break;
      }
      if (next > lo) parts.push(span(lo, next - 1));
      lo = next + 1;
      k++;
    }
  }
  return parts.join(',');
}

/** The numbers of a set without `*`, in the order written (each range low to high). */
function* numbers(set: SequenceSet): Generator<number> {
  for (const r of set as readonly (SeqRange & { from: number; to: number })[]) {
    for (let n = Math.min(r.from, r.to); n <= Math.max(r.from, r.to); n++) yield n;
  }
}

/**
 * The UID of the last pair of the match data, walked in order, that `view` (UIDs in sequence order) has at
 * the same sequence number before the first pair it does not, or 0: the client knows every expunge up to
 * it. From the first mismatch on the client's view is wrong, so a later pair that happens to match proves
 * nothing (Dovecot stops there too). Both sets ascending and the same size (the parser checks), so the walk
 * stops past the view's end and costs at most its length.
 */
export function matchedFloor(seqs: SequenceSet, uids: SequenceSet, view: readonly number[]): number {
  const s = numbers(seqs);
  const u = numbers(uids);
  let floor = 0;
  for (;;) {
    const seq = s.next();
    const uid = u.next();
    if (seq.done === true || uid.done === true || seq.value > view.length || view[seq.value - 1] !== uid.value) return floor;
    floor = uid.value;
  }
}
