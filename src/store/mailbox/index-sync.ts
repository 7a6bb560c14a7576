/**
 * Index ↔ files for one folder. The files are the truth for which messages exist and for their flags; the
 * index for UIDs, MODSEQs and what names cannot hold. A sync reads new/ and cur/ (skipped when both
 * directories' mtimes are what the last scan saw and that scan was more than 2 seconds after them —
 * Dovecot's rule, since an mtime has coarse granularity on some file systems) and reconciles: a file not in
 * the index gets the next UID (in file-name order, i.e. arrival order); an indexed file that is gone is
 * expunged; one renamed to other `:2,` letters has its flags changed. Sizes come from the name's S=/W=;
 * only a name without them (a file dropped by another program) is read once to count its line ends. Every
 * UID given out is appended to dovecot-uidlist, so Dovecot sees the same UIDs and a lost index gets them
 * back; under its lock the uidlist is read first, since Dovecot's LDA and IMAP give UIDs there too (a file
 * it lists keeps that UID, none below its next UID is given again). File operations come first, the index commit second: a crash in between is repaired by the next
 * sync (the file wins).
 */
import { lstat, rename } from 'node:fs/promises';
import { parseMaildirInfo, splitMaildirFileName } from '../maildir/maildir-info.js';
import { dirStateSync, maildirEntryOf, measureMessageFile, scanMaildir, scanSubdir, type MaildirEntry } from '../maildir/maildir-scan.js';
import { same, stamp, stampsAcrossMoves } from './dir-stamps.js';
import { isRealDirectory, messageFilePath } from '../maildir/safe-fs.js';
import { UidlistError, lockUidlist, newMailboxGuid, readUidlist, readUidlistFrom, type Uidlist } from '../maildir/uidlist.js';
import { recordUids, repairUidlist, uidlistWarnings } from './uidlist-record.js';
import { commitPlanned, markLinesWithoutRows, planUids, type InsertedUids } from './uid-grant.js';
import { DEFER_FILL_FROM, reserveFirstFill, type FirstFill, type ScanStamps } from './first-fill.js';
import { scanColumns, unlistedBases, withAdopted, withLateFiles } from './first-scan.js';
import { goneIsFalse, inBatches } from './batches.js';
import { INBOX, folderDir } from './folder-dirs.js';
import type { IndexDb, MailboxRow } from './index-db.js';
import { readLetters } from './keywords-io.js';
import { readLastUidValidity, writeLastUidValidity } from './uidvalidity-file.js';
import { curFileName, flagsOfFileName, mergeKeywords } from './message-flags.js';

/** A message about to get a UID. */
export interface NewMessage {
  readonly base: string;
  readonly fname: string;
  readonly inNew: boolean;
  readonly bits: number;
  readonly keywords: string;
  readonly vsize: number;
  readonly size: number;
  readonly idate: number | null;
  readonly itz: number | null;
  /** A UID the uidlist already gave this base (kept when it is not below the next UID). */
  readonly uid?: number;
  /** `uid` comes from the uidlist, read under its lock: kept when no row holds it. */
  readonly adopted?: boolean;
  readonly meta?: readonly (readonly [string, string])[];
}


/** A message's path from an index row: the name is checked to be one plain entry (the index may be tampered with). */
export function messagePath(dir: string, inNew: boolean | number, fname: string): string {
  return messageFilePath(dir, inNew ? 'new' : 'cur', fname);
}

/**
 * Strictly greater than every UIDVALIDITY this user had (remembered in the index and in the root's
 * dovecot-uidvalidity, read by the caller as `fileLast`), and at least the time.
 */
export function newUidValidity(db: IndexDb, fileLast: number, now = Date.now()): number {
  const last = Math.max(Number(db.meta('last_uidvalidity') ?? 0), fileLast);
  const value = Math.max(Math.floor(now / 1000), last + 1);
  db.setMeta.run('last_uidvalidity', String(value));
  return value;
}

function noteUidValidity(db: IndexDb, value: number): void {
  const last = Number(db.meta('last_uidvalidity') ?? 0);
  if (value > last) db.setMeta.run('last_uidvalidity', String(value));
}

