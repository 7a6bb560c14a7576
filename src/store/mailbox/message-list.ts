/**
 * Helpers over MessageList (mailbox-store.ts), the parallel-array form of a mailbox's messages that SELECT
 * takes: building one from records (the memory store), the records of one (callers that want objects, made
 * only when asked), some of its messages as columns (FETCH FLAGS), finding a UID's position, and a snapshot
 * whose `records` are made on first use.
 */
import type { Flag, MailboxSnapshot, MailboxStatus, MessageList, MessageRecord, RecordColumns } from './mailbox-store.js';

export const EMPTY_LIST: MessageList = Object.freeze({ uids: [], flags: [], modseqs: [], vsizes: [], firstUnseen: -1 });

/** The list of records given in ascending UID order. */
export function listOf(records: readonly MessageRecord[]): MessageList {
  const n = records.length;
  const uids = new Array<number>(n);
  const flags = new Array<readonly Flag[]>(n);
  const modseqs = new Array<number>(n);
  const vsizes = new Array<number>(n);
  let firstUnseen = -1;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    uids[i] = r.uid;
    flags[i] = r.flags;
    modseqs[i] = r.modseq;
    vsizes[i] = r.vsize;
    if (firstUnseen < 0 && !r.flags.includes('\\Seen')) firstUnseen = i;
  }
  return { uids, flags, modseqs, vsizes, firstUnseen };
}

/** The record at a position. */
export function recordAt(list: MessageList, i: number): MessageRecord {
  return { uid: list.uids[i]!, flags: list.flags[i]!, modseq: list.modseqs[i]!, vsize: list.vsizes[i]! };
}

export function recordsOf(list: MessageList): MessageRecord[] {
  const out = new Array<MessageRecord>(list.uids.length);
  for (let i = 0; i < out.length; i++) out[i] = recordAt(list, i);
  return out;
}

/** The first position whose value is >= `value` in an ascending array, from `from` on. */
export function lowerBound(values: readonly number[], value: number, from = 0): number {
  let lo = from;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The position of `uid` in an ascending array, or -1. */
export function positionOf(uids: readonly number[], uid: number): number {
  const i = lowerBound(uids, uid);
  return uids[i] === uid ? i : -1;
}

/**
 * The records of `uids` (any order) found in `list`, in the order given, as columns. A run of the list
 * (what a FETCH of a range asks for) is copied as four array slices, without a look at each UID twice.
 */
export function pickColumns(list: RecordColumns, uids: readonly number[]): RecordColumns {
  const n = uids.length;
  if (n === 0) return EMPTY_LIST;
  const all = list.uids;
  const start = positionOf(all, uids[0]!);
  if (start >= 0 && start + n <= all.length && all[start + n - 1] === uids[n - 1]) {
    let k = 1;
    while (k < n && all[start + k] === uids[k]) k++;
    if (k === n) {
      const end = start + n;
      return { uids: all.slice(start, end), flags: list.flags.slice(start, end), modseqs: list.modseqs.slice(start, end), vsizes: list.vsizes.slice(start, end) };
    }
  }
  const out = { uids: [] as number[], flags: [] as (readonly Flag[])[], modseqs: [] as number[], vsizes: [] as number[] };
  let from = 0;
  for (const uid of uids) {
    // Ascending input (the usual case) walks forward, consecutive UIDs without a search; anything else
    // searches the whole list.
    let i = all[from] === uid ? from : lowerBound(all, uid, all[from] !== undefined && all[from]! <= uid ? from : 0);
    if (all[i] !== uid) continue;
    out.uids.push(uid);
    out.flags.push(list.flags[i]!);
    out.modseqs.push(list.modseqs[i]!);
    out.vsizes.push(list.vsizes[i]!);
    from = ++i;
  }
  return out;
}

/** A snapshot whose records are made from the list only if someone reads them. */
export function snapshotOf(list: MessageList, status: MailboxStatus, recent: readonly number[]): MailboxSnapshot {
  let records: readonly MessageRecord[] | undefined;
  return {
    list,
    status,
    recent,
    get records(): readonly MessageRecord[] {
      return (records ??= recordsOf(list));
    },
  };
}
