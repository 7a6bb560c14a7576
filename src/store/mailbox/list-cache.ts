/**
 * One MessageList per Maildir folder in this process, shared by every handle of the user (user-handles.ts
 * keeps them with the index connection): SELECT of an unchanged folder costs one row read and hands out
 * the same arrays, not a read of every message row. The list is stamped with the folder row's UIDVALIDITY,
 * highest MODSEQ and next UID; every change to a message row (new message, flag change, expunge, by this
 * process or another) raises the highest MODSEQ, so a stamp that still matches means nothing changed. A
 * stale list is brought forward from the rows whose MODSEQ is above its stamp, plus a count that tells
 * whether messages were expunged (only then are the UIDs read again); a list handed out is never changed
 * in place (copied first), so a session keeps the view it was given.
 */
import type { FirstFill } from './first-fill.js';
import type { IndexDb, MailboxRow } from './index-db.js';
import type { Flag, MessageList } from './mailbox-store.js';
import { lowerBound } from './message-list.js';
import { SEEN_BIT, toFlags } from './message-flags.js';

type RecordRow = [uid: number, bits: number, keywords: string, modseq: number, vsize: number];

export class CachedList {
  uids: number[] = [];
  flags: (readonly Flag[])[] = [];
  modseqs: number[] = [];
  vsizes: number[] = [];
  /** The system flag bits per message (unseen counts without looking at flag names). */
  private bits: number[] = [];
  firstUnseen = -1;
  unseen = 0;
  size = 0;
  /** Arrays handed out: the next change copies them first. */
  private shared = false;
  private handed: MessageList | undefined;
  /** One array per distinct flag set (`bits keywords`), shared by every message that has it. */
  private readonly palette = new Map<string, readonly Flag[]>();

  private constructor(
    readonly uidValidity: number,
    public highestModseq: number,
    public uidNext: number,
  ) {}

  /** The list as it is now, for a holder to keep (the arrays are copied before the next change). */
  share(): MessageList {
    this.shared = true;
    return (this.handed ??= { uids: this.uids, flags: this.flags, modseqs: this.modseqs, vsizes: this.vsizes, firstUnseen: this.firstUnseen });
  }

  /**
   * The list as it is now, to read synchronously and let go (FETCH FLAGS picking records): not marked as
   * handed out, so the next change need not copy 100,000-entry arrays for a reader that kept nothing.
   */
  peek(): MessageList {
    return { uids: this.uids, flags: this.flags, modseqs: this.modseqs, vsizes: this.vsizes, firstUnseen: this.firstUnseen };
  }

  /** How many messages have a UID at or above `floor` (the \Recent count). */
  countFrom(floor: number): number {
    return this.uids.length - lowerBound(this.uids, floor);
  }

  private flagsOf(bits: number, keywords: string): readonly Flag[] {
    const key = keywords === '' ? String(bits) : `${bits} ${keywords}`;
    let flags = this.palette.get(key);
    if (flags === undefined) {
      flags = Object.freeze(toFlags(bits, keywords));
      this.palette.set(key, flags);
    }
    return flags;
  }