/**
 * The folder's index row, made from its dovecot-uidlist when the index has none (a new index, a folder
 * made by hand or by Dovecot). Undefined — and any stale row dropped — when the folder's directory is gone.
 */
export async function ensureMailboxRow(db: IndexDb, root: string, name: string): Promise<MailboxRow | undefined> {
  const dir = folderDir(root, name);
  if (name !== INBOX && !(await isRealDirectory(dir))) {
    const stale = db.mailboxByName.get(name);
    if (stale !== undefined) dropMailboxRow(db, stale.id);
    return undefined;
  }
  const existing = db.mailboxByName.get(name);
  if (existing !== undefined) return existing;
  const uidlist = await readUidlistOrNothing(dir);
  const fileLast = await readLastUidValidity(root);
  let fresh: number | undefined;
  db.write(() => {
    if (db.mailboxByName.get(name) !== undefined) return;
    if (uidlist !== undefined) {
      noteUidValidity(db, uidlist.header.uidValidity);
      // The folder had an index row before (or Dovecot's index): its clients may hold MODSEQs of it, so
      // they restart above any it can have given out — the time in microseconds. Messages the uidlist
      // already lists were seen by someone: not \Recent again.
      db.insertMailbox.run(name, uidlist.header.uidValidity, uidlist.nextUid, Date.now() * 1000, uidlist.nextUid);
    } else {
      // A new UIDVALIDITY: nothing a client knows carries over, MODSEQs start at 1 as Dovecot's do.
      fresh = newUidValidity(db, fileLast);
      db.insertMailbox.run(name, fresh, 1, 1, 1);
    }
  });
  const made = db.mailboxByName.get(name);
  if (fresh !== undefined) {
    await writeLastUidValidity(root, fresh);
    await createUidlist(dir, fresh);
  } else if (uidlist !== undefined && uidlist.header.uidValidity > fileLast) {
    await writeLastUidValidity(root, uidlist.header.uidValidity);
  }
  return made;
}

/** A broken uidlist counts as none (Dovecot too rewrites it). */
async function readUidlistOrNothing(dir: string): Promise<Uidlist | undefined> {
  try {
    return await readUidlist(dir);
  } catch (err) {
    if (err instanceof UidlistError) return undefined;
    throw err;
  }
}

/**
 * The header of a new folder's uidlist — unless another process, having seen this row, already wrote the
 * file with UIDs in it meanwhile (it then wrote it from this row, with this UIDVALIDITY).
 */
async function createUidlist(dir: string, uidValidity: number): Promise<void> {
  const lock = await lockUidlist(dir);
  try {
    if ((await readUidlistOrNothing(dir)) === undefined) {
      await lock.rewrite({ header: { uidValidity, nextUid: 1, guid: newMailboxGuid(), extra: [] }, records: [] });
    }
  } finally {
    await lock.release();
  }
}

export function dropMailboxRow(db: IndexDb, id: number): void {
  db.write(() => {
    db.deleteMessages.run(id);
    db.deleteMailboxMeta.run(id);
    db.deleteMailbox.run(id);
  });
}

/**
 * Gives the messages UIDs and records them, holding the uidlist's lock across both so that two processes
 * append their lines in UID order (a uidlist out of order is broken for Dovecot). Dovecot's order: the UIDs
 * are decided, appended to the uidlist and fsynced, and only then are the rows committed (uid-grant.ts); a
 * crash in between leaves lines that the next sync adopts, never rows whose UIDs the uidlist lacks (Dovecot
 * would give them again). A uidlist removed meanwhile, or one that cannot be appended to, is written again
 * whole from the index and the new lines (uidlist-record.ts); when even that fails the rows are committed
 * with the folder marked for a rewrite, so the operation succeeds.
 *
 * Under the lock the uidlist is read again (its lines above this index's next UID: the file's end), as
 * Dovecot does: the uidlist, under its lock, is the authority for UIDs, and Dovecot's LDA and IMAP sharing
 * the Maildir give UIDs by appending to it. So no UID below its next UID is given anew; a message it lists
 * keeps its UID there; and the files it lists above this index's UIDs that `messages` lack (delivered by
 * Dovecot, in place before it let the lock go) are indexed now with those UIDs. On a folder's first scan
 * (`scan` given, the folder not scanned yet) the whole file is read: the UIDs it holds are the files' own,
 * also those another process's first fill gave just before it died (first-fill.ts). Otherwise a line below
 * the index's next UID is never adopted (Dovecot's rule): clients may have been told a higher UIDNEXT, and
 * the line may be that of a message expunged since. A line whose file is not found when read (a readdir
 * racing a rename, an expunged file) only raises the floor; when its file is seen later it gets a new UID
 * and a new line (Dovecot's reader takes a later line for the same file over the earlier one). A broken
 * uidlist, or one of another UIDVALIDITY, is written again from the index; a read that fails otherwise
 * fails the operation before any UID is given. `scan`: the sync's directory stamps, stored with the rows
 * (commitPlanned).
 */
