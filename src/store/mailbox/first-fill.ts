/**
 * A large folder's first fill (its first scan finds thousands of files and the index has no rows for it),
 * answered before its rows are written. The UIDs are handed out as always — under the uidlist's lock, the
 * folder's next UID and highest MODSEQ raised in the index, the fresh UIDs appended to dovecot-uidlist and
 * fsynced — so they are durable before any client sees them; the 100,000 row inserts (a quarter of a
 * second) follow right after the answer, still under the uidlist lock and the user's mutex, so nothing in
 * this process or another reads or gives out UIDs of the folder in between. A crash in between loses
 * nothing: the folder's row still says it was never scanned, so the next sync is a first scan, which
 * takes every UID the uidlist holds (index-sync.ts's adopt path) and gets the same UIDs back. Dovecot
 * reads the uidlist, which is complete before the answer. Dovecot's own first SELECT writes its index in
 * the same command, but from C; this keeps the wait a client sees to the scan and the uidlist.
 */
import { lockUidlist, type UidlistLock } from '../maildir/uidlist.js';
import type { IndexDb } from './index-db.js';
import type { NewMessage } from './index-sync.js';
import { keywordList } from './message-flags.js';
import { recordUids, uidlistIsStale, uidlistWarnings } from './uidlist-record.js';

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
  readonly messages: readonly NewMessage[];
  readonly uids: readonly number[];
  readonly firstModseq: number;
  /** Writes the rows and lets the uidlist go; false when the rows could not be written (the next sync does it). */
  run(): Promise<boolean>;
}

/**
 * Gives `messages` (sorted: the uidlist's UIDs first, ascending) their UIDs and records them. Undefined
 * when the folder is not a first fill any more (another process indexed it meanwhile): the caller indexes
 * them the usual way. 'written' when the rows had to be written at once (the uidlist could not be appended
 * to, so it is rewritten from the rows). Otherwise the pending rows, whose `run` must be called.
 */
export async function reserveFirstFill(
  db: IndexDb,
  mailboxId: number,
  dir: string,
  messages: NewMessage[],
  stamps: ScanStamps,
  moveToCur?: (messages: NewMessage[]) => Promise<{ storeNew: string | null; storeCur: string | null }>,
): Promise<FirstFill | 'written' | undefined> {
  const lock = await lockUidlist(dir);
  let handedOver = false;
  try {
    const reserved = reserve(db, mailboxId, messages);
    if (reserved === undefined) return undefined;
    const { uids, freshUids, freshBases, firstModseq } = reserved;
    let appended = false;
    if (!uidlistIsStale(db, mailboxId)) {
      try {
        await lock.appendLines(freshUids, freshBases);
        appended = true;
      } catch {
        // recordUids below says why and rewrites the file from the rows.
      }
    }
    if (!appended) {
      const moved = moveToCur === undefined ? undefined : await moveToCur(messages);
      writeRows(db, mailboxId, messages, uids, firstModseq, moved === undefined ? stamps : { ...stamps, newStamp: moved.storeNew, curStamp: moved.storeCur });
      await recordUids(
        lock,
        db,
        mailboxId,
        freshUids.map((uid, i) => ({ uid, base: freshBases[i]!, extensions: [] })),
      );
      return 'written';
    }
    handedOver = true;
    return {
      mailboxId,
      messages,
      uids,
      firstModseq,
      run: () => finish(db, lock, mailboxId, messages, uids, firstModseq, stamps, moveToCur),
    };
  } finally {
    if (!handedOver) await lock.release();
  }
}

/** One transaction: the UIDs (insertMessages' rule on a folder without rows) and the folder's counters. */
function reserve(
  db: IndexDb,
  mailboxId: number,
  messages: readonly NewMessage[],
): { uids: number[]; freshUids: number[]; freshBases: string[]; firstModseq: number } | undefined {
  return db.write(() => {
    const row = db.mailboxById.get(mailboxId);
    if (row === undefined || row.scanned_at !== null || (db.countOf.get(mailboxId) ?? 0) > 0) return undefined;
    let next = row.uidnext;
    let last = 0;
    const uids = new Array<number>(messages.length);
    // The UIDs the uidlist does not have yet, for its append.
    const freshUids: number[] = [];
    const freshBases: string[] = [];
    const keywords = new Set(keywordList(row.keywords));
    const before = keywords.size;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      // The uidlist's UID for this base is kept (no row holds any UID here) while they ascend.
      const own = m.uid !== undefined && m.uid > last && (m.uid >= next || m.adopted === true);
      const uid = own ? (m.uid as number) : next;
      if (uid >= next) next = uid + 1;
      last = uid;
      uids[i] = uid;
      if (!(own && m.adopted === true)) {
        freshUids.push(uid);
        freshBases.push(m.base);
      }
      if (m.keywords !== '') for (const k of keywordList(m.keywords)) keywords.add(k);
    }
    db.setMailboxCounters.run(next, row.highest_modseq + messages.length, row.recent_floor, mailboxId);
    if (keywords.size !== before) db.setMailboxKeywords.run([...keywords].sort().join(' '), mailboxId);
    return { uids, freshUids, freshBases, firstModseq: row.highest_modseq + 1 };
  });
}

async function finish(
  db: IndexDb,
  lock: UidlistLock,
  mailboxId: number,
  messages: NewMessage[],
  uids: readonly number[],
  firstModseq: number,
  stamps: ScanStamps,
  moveToCur: ((messages: NewMessage[]) => Promise<{ storeNew: string | null; storeCur: string | null }>) | undefined,
): Promise<boolean> {
  try {
    // The files in new/ go to cur/ first (a read-write first SELECT; the rows then name them there).
    const moved = moveToCur === undefined ? undefined : await moveToCur(messages);
    writeRows(db, mailboxId, messages, uids, firstModseq, moved === undefined ? stamps : { ...stamps, newStamp: moved.storeNew, curStamp: moved.storeCur });
    return true;
  } catch (err) {
    uidlistWarnings.get(db)?.(`index of ${lock.dir}: writing the first ${messages.length} rows failed (${String(err)}); the next sync writes them from the uidlist`);
    return false;
  } finally {
    await lock.release().catch(() => undefined);
  }
}

/**
 * The rows with the UIDs and MODSEQs given, and the folder marked scanned. A row already there for a base
 * or a UID (an index someone wrote meanwhile without the uidlist's lock) is left as it is.
 */
function writeRows(
  db: IndexDb,
  mailboxId: number,
  messages: readonly NewMessage[],
  uids: readonly number[],
  firstModseq: number,
  stamps: ScanStamps,
): void {
  if (!db.db.open) throw new Error('the index is closed');
  db.deferCheckpoint();
  db.write(() => {
    if (db.mailboxById.get(mailboxId) === undefined) return;
    const crowded = (db.countOf.get(mailboxId) ?? 0) > 0;
    const bases = crowded ? new Set(db.basesOf.all(mailboxId).map(([base]) => base)) : undefined;
    const rows = db.messageInserter();
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      const uid = uids[i]!;
      if (bases !== undefined && (bases.has(m.base) || db.hasMessage.get(mailboxId, uid) !== undefined)) continue;
      rows.add(mailboxId, uid, m.base, m.fname, m.inNew ? 1 : 0, m.bits, m.keywords, m.vsize, m.size, m.idate, m.itz, firstModseq + i);
      for (const [kind, value] of m.meta ?? []) db.putMessageMeta.run(mailboxId, uid, kind, value);
    }
    rows.flush();
    db.setMailboxScan.run(stamps.newStamp, stamps.curStamp, stamps.scannedAt, mailboxId);
  });
}