  /** A whole list from the folder's rows. */
  static build(db: IndexDb, row: MailboxRow): CachedList {
    const list = new CachedList(row.uidvalidity, row.highest_modseq, row.uidnext);
    const rows = db.records.all(row.id) as RecordRow[];
    const n = rows.length;
    list.uids = new Array<number>(n);
    list.flags = new Array<readonly Flag[]>(n);
    list.modseqs = new Array<number>(n);
    list.vsizes = new Array<number>(n);
    list.bits = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const [uid, bits, keywords, modseq, vsize] = rows[i]!;
      list.uids[i] = uid;
      list.flags[i] = list.flagsOf(bits, keywords);
      list.modseqs[i] = modseq;
      list.vsizes[i] = vsize;
      list.bits[i] = bits;
    }
    list.recount();
    return list;
  }

  /**
   * The list of a first fill whose rows are not written yet (first-fill.ts), stamped with `row` as the
   * reservation left it: the rows, once written, are exactly these, so nothing is read back.
   */
  static ofFill(row: MailboxRow, fill: FirstFill): CachedList {
    const list = new CachedList(row.uidvalidity, row.highest_modseq, row.uidnext);
    const c = fill.columns;
    const n = fill.uids.length;
    list.uids = fill.uids.slice();
    list.flags = new Array<readonly Flag[]>(n);
    list.modseqs = new Array<number>(n);
    list.vsizes = new Array<number>(n);
    list.bits = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const bits = c.bits[i]!;
      list.flags[i] = list.flagsOf(bits, c.keywords?.[i] ?? '');
      list.modseqs[i] = fill.firstModseq + i;
      // As a small integer where it is one (a Float64Array's value would make the array one of doubles).
      const vsize = c.vsizes[i]!;
      list.vsizes[i] = vsize <= 0x3fffffff ? vsize | 0 : vsize;
      list.bits[i] = bits;
    }
    list.recount();
    return list;
  }

  /** Whether the list is the folder as `row` describes it. */
  matches(row: MailboxRow): boolean {
    return row.uidvalidity === this.uidValidity && row.highest_modseq === this.highestModseq && row.uidnext === this.uidNext;
  }

  /** Brings the list to `row`'s state from the rows changed since its stamp; false when it cannot (rebuild). */
  advance(db: IndexDb, row: MailboxRow): boolean {
    if (row.uidvalidity !== this.uidValidity || row.highest_modseq < this.highestModseq) return false;
    const changed = db.recordsSince.all(row.id, this.highestModseq) as RecordRow[];
    const total = db.countOf.get(row.id) ?? 0;
    if (this.shared) this.unshare();
    this.handed = undefined;
    const added: RecordRow[] = [];
    for (const r of changed) {
      const i = lowerBound(this.uids, r[0]);
      if (this.uids[i] === r[0]) this.put(i, r);
      else added.push(r);
    }
    const last = this.uids.length === 0 ? 0 : this.uids[this.uids.length - 1]!;
    // A message new to the list below its last UID happens only on a folder's first scan: rebuild.
    if (added.length > 0 && added[0]![0] < last) return false;
    if (total !== this.uids.length + added.length) this.dropExpunged(db.uidsOf.all(row.id));
    for (const r of added) {
      this.uids.push(r[0]);
      this.flags.push(this.flagsOf(r[1], r[2]));
      this.modseqs.push(r[3]);
      this.vsizes.push(r[4]);
      this.bits.push(r[1]);
    }
    if (this.uids.length !== total) return false;
    this.highestModseq = row.highest_modseq;
    this.uidNext = row.uidnext;
    this.recount();
    return true;
  }

  private put(i: number, [, bits, keywords, modseq, vsize]: RecordRow): void {
    this.flags[i] = this.flagsOf(bits, keywords);
    this.modseqs[i] = modseq;
    this.vsizes[i] = vsize;
    this.bits[i] = bits;
  }

  /** Keeps the positions whose UID is still in `present` (ascending). */
  private dropExpunged(present: readonly number[]): void {
    let k = 0;
    let j = 0;
    for (let i = 0; i < this.uids.length; i++) {
      const uid = this.uids[i]!;
      j = lowerBound(present, uid, j);
      if (present[j] !== uid) continue;
      this.uids[k] = uid;
      this.flags[k] = this.flags[i]!;
      this.modseqs[k] = this.modseqs[i]!;
      this.vsizes[k] = this.vsizes[i]!;
      this.bits[k] = this.bits[i]!;
      k++;
    }
    for (const a of [this.uids, this.flags, this.modseqs, this.vsizes, this.bits]) a.length = k;
  }

  private unshare(): void {
    this.uids = this.uids.slice();
    this.flags = this.flags.slice();
    this.modseqs = this.modseqs.slice();
    this.vsizes = this.vsizes.slice();
    this.bits = this.bits.slice();
    this.shared = false;
  }

  private recount(): void {
    let unseen = 0;
    let size = 0;
    let first = -1;
    for (let i = 0; i < this.uids.length; i++) {
      if ((this.bits[i]! & SEEN_BIT) === 0) {
        unseen++;
        if (first < 0) first = i;
      }
      size += this.vsizes[i]!;
    }
    this.unseen = unseen;
    this.size = size;
    this.firstUnseen = first;
  }
}

/**
 * The folder's row and its current list, read in one transaction (so the two agree even while another
 * process writes); undefined once the folder is gone.
 */
export function currentList(db: IndexDb, lists: Map<number, CachedList>, id: number): { row: MailboxRow; list: CachedList } | undefined {
  return db.db.transaction(() => {
    const row = db.mailboxById.get(id);
    if (row === undefined) {
      lists.delete(id);
      return undefined;
    }
    let list = lists.get(id);
    if (list !== undefined && !list.matches(row) && !list.advance(db, row)) list = undefined;
    if (list === undefined) {
      list = CachedList.build(db, row);
      lists.set(id, list);
    }
    return { row, list };
  })();
}