export async function indexAndRecord(db: IndexDb, mailboxId: number, dir: string, messages: readonly NewMessage[], scan?: ScanStamps): Promise<InsertedUids> {
  const lock = await lockUidlist(dir);
  try {
    const row = db.mailboxById.get(mailboxId);
    if (row === undefined) return { uids: [], fresh: [] };
    const from = scan !== undefined && row.scanned_at === null ? 1 : row.uidnext;
    const read = await uidlistFrom(dir, from);
    // A uidlist of another UIDVALIDITY (put back from elsewhere, made anew by hand) says nothing of this
    // index's UIDs: neither adopted from nor a floor, and written again from the index like a broken one.
    const foreign = read !== undefined && read !== 'broken' && read.header.uidValidity !== row.uidvalidity;
    const listed = read === 'broken' || foreign ? undefined : read;
    const batch = await withListedUids(db, row, dir, messages, listed, from);
    const batchMessages = batch.map(([, m]) => m);
    const plan = planUids(db, mailboxId, batchMessages, listed?.nextUid ?? 0);
    if (plan === undefined) return { uids: [], fresh: [] };
    const records: { uid: number; base: string; extensions: string[] }[] = [];
    plan.uids.forEach((uid, i) => {
      if (plan.fresh[i] === true) records.push({ uid, base: batchMessages[i]!.base, extensions: [] });
    });
    // The lines first, fsynced; a broken or foreign file is written again whole (as Dovecot recreates it).
    const recorded = await recordUids(lock, db, mailboxId, records, read === 'broken' || foreign);
    let inserted: InsertedUids;
    try {
      inserted = commitPlanned(db, mailboxId, batchMessages, plan, scan, !recorded);
    } catch (err) {
      if (recorded) markLinesWithoutRows(err, records.map((r) => r.base));
      throw err;
    }
    if (inserted.uids.length !== batch.length) return inserted;
    // In the caller's order, without the files added from the uidlist.
    const uids = new Array<number>(messages.length);
    const fresh = new Array<boolean>(messages.length);
    batch.forEach(([at], i) => {
      if (at < 0) return;
      uids[at] = inserted.uids[i]!;
      fresh[at] = inserted.fresh[i]!;
    });
    return { uids, fresh };
  } finally {
    // The rows are committed (or the step failed on its own): a lock that cannot be removed now is logged,
    // not turned into a NO for a message that is stored (the lock goes stale; a dead holder's is broken).
    await lock.release().catch((err: unknown) => uidlistWarnings.get(db)?.(`dovecot-uidlist of ${dir}: letting its lock go failed (${String(err)})`));
  }
}

/**
 * The uidlist's lines from `fromUid` on and its next UID; undefined when it is missing, 'broken' when it is
 * no uidlist (or not a regular file): the files are indexed all the same and the file is rewritten from the
 * index (uidlist-record.ts), as Dovecot recreates a broken one. Any other failure to read it (EMFILE, EIO,
 * EACCES) is thrown before a UID is given: without the file's UIDs a first scan would give every file a new
 * UID under the same UIDVALIDITY, and an APPEND could give one Dovecot gave; the APPEND answers NO, the
 * delivery is retried, the sync runs again.
 */
