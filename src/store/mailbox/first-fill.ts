/**
 * A large folder's first fill (its first scan finds a thousand files or more and the index has no rows for
 * it), answered before its rows are written and before its new/ files move to cur/. The UIDs are handed out
 * as always — under the uidlist's lock, the folder's next UID and highest MODSEQ raised in the index, the
 * fresh UIDs appended to dovecot-uidlist and fsynced — so they are durable before any client sees them; the
 * moves and the 100,000 row inserts (a quarter of a second) follow right after the answer, still under the
 * uidlist lock and the user's mutex, so nothing in this process or another reads or gives out UIDs of the
 * folder in between (a second process's sync waits for the lock, then finds the rows). A crash in between
 * loses nothing: the folder's row still says it was never scanned, so the next sync is a first scan, which
 * takes every UID the uidlist holds (the adopt path) and gets the same UIDs back; so does a second process
 * already syncing the folder when this one died, since a sync reads the uidlist's UIDs only under its lock
 * and marks the folder scanned only in the transaction that writes the rows (index-sync.ts's
 * indexAndRecord); \Recent was claimed in the index before the answer. Dovecot reads the uidlist, which is complete before the answer. Dovecot's
 * own first SELECT writes its index in the same command, but from C; this keeps the wait a client sees to
 * the scan and the uidlist.
 */
import { rename } from 'node:fs/promises';
import { DotlockLostError } from '../maildir/dotlock.js';
import type { UidlistLock } from '../maildir/uidlist.js';
import { messageFilePath } from '../maildir/safe-fs.js';
import { goneIsFalse, inBatches } from './batches.js';
import { stampsAcrossMoves } from './dir-stamps.js';
import { baseOf, type ScanColumns } from './first-scan.js';
import type { IndexDb } from './index-db.js';
import { curFileName, keywordList } from './message-flags.js';
import { markUidlistStale, rewriteAfterAppend, uidlistIsStale, uidlistWarnings } from './uidlist-record.js';

/** Below this many messages a first fill writes its rows before the answer (too little to gain). */
export const DEFER_FILL_FROM = 1000;

/** The directory stamps the fill stores with its rows (the scan's: the folder counts as scanned once the rows are in). */
export interface ScanStamps {
  readonly newStamp: string | null;
  readonly curStamp: string | null;
  readonly scannedAt: number;
}

/** UIDs given and recorded, rows still to write. */
export interface FirstFill {
  readonly mailboxId: number;
  /** The messages in UID order; the i-th has `uids[i]` and MODSEQ `firstModseq + i`. */
  readonly columns: ScanColumns;
  readonly uids: readonly number[];
  readonly firstModseq: number;
  /** Moves new/ to cur/, writes the rows and lets the uidlist go; false when the rows could not be written (the next sync does it). */
  run(): Promise<boolean>;
}

/**
 * Gives the scanned messages their UIDs and records them, under `lock` (the uidlist's, taken before the
 * uidlist was read for the scan's UIDs: another process's fill killed before its rows left its UIDs there,
 * and they are the files' own; this function lets it go or hands it to `run`). None below `floor` (the
 * uidlist's next UID) is given anew: a line given after the scan began whose file is not found even when
 * looked for again (index-sync.ts's lateFiles) only raises it.
 * Undefined when the folder is not a first fill any more (another process indexed it meanwhile): the caller indexes it the usual way. 'written' when the rows had to be
 * written at once (the uidlist could not be appended to, so it is rewritten from the rows). Otherwise the
 * pending rows, whose `run` must be called. `toCur`: the folder's keyword letters when the files in new/
 * are to move to cur/ (a read-write SELECT), undefined to leave them.
 */
