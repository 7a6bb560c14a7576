/**
 * Sequence sets (RFC 3501 §9 sequence-set): parse, format compressed, resolve. A number is 1..2^32-1 and
 * `*` is the largest number in use; a range may be written either way round ("5:2" is "2:5"). `$`
 * (SEARCHRES) is not supported.
 *
 * Resolution follows Dovecot (checked against Dovecot 2.3 in preauth mode):
 * - message sequence numbers, `strict` (FETCH, STORE, COPY, MOVE): a number past the message count, or `*`
 *   in an empty mailbox, makes the whole set invalid → BAD "Invalid messageset";
 * - message sequence numbers, `lenient` (SEARCH): numbers past the end match nothing; `*` in an empty
 *   mailbox matches nothing;
 * - UIDs: only UIDs that exist match; `*` is the largest UID ("10:*" with UIDs up to 5 matches 5, as RFC
 *   3501 says); in an empty mailbox `*` matches nothing.
 */
import { ParseError } from './frame.js';

export const MAX_SEQ_NUMBER = 4294967295;

/** A number or `*`. */
export type SeqNumber = number | '*';

/** `from:to` as written; a single number has from === to. */
export interface SeqRange {
  readonly from: SeqNumber;
  readonly to: SeqNumber;
}

export type SequenceSet = readonly SeqRange[];

/**
 * Parses `text` (the whole token). Throws ParseError; positions are `offset` + index in `text`.
 */
export function parseSequenceSet(text: string, offset = 0): SequenceSet {
  const ranges: SeqRange[] = [];
  let i = 0;
  const number = (): SeqNumber => {
    if (text[i] === '*') {
      i++;
      return '*';
    }
    const start = i;
    while (i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
    if (i === start) throw new ParseError(`expected a number or * in the sequence set at column ${offset + i}`, offset + i);
    if (text[start] === '0') throw new ParseError(`expected a non-zero number in the sequence set at column ${offset + start}`, offset + start);
    if (i - start > 10 || Number(text.slice(start, i)) > MAX_SEQ_NUMBER) {
      throw new ParseError(`number over 4294967295 in the sequence set at column ${offset + start}`, offset + start);
    }
    return Number(text.slice(start, i));
  };
  for (;;) {
    const from = number();
    let to = from;
    if (text[i] === ':') {
      i++;
      to = number();
    }
    ranges.push({ from, to });
    if (i >= text.length) break;
    if (text[i] !== ',') throw new ParseError(`expected "," or ":" in the sequence set at column ${offset + i}`, offset + i);
    i++;
  }
  return ranges;
}

/** The set as written back (ranges kept as given, `*` included). */
export function formatSequenceSet(set: SequenceSet): string {
  return set.map((r) => (r.from === r.to ? String(r.from) : `${r.from}:${r.to}`)).join(',');
}

/** Numbers (any order, duplicates allowed) → the shortest set: "1:3,5,7:9". Empty input → "". */
export function compressNumbers(numbers: readonly number[]): string {
  const sorted = sortedUnique(numbers.slice());
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Whether the set uses `*` anywhere. */
export function usesStar(set: SequenceSet): boolean {
  return set.some((r) => r.from === '*' || r.to === '*');
}

/**
 * Message sequence numbers in a mailbox of `count` messages, ascending and unique; undefined when the set
 * is invalid under the `strict` rule (see the file comment). The ranges are merged before anything is
 * expanded, so a set naming the same numbers many times ("1:*,1:*,...") costs one expansion, not one per
 * range.
 */
export function resolveSequenceNumbers(set: SequenceSet, count: number, mode: 'strict' | 'lenient'): number[] | undefined {
  const bounds: [number, number][] = [];
  for (const r of set) {
    if (count === 0 && (r.from === '*' || r.to === '*')) {
      if (mode === 'strict') return undefined;
      continue;
    }
    const a = r.from === '*' ? count : r.from;
    const b = r.to === '*' ? count : r.to;
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    if (hi > count && mode === 'strict') return undefined;
    if (lo <= count) bounds.push([lo, Math.min(hi, count)]);
  }
  const out: number[] = [];
  for (const [lo, hi] of mergeRanges(bounds)) for (let n = lo; n <= hi; n++) out.push(n);
  return out;
}

/**
 * The UIDs of `uids` (ascending, unique) that the set names, ascending and unique: the merged ranges are
 * walked against `uids` with a binary search per range, so the work is O(uids + ranges log ranges).
 */
export function resolveUids(set: SequenceSet, uids: readonly number[]): number[] {
  if (uids.length === 0) return [];
  let out: number[] = [];
  let k = 0;
  for (const [lo, hi] of mergedBounds(set, uids[uids.length - 1]!)) {
    k = lowerBound(uids, lo, k);
    // the first range's run of `uids` is copied whole (1:* is the whole view: one slice, no loop)
    const end = lowerBound(uids, hi + 1, k);
    if (out.length === 0) out = uids.slice(k, end);
    else for (let i = k; i < end; i++) out.push(uids[i]!);
    k = end;
    if (k >= uids.length) break;
  }
  return out;
}

/** Whether `n` is in the set, with `star` standing for `*` (for SEARCH evaluation without expanding). */
export function setContains(set: SequenceSet, n: number, star: number): boolean {
  return setMatcher(set, star)(n);
}

/**
 * A membership test for the set with `star` standing for `*`: the ranges merged once, then a binary search
 * per call (O(log ranges)), for SEARCH, which asks once per message.
 */
export function setMatcher(set: SequenceSet, star: number): (n: number) => boolean {
  const merged = mergedBounds(set, star);
  return (n) => {
    let lo = 0;
    let hi = merged.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (merged[mid]![1] < n) lo = mid + 1;
      else hi = mid;
    }
    return lo < merged.length && merged[lo]![0] <= n;
  };
}

/** The set's ranges with `*` resolved, ordered low..high, sorted by start and merged (overlapping or adjacent). */
export function mergedBounds(set: SequenceSet, star: number): [number, number][] {
  const bounds: [number, number][] = [];
  for (const r of set) {
    const a = r.from === '*' ? star : r.from;
    const b = r.to === '*' ? star : r.to;
    bounds.push([Math.min(a, b), Math.max(a, b)]);
  }
  return mergeRanges(bounds);
}

function mergeRanges(bounds: [number, number][]): [number, number][] {
  bounds.sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const b of bounds) {
    const last = out[out.length - 1];
    if (last !== undefined && b[0] <= last[1] + 1) last[1] = Math.max(last[1], b[1]);
    else out.push([b[0], b[1]]);
  }
  return out;
}

function lowerBound(sorted: readonly number[], value: number, from = 0): number {
  let lo = from;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sortedUnique(a: number[]): number[] {
  a.sort((x, y) => x - y);
  let w = 0;
  for (let r = 0; r < a.length; r++) if (r === 0 || a[r] !== a[w - 1]) a[w++] = a[r]!;
  a.length = w;
  return a;
}
