/**
 * Giving new messages their UIDs in two steps, in Dovecot's order: the UIDs are decided first (planUids,
 * under the uidlist's lock, writing nothing), the caller appends them to dovecot-uidlist and fsyncs it, and
 * only then are the rows committed (commitPlanned). A crash between the two leaves uidlist lines without rows,
 * which the next sync adopts (the lines are the files' own UIDs); the other order left rows without lines,
 * and Dovecot, reading the uidlist, gave those UIDs again to other messages under the same UIDVALIDITY.
 */
import type { IndexDb } from './index-db.js';
import type { NewMessage } from './index-sync.js';
import { keywordList } from './message-flags.js';
import type { ScanStamps } from './first-fill.js';
import { markUidlistStale } from './uidlist-record.js';

/** Above this many new messages, the index's names of the folder are read once, not one lookup each. */
const BULK_CHECK = 64;

/** The UIDs decided for a batch, before anything is written. */
export interface UidPlan {
  readonly uids: readonly number[];
  /** True where the uidlist needs a line (false: adopted from it, or the file has a row already). */
  readonly fresh: readonly boolean[];
  /** True where a row is to be written (false: the file has one already, with that UID). */
  readonly insert: readonly boolean[];
  /** The folder's next UID once these are given. */
  readonly next: number;
  /** The index's next UID when planned: unchanged at the commit, no row was written in between. */
  readonly seenUidnext: number;
}

export interface InsertedUids {
  readonly uids: readonly number[];
  /** False where the uidlist has the UID already (adopted, or another process indexed the file first). */
  readonly fresh: readonly boolean[];
}

function indexedBases(db: IndexDb, mailboxId: number, n: number): ((base: string) => number | undefined) {
  if (n <= BULK_CHECK) return (base) => db.messageByBase.get(mailboxId, base)?.uid;
  const all = new Map(db.basesOf.all(mailboxId));
  return (base) => all.get(base);
}

/**
 * The UIDs `messages` get, in order; undefined when the folder's row is gone. None below `floor` (the
 * uidlist's next UID) is given anew. A file another process indexed meanwhile keeps the UID it got there;
 * a UID from the uidlist (`adopted`, read under its lock) is kept when no message holds it. Reads only:
 * the caller holds the uidlist's lock, under which alone UIDs are given, so they stay free until the commit.
 */
export function planUids(db: IndexDb, mailboxId: number, messages: readonly NewMessage[], floor = 0): UidPlan | undefined {
  const row = db.mailboxById.get(mailboxId);
  if (row === undefined) return undefined;
  let next = Math.max(row.uidnext, floor);
  const uids: number[] = [];
  const fresh: boolean[] = [];
  const insert: boolean[] = [];
  const given = new Set<number>();
  const rowOf = indexedBases(db, mailboxId, messages.length);
  for (const m of messages) {
    const known = rowOf(m.base);
    if (known !== undefined) {
      uids.push(known);
      fresh.push(false);
      insert.push(false);
      continue;
    }
    const own = m.uid !== undefined && (m.uid >= next || (m.adopted === true && !given.has(m.uid) && db.messageByUid.get(mailboxId, m.uid) === undefined));
    const uid = own ? (m.uid as number) : next;
    if (uid >= next) next = uid + 1;
    given.add(uid);
    uids.push(uid);
    // A UID taken from the uidlist is in it already.
    fresh.push(!(own && m.adopted === true));
    insert.push(true);
  }
  return { uids, fresh, insert, next, seenUidnext: row.uidnext };
}

/**
 * Writes the planned rows (and MODSEQs, read now: flag changes do not wait for the uidlist's lock) in one
 * transaction, with `scan`'s directory stamps (a folder counts as scanned only with the rows of the files its
 * scan found). `behind`: the uidlist could not be written, so the folder is marked for a rewrite from the
 * index in the same transaction. A plan the index no longer fits (a row written meanwhile by a process that
 * gave UIDs without the uidlist's lock) takes the row's UID or the next one, and marks the folder too.
 */
export function commitPlanned(db: IndexDb, mailboxId: number, messages: readonly NewMessage[], plan: UidPlan, scan?: ScanStamps, behind = false): InsertedUids {
  if (messages.length > BULK_CHECK) db.deferCheckpoint();
  return db.write(() => {
    const row = db.mailboxById.get(mailboxId);
    if (row === undefined) return { uids: [], fresh: [] };
    let next = Math.max(row.uidnext, plan.next);
    let modseq = row.highest_modseq;
    let stale = behind;
    const keywords = new Set(keywordList(row.keywords));
    const before = keywords.size;
    const uids = plan.uids.slice();
    const rows = db.messageInserter();
    // Rows are written under the uidlist's lock and raise the next UID: when it has not moved since the plan,
    // the plan's look at the folder still holds (no second read of 100,000 names, no lookup per message).
    const recheck = row.uidnext !== plan.seenUidnext;
    const rowOf = recheck ? indexedBases(db, mailboxId, messages.length) : (): undefined => undefined;
    messages.forEach((m, i) => {
      if (plan.insert[i] !== true) return;
      const known = rowOf(m.base);
      if (known !== undefined) {
        // Indexed meanwhile (another process adopted the lines just written: the same UID).
        if (known !== uids[i]) stale = true;
        uids[i] = known;
        return;
      }
      let uid = uids[i]!;
      if (recheck && (rows.has(uid) || db.messageByUid.get(mailboxId, uid) !== undefined)) {
        stale = true;
        uid = next++;
        uids[i] = uid;
      }
      rows.add(mailboxId, uid, m.base, m.fname, m.inNew ? 1 : 0, m.bits, m.keywords, m.vsize, m.size, m.idate, m.itz, ++modseq);
      for (const [kind, value] of m.meta ?? []) db.putMessageMeta.run(mailboxId, uid, kind, value);
      for (const k of keywordList(m.keywords)) keywords.add(k);
    });
    rows.flush();
    db.setMailboxCounters.run(next, modseq, row.recent_floor, mailboxId);
    if (keywords.size !== before) db.setMailboxKeywords.run([...keywords].sort().join(' '), mailboxId);
    if (scan !== undefined) db.setMailboxScan.run(scan.newStamp, scan.curStamp, scan.scannedAt, mailboxId);
    if (stale) markUidlistStale(db, mailboxId);
    return { uids, fresh: plan.fresh };
  });
}

/**
 * A step that wrote its uidlist lines but could not commit their rows (SQLITE_BUSY behind another process's
 * long transaction, a full disk) fails with its error marked with those lines' bases: an APPEND's undo
 * (append-undo.ts) must not take its own line for a UID someone else gave the file. A line left without a
 * file is harmless: Dovecot drops it, and the UID is never given again.
 */
const linesOf = new WeakMap<object, ReadonlySet<string>>();

export function markLinesWithoutRows(err: unknown, bases: readonly string[]): void {
  if (typeof err === 'object' && err !== null && bases.length > 0) linesOf.set(err, new Set(bases));
}

/** The bases whose lines the failed step wrote itself (markLinesWithoutRows); empty for any other error. */
export function linesWithoutRows(err: unknown): ReadonlySet<string> {
  return (typeof err === 'object' && err !== null ? linesOf.get(err) : undefined) ?? new Set();
}