export async function reserveFirstFill(
  db: IndexDb,
  mailboxId: number,
  lock: UidlistLock,
  columns: ScanColumns,
  floor: number,
  stamps: ScanStamps,
  toCur: readonly string[] | undefined,
): Promise<FirstFill | 'written' | undefined> {
  const dir = lock.dir;
  let handedOver = false;
  try {
    const reserved = reserve(db, mailboxId, columns, floor);
    if (reserved === undefined) return undefined;
    const { uids, freshUids, freshNames, freshEnds, firstModseq } = reserved;
    let appended = false;
    let failure: unknown;
    if (!uidlistIsStale(db, mailboxId)) {
      try {
        await lock.appendLines(freshUids, freshNames, freshEnds);
        appended = true;
      } catch (err) {
        // The lock taken over as stale: its new holder may give these UIDs; no rows, the next sync redoes it.
        if (err instanceof DotlockLostError) throw err;
        failure = err;
      }
    }
    if (!appended) {
      // The rows first, then the file rewritten whole from them (never appended to again after a failed
      // append, which may have left part of a line). Marked first, so rows are never without their mark:
      // a crash before the rewrite leaves the folder to be rewritten at its next sync.
      db.write(() => markUidlistStale(db, mailboxId));
      await moveAndWrite(db, dir, mailboxId, columns, uids, firstModseq, stamps, toCur);
      await rewriteAfterAppend(lock, db, mailboxId, failure);
      return 'written';
    }
    handedOver = true;
    return {
      mailboxId,
      columns,
      uids,
      firstModseq,
      run: () => finish(db, lock, dir, mailboxId, columns, uids, firstModseq, stamps, toCur),
    };
  } finally {
    if (!handedOver) await lock.release();
  }
}

/** One transaction: the UIDs (uid-grant.ts's rule on a folder without rows) and the folder's counters. */
function reserve(
  db: IndexDb,
  mailboxId: number,
  c: ScanColumns,
  floor: number,
): { uids: number[]; freshUids: ArrayLike<number>; freshNames: readonly string[]; freshEnds: ArrayLike<number>; firstModseq: number } | undefined {
  return db.write(() => {
    const row = db.mailboxById.get(mailboxId);
    if (row === undefined || row.scanned_at !== null || (db.countOf.get(mailboxId) ?? 0) > 0) return undefined;
    let next = Math.max(row.uidnext, floor);
    const uids = new Array<number>(c.n);
    // The UIDs the uidlist does not have yet, for its append: without UIDs from the uidlist (the usual
    // first fill), every message's, in the scan's own arrays (no copy of 100,000 names for the GC).
    let fresh: { freshUids: ArrayLike<number>; freshNames: readonly string[]; freshEnds: ArrayLike<number> };
    if (c.given === undefined) {
      for (let i = 0; i < c.n; i++) uids[i] = next + i;
      next += c.n;
      fresh = { freshUids: uids, freshNames: c.names, freshEnds: c.baseEnds };
    } else {
      const freshUids: number[] = [];
      const freshNames: string[] = [];
      const freshEnds: number[] = [];
      let last = 0;
      for (let i = 0; i < c.n; i++) {
        // The uidlist's UID for this base is kept (no row holds any UID here) while they ascend.
        const given = c.given[i] ?? 0;
        const own = given > last;
        const uid = own ? given : next;
        if (uid >= next) next = uid + 1;
        last = uid;
        uids[i] = uid;
        if (!own) {
          freshUids.push(uid);
          freshNames.push(c.names[i]!);
          freshEnds.push(c.baseEnds[i]!);
        }
      }
      fresh = { freshUids, freshNames, freshEnds };
    }
    const keywords = new Set(keywordList(row.keywords));
    const before = keywords.size;
    if (c.keywords !== undefined) for (const named of c.keywords) if (named !== '') for (const k of keywordList(named)) keywords.add(k);
    db.setMailboxCounters.run(next, row.highest_modseq + c.n, row.recent_floor, mailboxId);
    if (keywords.size !== before) db.setMailboxKeywords.run([...keywords].sort().join(' '), mailboxId);
    return { uids, ...fresh, firstModseq: row.highest_modseq + 1 };
  });
}