async function uidlistFrom(dir: string, fromUid: number): Promise<Uidlist | 'broken' | undefined> {
  try {
    return await readUidlistFrom(dir, fromUid);
  } catch (err) {
    if (err instanceof UidlistError) return 'broken';
    throw err;
  }
}

/**
 * `messages` (with their positions) given the UIDs `listed` holds for their bases, plus (position -1) the
 * files of lines above the index's next UID that neither they nor the index have; the uidlist's UIDs
 * first, ascending (so none is below one given in the same batch), then the rest in the caller's order.
 * Only lines from `fromUid` on count (readUidlistFrom returns no others; kept here as the rule): one below
 * the index's next UID is never adopted outside a first scan (indexAndRecord). A line whose file is not
 * found is left to the floor.
 */
async function withListedUids(
  db: IndexDb,
  row: MailboxRow,
  dir: string,
  messages: readonly NewMessage[],
  listed: Uidlist | undefined,
  fromUid: number,
): Promise<[number, NewMessage][]> {
  const batch = messages.map((m, i): [number, NewMessage] => [i, m]);
  const lines = listed?.records.filter((r) => r.uid >= fromUid) ?? [];
  if (lines.length === 0) return batch;
  // A later line for the same base wins, as in Dovecot's reader (a file expunged and put back).
  const byBase = new Map(lines.map((r) => [r.base, r.uid] as const));
  const bases = new Set<string>();
  for (const entry of batch) {
    const m = entry[1];
    bases.add(m.base);
    const uid = byBase.get(m.base);
    if (uid !== undefined) entry[1] = { ...m, uid, adopted: true };
  }
  const others = lines.filter((r) => r.uid >= row.uidnext && byBase.get(r.base) === r.uid && !bases.has(r.base) && db.messageByBase.get(row.id, r.base) === undefined);
  if (others.length > 0) for (const m of await listedFiles(dir, others)) batch.push([-1, m]);
  const key = (m: NewMessage): number => (m.adopted === true ? m.uid! : Infinity);
  return batch.sort((a, b) => {
    const ka = key(a[1]);
    const kb = key(b[1]);
    return ka === kb ? 0 : ka < kb ? -1 : 1;
  });
}

/**
 * The files of uidlist lines, found by base in new/ (then cur/), as messages with the lines' UIDs; a file
 * gone is left out. One entry per base: a readdir racing a rename (a flag change in cur/, a move from new/)
 * can list a base twice, and two rows for one base fail the whole insert; cur/'s wins, as in the sync. The
 * same race can list a file in neither directory: a base not found is looked for again (lookAgain) before it
 * counts as gone, or a file Dovecot delivered would later get a new UID for one readdir's miss.
 */
async function listedFiles(dir: string, records: readonly { uid: number; base: string }[]): Promise<NewMessage[]> {
  const uids = new Map(records.map((r) => [r.base, r.uid] as const));
  const found = new Map<string, MaildirEntry>();
  for (const sub of ['new', 'cur'] as const) {
    if (found.size === uids.size) break;
    for (const e of await scanSubdir(dir, sub)) if (uids.has(e.base) && (sub === 'cur' || !found.has(e.base))) found.set(e.base, e);
  }
  if (found.size < uids.size) await lookAgain(dir, [...uids.keys()].filter((base) => !found.has(base)), found);
  return (await newMessagesOf(dir, [...found.values()], await readLetters(dir))).map((m) => ({ ...m, uid: uids.get(m.base)!, adopted: true }));
}

/**
 * Bases a listing missed, looked for once more into `found`: new/<base> itself (a delivered file has no
 * info part in new/), then cur/ read again (a move to cur/ or a flag rename there has landed by now).
 * `look`: which of the two may have changed since the listing (a directory whose mtime has not moved since
 * before it was read was listed whole).
 */
async function lookAgain(dir: string, bases: readonly string[], found: Map<string, MaildirEntry>, look = { new: true, cur: true }): Promise<void> {
  const missing = new Set(bases);
  if (look.new) for (const base of bases) {
    const entry = maildirEntryOf(base, 'new');
    if (entry === undefined || !(await isFileInNew(dir, base))) continue;
    found.set(base, entry);
    missing.delete(base);
  }
  if (missing.size === 0 || !look.cur) return;
  for (const e of await scanSubdir(dir, 'cur')) if (missing.has(e.base)) found.set(e.base, e);
}

