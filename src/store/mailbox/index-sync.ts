/**
 * Index ↔ files for one folder. The files are the truth for which messages exist and for their flags; the
 * index for UIDs, MODSEQs and what names cannot hold. A sync reads new/ and cur/ (skipped when both
 * directories' mtimes are what the last scan saw and that scan was more than 2 seconds after them —
 * Dovecot's rule, since an mtime has coarse granularity on some file systems) and reconciles: a file not in
 * the index gets the next UID (in file-name order, i.e. arrival order); an indexed file that is gone is
 * expunged; one renamed to other `:2,` letters has its flags changed. Sizes come from the name's S=/W=;
 * only a name without them (a file dropped by another program) is read once to count its line ends. Every
 * UID given out is appended to dovecot-uidlist, so Dovecot sees the same UIDs and a lost index gets them
 * back. File operations come first, the index commit second: a crash in between is repaired by the next
 * sync (the file wins).
 */
import { readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseMaildirInfo, splitMaildirFileName, maildirNameSizes } from '../maildir/maildir-info.js';
import { isRealDirectory, openMessageFile } from '../maildir/safe-fs.js';
import { goneIsFalse, inBatches } from './batches.js';
import { INBOX, folderDir } from './folder-dirs.js';
import type { IndexDb, MailboxRow } from './index-db.js';
import { readKeywords } from './keywords-io.js';
import { curFileName, flagsOfFileName, keywordList, mergeKeywords } from './message-flags.js';
import { appendUidlist, newGuid, readUidlist, writeUidlist } from './uidlist-io.js';

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
  readonly meta?: readonly (readonly [string, string])[];
}

const DIRTY_MS = 2000;

export function messagePath(dir: string, inNew: boolean | number, fname: string): string {
  return join(dir, inNew ? 'new' : 'cur', fname);
}

/** Strictly greater than every UIDVALIDITY this user had (remembered in the index), at least the time. */
export function newUidValidity(db: IndexDb, now = Date.now()): number {
  const last = Number(db.meta('last_uidvalidity') ?? 0);
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
  const uidlist = await readUidlist(dir);
  let made: MailboxRow | undefined;
  let fresh: number | undefined;
  db.write(() => {
    if (db.mailboxByName.get(name) !== undefined) return;
    const modseq = Date.now() * 1000;
    if (uidlist !== undefined) {
      noteUidValidity(db, uidlist.uidValidity);
      // Messages the uidlist already lists were seen by someone: not \Recent again.
      db.insertMailbox.run(name, uidlist.uidValidity, uidlist.nextUid, modseq, uidlist.nextUid);
    } else {
      fresh = newUidValidity(db);
      db.insertMailbox.run(name, fresh, 1, modseq, 1);
    }
  });
  made = db.mailboxByName.get(name);
  if (fresh !== undefined) await writeUidlist(dir, fresh, 1, newGuid(), []);
  return made;
}

export function dropMailboxRow(db: IndexDb, id: number): void {
  db.write(() => {
    db.deleteMessages.run(id);
    db.deleteMailboxMeta.run(id);
    db.deleteMailbox.run(id);
  });
}

/** Gives UIDs (and MODSEQs) to `messages`, in order, inside one transaction; their UIDs. */
export function insertMessages(db: IndexDb, mailboxId: number, messages: readonly NewMessage[]): InsertedUids {
  return db.write(() => {
    const row = db.mailboxById.get(mailboxId);
    if (row === undefined) return { uids: [], fresh: [] };
    let next = row.uidnext;
    let modseq = row.highest_modseq;
    const keywords = new Set(keywordList(row.keywords));
    const before = keywords.size;
    const uids: number[] = [];
    const fresh: boolean[] = [];
    for (const m of messages) {
      // Another process may have indexed the same file meanwhile: it keeps the UID it got there.
      const known = db.messageByBase.get(mailboxId, m.base);
      if (known !== undefined) {
        uids.push(known.uid);
        fresh.push(false);
        continue;
      }
      const uid = m.uid !== undefined && m.uid >= next ? m.uid : next;
      next = uid + 1;
      db.insertMessage.run(mailboxId, uid, m.base, m.fname, m.inNew ? 1 : 0, m.bits, m.keywords, m.vsize, m.size, m.idate, m.itz, ++modseq);
      for (const [kind, value] of m.meta ?? []) db.putMessageMeta.run(mailboxId, uid, kind, value);
      for (const k of keywordList(m.keywords)) keywords.add(k);
      uids.push(uid);
      fresh.push(true);
    }
    db.setMailboxCounters.run(next, modseq, row.recent_floor, mailboxId);
    if (keywords.size !== before) db.setMailboxKeywords.run([...keywords].sort().join(' '), mailboxId);
    return { uids, fresh };
  });
}