async function finish(
  db: IndexDb,
  lock: UidlistLock,
  dir: string,
  mailboxId: number,
  columns: ScanColumns,
  uids: readonly number[],
  firstModseq: number,
  stamps: ScanStamps,
  toCur: readonly string[] | undefined,
): Promise<boolean> {
  try {
    await moveAndWrite(db, dir, mailboxId, columns, uids, firstModseq, stamps, toCur);
    // The answer has gone: the WAL is copied into the database now, while this user's next step waits
    // for the fill anyway, not a second later in the middle of whatever command is running then.
    db.checkpointNow();
    return true;
  } catch (err) {
    uidlistWarnings.get(db)?.(`index of ${dir}: writing the first ${columns.n} rows failed (${String(err)}); the next sync writes them from the uidlist`);
    return false;
  } finally {
    await lock.release().catch(() => undefined);
  }
}

/** The files in new/ to cur/ first (a read-write first SELECT, as Dovecot moves them), then the rows naming them. */
async function moveAndWrite(
  db: IndexDb,
  dir: string,
  mailboxId: number,
  c: ScanColumns,
  uids: readonly number[],
  firstModseq: number,
  stamps: ScanStamps,
  toCur: readonly string[] | undefined,
): Promise<void> {
  let written = stamps;
  if (toCur !== undefined) {
    const moving: number[] = [];
    for (let i = 0; i < c.n; i++) if (c.inNew[i] === 1) moving.push(i);
    if (moving.length > 0) {
      const after = await stampsAcrossMoves(dir, stamps.newStamp, stamps.curStamp, async () => {
        // A name without an info part gets the flags' one in cur/ (index-sync.ts's moveNewToCur does the same).
        const pairs = moving.map((i): [number, string] => {
          const name = c.names[i]!;
          return [i, c.baseEnds[i] === name.length ? curFileName(name, c.bits[i]!, c.keywords?.[i] ?? '', toCur) : name];
        });
        const moved = await inBatches(pairs, ([i, to]) =>
          rename(messageFilePath(dir, 'new', c.names[i]!), messageFilePath(dir, 'cur', to)).then(() => true, goneIsFalse),
        );
        pairs.forEach(([i, to], k) => {
          if (moved[k] !== true) return;
          c.names[i] = to;
          c.inNew[i] = 0;
        });
      });
      written = { ...stamps, newStamp: after.storeNew, curStamp: after.storeCur };
    }
  }
  writeRows(db, mailboxId, c, uids, firstModseq, written);
}

/**
 * The rows with the UIDs and MODSEQs given, and the folder marked scanned. A row already there for a base
 * or a UID (an index someone wrote meanwhile without the uidlist's lock) is left as it is.
 */
function writeRows(db: IndexDb, mailboxId: number, c: ScanColumns, uids: readonly number[], firstModseq: number, stamps: ScanStamps): void {
  if (!db.db.open) throw new Error('the index is closed');
  db.deferCheckpoint();
  db.write(() => {
    if (db.mailboxById.get(mailboxId) === undefined) return;
    const crowded = (db.countOf.get(mailboxId) ?? 0) > 0;
    const bases = crowded ? new Set(db.basesOf.all(mailboxId).map(([base]) => base)) : undefined;
    const rows = db.messageInserter();
    for (let i = 0; i < c.n; i++) {
      const uid = uids[i]!;
      const base = baseOf(c, i);
      if (bases !== undefined && (bases.has(base) || db.hasMessage.get(mailboxId, uid) !== undefined)) continue;
      rows.add(mailboxId, uid, base, c.names[i]!, c.inNew[i]!, c.bits[i]!, c.keywords?.[i] ?? '', c.vsizes[i]!, c.sizes[i]!, null, null, firstModseq + i);
    }
    rows.flush();
    db.setMailboxScan.run(stamps.newStamp, stamps.curStamp, stamps.scannedAt, mailboxId);
  });
}