/**
 * A deferred first fill's late files: those of uidlist lines (`bases`) its scan, made before the uidlist
 * was read under its lock, did not list — delivered by Dovecot meanwhile, or missed by a listing racing a
 * rename — looked for again (lookAgain) in the directories that moved since the scan's stamps (`newS`,
 * `curS`, taken before it), so they keep the uidlist's UIDs instead of getting new ones at the next sync.
 */
async function lateFiles(dir: string, bases: readonly string[], newS: string | null, curS: string | null): Promise<{ name: string; inNew: boolean }[]> {
  if (bases.length === 0) return [];
  const now = Date.now();
  const look = { new: !same(newS, stamp(dirStateSync(dir, 'new', now))), cur: !same(curS, stamp(dirStateSync(dir, 'cur', now))) };
  if (!look.new && !look.cur) return [];
  const found = new Map<string, MaildirEntry>();
  await lookAgain(dir, bases, found, look);
  return [...found.values()].map((e) => ({ name: e.fileName, inNew: e.dir === 'new' }));
}

/** Whether new/<name> is a regular file (a name that is no plain entry, from a tampered uidlist, is not). */
async function isFileInNew(dir: string, name: string): Promise<boolean> {
  try {
    return (await lstat(messagePath(dir, true, name))).isFile();
  } catch {
    return false;
  }
}

/**
 * Scanned files as messages to index: flags from the name (keyword letters through the folder's), sizes
 * from S=/W= or, for a name without them (a file another program dropped), read once; a file gone or not a
 * regular file after all is left out.
 */
async function newMessagesOf(dir: string, entries: readonly MaildirEntry[], letters: readonly string[]): Promise<NewMessage[]> {
  const unmeasured = entries.filter((found) => found.size === undefined || found.vsize === undefined);
  const measuredFiles = await inBatches(unmeasured, (found) => measureMessageFile(messagePath(dir, found.dir === 'new', found.fileName)));
  const measured = new Map(unmeasured.map((found, i) => [found.base, measuredFiles[i]] as const));
  const out: NewMessage[] = [];
  for (const { base, fileName: fname, dir: sub, size, vsize, flags } of entries) {
    const sizes = size !== undefined && vsize !== undefined ? { size, vsize } : measured.get(base);
    if (sizes === undefined) continue;
    const keywords = keywordsOfLetters(flags.keywords, letters);
    out.push({ base, fname, inNew: sub === 'new', bits: flags.system, keywords, vsize: sizes.vsize, size: sizes.size, idate: null, itz: null });
  }
  return out;
}

/**
 * Entries in arrival order of their bases: `<secs>.M<usecs>` numerically when both names have it, else by
 * name; each name's numbers parsed once (by hand, no match object per name), not per comparison.
 */
function sortByArrival(entries: readonly MaildirEntry[]): MaildirEntry[] {
  const n = entries.length;
  const secs = new Float64Array(n);
  const usecs = new Float64Array(n);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    arrivalInto(entries[i]!.base, secs, usecs, i);
    order[i] = i;
  }
  order.sort((a, b) => {
    const sa = secs[a] as number;
    const sb = secs[b] as number;
    if (sa >= 0 && sb >= 0) {
      const d = sa - sb || (usecs[a] as number) - (usecs[b] as number);
      if (d !== 0) return d;
    }
    const na = entries[a]!.base;
    const nb = entries[b]!.base;
    return na < nb ? -1 : na > nb ? 1 : 0;
  });
  const out = new Array<MaildirEntry>(n);
  for (let i = 0; i < n; i++) out[i] = entries[order[i] as number]!;
  return out;
}

/**
 * A scan's entries, each base once: a base found in both new/ and cur/ (another process moving it during the
 * scan) is taken from cur/, which has the flags. Only new/'s bases (few) go into a set, not every name.
 */