export interface InsertedUids {
  readonly uids: readonly number[];
  /** False where another process had already indexed the file (its UID is in `uids`). */
  readonly fresh: readonly boolean[];
}

/** Records the UIDs just given out in the folder's uidlist. */
export async function recordUids(dir: string, uidValidity: number, inserted: InsertedUids, messages: readonly NewMessage[]): Promise<void> {
  const lines: (readonly [number, string])[] = [];
  inserted.uids.forEach((uid, i) => {
    if (inserted.fresh[i] === true) lines.push([uid, (messages[i] as NewMessage).base]);
  });
  await appendUidlist(dir, uidValidity, lines);
}

/** Arrival order of Maildir names: `<secs>.M<usecs>` numerically when both have it, else by name. */
export function compareMaildirNames(a: string, b: string): number {
  const ma = /^(\d+)\.M(\d+)/.exec(a);
  const mb = /^(\d+)\.M(\d+)/.exec(b);
  if (ma !== null && mb !== null) {
    const d = Number(ma[1]) - Number(mb[1]) || Number(ma[2]) - Number(mb[2]);
    if (d !== 0) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

async function listMessages(dir: string, sub: 'new' | 'cur'): Promise<string[]> {
  try {
    const entries = await readdir(join(dir, sub), { withFileTypes: true });
    const out: string[] = [];
    // Symlinks, directories, FIFOs and dot files are never messages.
    for (const e of entries) if (e.isFile() && !e.name.startsWith('.')) out.push(e.name);
    return out;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function mtimeOf(path: string): Promise<bigint | undefined> {
  try {
    return (await stat(path, { bigint: true })).mtimeNs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Size on disk and with CRLF line ends of a file whose name does not say: read once (O_NOFOLLOW). */
async function measure(path: string): Promise<{ size: number; vsize: number; mtimeMs: number } | undefined> {
  const opened = await openMessageFile(path);
  if (opened === undefined) return undefined;
  try {
    let size = 0;
    let bareLf = 0;
    let prev = -1;
    const buf = Buffer.allocUnsafe(65536);
    for (;;) {
      const { bytesRead } = await opened.handle.read(buf, 0, buf.length, size);
      if (bytesRead === 0) break;
      for (let i = buf.indexOf(10, 0); i !== -1 && i < bytesRead; i = buf.indexOf(10, i + 1)) {
        const before = i === 0 ? prev : buf[i - 1];
        if (before !== 13) bareLf++;
      }
      prev = buf[bytesRead - 1] as number;
      size += bytesRead;
    }
    return { size, vsize: size + bareLf, mtimeMs: opened.stat.mtimeMs };
  } finally {
    await opened.handle.close();
  }
}

export interface SyncOptions {
  /** Move files from new/ to cur/ (a read-write session has seen them, as Dovecot does at SELECT). */
  readonly toCur: boolean;
  /** Scan even when the directories look unchanged. */
  readonly force?: boolean;
}

/** Brings one folder's index rows up to date with its files; true when anything changed. */
export async function syncMailbox(db: IndexDb, root: string, row: MailboxRow, options: SyncOptions): Promise<boolean> {
  const dir = folderDir(root, row.name);
  const scannedAt = Date.now();
  const [newM, curM] = await Promise.all([mtimeOf(join(dir, 'new')), mtimeOf(join(dir, 'cur'))]);
  const newS = newM === undefined ? null : String(newM);
  const curS = curM === undefined ? null : String(curM);
  const latestMs = Number((newM ?? 0n) > (curM ?? 0n) ? (newM ?? 0n) : (curM ?? 0n)) / 1e6;
  const unchanged =
    options.force !== true && row.scanned_at !== null && newS === row.new_mtime && curS === row.cur_mtime && row.scanned_at - latestMs > DIRTY_MS;
  if (unchanged && !(options.toCur && (db.inNewCount.get(row.id)?.n ?? 0) > 0)) return false;

  const firstScan = row.scanned_at === null;
  const [inNew, inCur] = await Promise.all([listMessages(dir, 'new'), listMessages(dir, 'cur')]);
  const disk = new Map<string, { fname: string; inNew: boolean }>();
  for (const fname of inNew) disk.set(splitMaildirFileName(fname).base, { fname, inNew: true });
  // A base in both (a crash between a copy and an unlink elsewhere): cur/ wins, it has the flags.
  for (const fname of inCur) disk.set(splitMaildirFileName(fname).base, { fname, inNew: false });

  let letters: string[] | undefined;
  const lettersOf = async (): Promise<string[]> => (letters ??= await readKeywords(dir));

  const expunged: number[] = [];
  const relocated: [uid: number, fname: string, inNew: boolean][] = [];
  const reflagged: [uid: number, fname: string, inNew: boolean, bits: number, keywords: string][] = [];
  const toMove: [uid: number, from: string, to: string, bits: number, keywords: string][] = [];
  for (const [uid, base, fname, rowInNew, bits, keywords] of db.messageFiles.all(row.id)) {
    const found = disk.get(base);
    if (found === undefined) {
      expunged.push(uid);
      continue;
    }
    disk.delete(base);
    if (found.fname === fname && found.inNew === (rowInNew === 1)) {
      if (options.toCur && found.inNew) toMove.push([uid, fname, curFileName(base, bits, keywords, await lettersOf()), bits, keywords]);
      continue;
    }
    const flags = flagsOfFileName(found.fname, await lettersOf());
    const merged = mergeKeywords(flags.named, keywords, await lettersOf());
    // A file still in new/ carries no flags: the index's stand (set before it was moved) is kept.
    if (found.inNew && splitMaildirFileName(found.fname).info === undefined) relocated.push([uid, found.fname, true]);
    else if (flags.bits !== bits || merged !== keywords) reflagged.push([uid, found.fname, found.inNew, flags.bits, merged]);
    else relocated.push([uid, found.fname, found.inNew]);
  }

  // Files the index does not know, in arrival order; UIDs from the uidlist on a folder's first scan.
  const adopt = firstScan ? (await readUidlist(dir))?.uids : undefined;
  const fresh = [...disk].sort((a, b) => compareMaildirNames(a[0], b[0]));
  const measured = await inBatches(fresh, async ([, { fname, inNew: isNew }]) => {
    const named = maildirNameSizes(fname);
    if (named.size !== undefined && named.vsize !== undefined) return { size: named.size, vsize: named.vsize, mtimeMs: null };
    return measure(messagePath(dir, isNew, fname));
  });
  const added: NewMessage[] = [];
  for (let i = 0; i < fresh.length; i++) {
    const [base, { fname, inNew: isNew }] = fresh[i] as [string, { fname: string; inNew: boolean }];
    const sizes = measured[i];
    if (sizes === undefined) continue; // gone or not a regular file after all
    const flags = flagsOfFileName(fname, await lettersOf());
    const uid = adopt?.get(base);
    added.push({
      base,
      fname,
      inNew: isNew,
      bits: flags.bits,
      keywords: [...new Set(flags.named)].sort().join(' '),
      vsize: sizes.vsize,
      size: sizes.size,
      idate: sizes.mtimeMs === null ? null : Math.floor(sizes.mtimeMs),
      itz: null,
      ...(uid === undefined ? {} : { uid }),
    });
  }
  // UIDs the uidlist gave come first (ascending), so none is below one handed out in this sync.
  added.sort((a, b) => (a.uid ?? Infinity) - (b.uid ?? Infinity));

  if (options.toCur) {
    const lettersNow = await lettersOf();
    const moving = added.flatMap((m, i) =>
      m.inNew ? [[i, m, splitMaildirFileName(m.fname).info === undefined ? curFileName(m.base, m.bits, m.keywords, lettersNow) : m.fname] as const] : [],
    );
    const movedNew = await inBatches(moving, ([, m, to]) => rename(messagePath(dir, true, m.fname), messagePath(dir, false, to)).then(() => true, goneIsFalse));
    moving.forEach(([i, m, to], k) => {
      if (movedNew[k] === true) added[i] = { ...m, fname: to, inNew: false };
    });
    const movedOld = await inBatches(toMove, ([, from, to]) =>
      rename(messagePath(dir, true, from), messagePath(dir, false, to)).then(() => true, goneIsFalse),
    );
    toMove.forEach(([uid, , to], i) => {
      if (movedOld[i] === true) relocated.push([uid, to, false]);
    });
  }

  if (expunged.length + relocated.length + reflagged.length + added.length === 0) {
    db.setMailboxScan.run(newS, curS, scannedAt, row.id);
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
    db.setMailboxScan.run(newS, curS, scannedAt, row.id);
  });
  if (added.length > 0) {
    await recordUids(dir, row.uidvalidity, insertMessages(db, row.id, added), added);
  }
  return true;
}

/** The info-part letters Dovecot does not map (e.g. 'P') of a file name, kept across renames. */
export function otherLetters(fname: string): string {
  return parseMaildirInfo(splitMaildirFileName(fname).info).other;
}