function onePerBase(entries: readonly MaildirEntry[]): MaildirEntry[] {
  const inNew = new Set<string>();
  for (const e of entries) if (e.dir === 'new') inNew.add(e.base);
  if (inNew.size === 0) return entries.slice();
  const inBoth = new Set<string>();
  for (const e of entries) if (e.dir === 'cur' && inNew.has(e.base)) inBoth.add(e.base);
  const seen = new Set<string>();
  return entries.filter((e) => {
    if (e.dir === 'new') {
      if (inBoth.has(e.base) || seen.has(e.base)) return false;
      seen.add(e.base);
    }
    return true;
  });
}

/** The numbers of a name starting `<digits>.M<digits>` ([-1, 0] when it does not): what /^(\d+)\.M(\d+)/ takes. */
export function arrivalKey(name: string): [secs: number, usecs: number] {
  const secs = new Float64Array(1);
  const usecs = new Float64Array(1);
  arrivalInto(name, secs, usecs, 0);
  return [secs[0] as number, usecs[0] as number];
}

/** arrivalKey written into `secs[i]` and `usecs[i]` (no array per name). */
function arrivalInto(name: string, secs: Float64Array, usecs: Float64Array, i: number): void {
  let a = 0;
  while (a < name.length && isDigit(name.charCodeAt(a))) a++;
  let b = a + 2;
  if (a > 0 && name.charCodeAt(a) === 0x2e && name.charCodeAt(a + 1) === 0x4d) while (b < name.length && isDigit(name.charCodeAt(b))) b++;
  if (b === a + 2) {
    secs[i] = -1;
    usecs[i] = 0;
    return;
  }
  secs[i] = Number(name.slice(0, a));
  usecs[i] = Number(name.slice(a + 2, b));
}

/** The keyword names of a name's letters through the folder's dovecot-keywords, sorted, each once ('' for none). */
function keywordsOfLetters(letters: string, names: readonly string[]): string {
  if (letters === '') return '';
  const named = new Set<string>();
  for (let i = 0; i < letters.length; i++) {
    const keyword = names[letters.charCodeAt(i) - 0x61];
    if (keyword !== undefined && keyword !== '') named.add(keyword);
  }
  return [...named].sort().join(' ');
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export interface SyncOptions {
  /** Move files from new/ to cur/ (a read-write session has seen them, as Dovecot does at SELECT). */
  readonly toCur: boolean;
  /** Scan even when the directories look unchanged. */
  readonly force?: boolean;
  /**
   * Takes a large first fill's pending rows (first-fill.ts): the caller answers, then runs them before its
   * next step. Without it every row is written before syncMailbox returns.
   */
  readonly deferFill?: (fill: FirstFill) => void;
}

/** Brings one folder's index rows up to date with its files; true when anything changed. */
export async function syncMailbox(db: IndexDb, root: string, row: MailboxRow, options: SyncOptions): Promise<boolean> {
  const dir = folderDir(root, row.name);
  await repairUidlist(db, dir, row.id);
  const scannedAt = Date.now();
  const newState = dirStateSync(dir, 'new', scannedAt);
  const curState = dirStateSync(dir, 'cur', scannedAt);
  const newS = stamp(newState);
  const curS = stamp(curState);
  const unchanged = options.force !== true && row.scanned_at !== null && same(row.new_mtime, newS) && same(row.cur_mtime, curS);
  if (unchanged && !(options.toCur && (db.inNewCount.get(row.id)?.n ?? 0) > 0)) return false;

  const firstScan = row.scanned_at === null;
  // Only new/ moved (mail delivered by another process): cur/ is not read, its rows are left as they are.
  const newOnly = !firstScan && options.force !== true && same(row.cur_mtime, curS);
  // A large folder the index has no rows for: its UIDs recorded now; its moves to cur/ and its rows right
  // after the answer (first-fill.ts), from a scan into columns (first-scan.ts).
  // The scan (which reads every file whose name lacks S=/W=: minutes for a Maildir from Courier) runs
  // outside the uidlist's lock, which others wait for only 30 s; the uidlist is then read whole under the
  // lock, held until the UIDs are reserved, and its UIDs laid over the scan (cheap): another process's
  // first fill may have appended its UIDs meanwhile and died before its rows (they are the files' UIDs),
  // and Dovecot may have delivered a file the scan missed: the files of lines the scan did not list are
  // looked for again (lateFiles) and keep their lines' UIDs; a line whose file is not found only raises
  // the floor.
  if (options.deferFill !== undefined && firstScan && (db.countOf.get(row.id) ?? 0) === 0) {
    const letters = await readLetters(dir);
    const scanned = await scanColumns(dir, new Map(), letters);
    if (scanned.n >= DEFER_FILL_FROM) {
      const lock = await lockUidlist(dir);
      let handedOver = false;
      try {
        const listed = await readUidlist(dir).catch((err: unknown) => {
          if (err instanceof UidlistError) return 'broken' as const;
          throw err;
        });
        // A broken one (a directory or FIFO in its place too) or one of another UIDVALIDITY goes the usual
        // way below, which gives no UIDs from it and writes it again from the index (never appends to it).
        if (listed !== 'broken' && (listed === undefined || listed.header.uidValidity === row.uidvalidity)) {
          const adopt = new Map(listed?.records.map((r) => [r.base, r.uid] as const));
          const late = await lateFiles(dir, unlistedBases(scanned, adopt), newS, curS);
          const columns = withAdopted(await withLateFiles(scanned, dir, late, letters), adopt);
          handedOver = true;
          const stamps = { newStamp: newS, curStamp: curS, scannedAt };
          const fill = await reserveFirstFill(db, row.id, lock, columns, listed?.nextUid ?? 0, stamps, options.toCur ? letters : undefined);
          if (fill === 'written') return true;
          if (fill !== undefined) {
            options.deferFill(fill);
            return true;
          }
        }
      } finally {
        if (!handedOver) await lock.release();
      }
    }
  }
  const scan = newOnly ? { entries: await scanSubdir(dir, 'new') } : await scanMaildir(dir, { nowMs: scannedAt });
  const indexed = newOnly ? db.messageFilesInNew.all(row.id) : db.messageFiles.all(row.id);

  let letters: string[] | undefined;
  const lettersOf = async (): Promise<string[]> => (letters ??= await readLetters(dir));

  const expunged: number[] = [];
  const relocated: [uid: number, fname: string, inNew: boolean][] = [];
  const reflagged: [uid: number, fname: string, inNew: boolean, bits: number, keywords: string][] = [];
  const toMove: [uid: number, from: string, to: string, bits: number, keywords: string][] = [];
  // The files the index does not know. With no rows to match (a folder's first fill) that is every file,
  // without a map of 100,000 names.
  let unknown: MaildirEntry[];
  if (indexed.length === 0) unknown = onePerBase(scan.entries);
  else {
    // The scan's entries themselves (no object per file made again).
    const disk = new Map<string, MaildirEntry>();
    // A base in both new/ and cur/ (another process moving it during the scan): cur/ wins, it has the flags.
    for (const e of scan.entries) {
      if (e.dir === 'new' && disk.has(e.base)) continue;
      disk.set(e.base, e);
    }
    for (const [uid, base, fname, rowInNew, bits, keywords] of indexed) {
      const found = disk.get(base);
      if (found === undefined) {
        expunged.push(uid);
        continue;
      }
      disk.delete(base);
      const foundInNew = found.dir === 'new';
      if (found.fileName === fname && foundInNew === (rowInNew === 1)) {
        if (options.toCur && foundInNew) toMove.push([uid, fname, curFileName(base, bits, keywords, await lettersOf()), bits, keywords]);
        continue;
      }
      const flags = flagsOfFileName(found.fileName, await lettersOf());
      const merged = mergeKeywords(flags.named, keywords, await lettersOf());
      // A file still in new/ carries no flags: the index's stand (set before it was moved) is kept.
      if (foundInNew && found.info === undefined) relocated.push([uid, found.fileName, true]);
      else if (flags.bits !== bits || merged !== keywords) reflagged.push([uid, found.fileName, foundInNew, flags.bits, merged]);
      else relocated.push([uid, found.fileName, foundInNew]);
    }
    unknown = [...disk.values()];
  }

  // In a new/-only scan a base still listed in new/ may be indexed in cur/ (moved meanwhile): not new.
  if (newOnly) unknown = unknown.filter((e) => db.messageByBase.get(row.id, e.base) === undefined);
  // Files the index does not know, in arrival order; the UIDs the uidlist has for them are looked up under
  // its lock (indexAndRecord).
  const fresh = sortByArrival(unknown);
  const added = await newMessagesOf(dir, fresh, fresh.length > 0 ? await lettersOf() : []);

  let storeNew = newS;
  let storeCur = curS;
  if (options.toCur && (toMove.length > 0 || added.some((m) => m.inNew))) {
    ({ storeNew, storeCur } = await moveNewToCur(dir, added, toMove, relocated, newS, curS, lettersOf));
  }

  if (expunged.length + relocated.length + reflagged.length + added.length === 0) {
    db.setMailboxScan.run(storeNew, storeCur, scannedAt, row.id);
    return false;
  }
  db.write(() => {
    const current = db.mailboxById.get(row.id);
    if (current === undefined) return;
    let modseq = current.highest_modseq;
    for (const uid of expunged) {
      if (db.deleteMessage.run(row.id, uid).changes > 0) modseq++;
      db.deleteMessageMeta.run(row.id, uid);
    }
    for (const [uid, fname, isNew] of relocated) db.updateMessageFile.run(fname, isNew ? 1 : 0, row.id, uid);
    for (const [uid, fname, isNew, bits, keywords] of reflagged) db.updateMessageFlags.run(fname, isNew ? 1 : 0, bits, keywords, ++modseq, row.id, uid);
    db.setMailboxCounters.run(current.uidnext, modseq, current.recent_floor, row.id);
    // With new files, the folder counts as scanned once they have their UIDs (in the same transaction).
    if (added.length === 0) db.setMailboxScan.run(storeNew, storeCur, scannedAt, row.id);
  });
  if (added.length > 0) {
    await indexAndRecord(db, row.id, dir, added, { newStamp: storeNew, curStamp: storeCur, scannedAt });
  }
  return true;
}

/**
 * A read-write sync's moves of new/ files to cur/ (a client has seen them, as Dovecot does at SELECT):
 * `added` entries and `toMove` rows (indexed files still in new/, put in `relocated` once moved). The
 * directory stamps to store: our own moves must not make the next sync read cur/ again, so when the
 * directories were still as scanned just before them, the stamps after them are kept (with the scan's
 * dirty marks).
 */
export async function moveNewToCur(
  dir: string,
  added: NewMessage[],
  toMove: readonly [uid: number, from: string, to: string, bits: number, keywords: string][],
  relocated: [uid: number, fname: string, inNew: boolean][],
  newS: string | null,
  curS: string | null,
  lettersOf: () => Promise<string[]>,
): Promise<{ storeNew: string | null; storeCur: string | null }> {
  return stampsAcrossMoves(dir, newS, curS, async () => {
    const lettersNow = await lettersOf();
    const moving = added.flatMap((m, i) =>
      m.inNew ? [[i, m, splitMaildirFileName(m.fname).info === undefined ? curFileName(m.base, m.bits, m.keywords, lettersNow) : m.fname] as const] : [],
    );
    const movedNew = await inBatches(moving, ([, m, to]) => rename(messagePath(dir, true, m.fname), messagePath(dir, false, to)).then(() => true, goneIsFalse));
    moving.forEach(([i, m, to], k) => {
      if (movedNew[k] === true) added[i] = { ...m, fname: to, inNew: false };
    });
    const movedOld = await inBatches(toMove, ([, from, to]) => rename(messagePath(dir, true, from), messagePath(dir, false, to)).then(() => true, goneIsFalse));
    toMove.forEach(([uid, , to], i) => {
      if (movedOld[i] === true) relocated.push([uid, to, false]);
    });
  });
}

/** The info-part letters Dovecot does not map (e.g. 'P') of a file name, kept across renames. */
export function otherLetters(fname: string): string {
  return parseMaildirInfo(splitMaildirFileName(fname).info).other;
}
