/**
 * One session's handle on one Maildir folder. Every call first brings the index up to date with the files
 * (index-sync.ts; two stats when nothing changed), then answers from the index: SELECT never opens a
 * message file, and SELECT of a folder nothing changed in hands out the message list the user's handles
 * share (list-cache.ts) instead of reading every row. Mutations are file operations first (a flag change
 * is a rename, COPY a hard link under a new name, MOVE a rename into the other folder, EXPUNGE an unlink),
 * then one index transaction, then an announcement to the other handles in this process; other processes'
 * changes reach a watching handle through fs.watch on the folder's new/ and cur/. The handle remembers the
 * UIDs its client knows, so changesSince can tell new messages from changed ones and report expunges, as
 * the memory store does.
 */
import { denseRange } from './uid-range.js';
import { watch, type FSWatcher } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { openMessageFile, fsyncDir } from '../maildir/safe-fs.js';
import { readSmallFileSync } from '../maildir/read-small-sync.js';
import { goneIsFalse, inBatches } from './batches.js';
import { announce, listen, mailboxKey } from './change-hub.js';
import { folderDir, validName } from './folder-dirs.js';
import type { MailboxRow, MessageRow } from './index-db.js';
import { ownChange } from './dir-stamps.js';
import { messagePath, otherLetters, syncMailbox, type NewMessage } from './index-sync.js';
import { indexedFiles, READ_SLICE_MS, readFiles } from './content-scan.js';
import { addKeywords, readLetters } from './keywords-io.js';
import {
  MailboxError,
  type ChangeSet,
  type CopyResult,
  type FlagOp,
  type Mailbox,
  type MailboxSnapshot,
  type MailboxStatus,
  type MessageContent,
  type MessageDetails,
  type MessageRecord,
  type MetaKind,
  type RecordColumns,
} from './mailbox-store.js';
import { bulkKind, cachedRecords, cachedRecordsContaining, saveCachedRecords } from './search-cache.js';
import { curFileName, DELETED_BIT, keywordList, toFlags, toIndexFlags } from './message-flags.js';
import { contentOf, placeFile } from './message-files.js';
import { newMessageBase } from './message-names.js';
import { checkQuota } from './quota.js';
import { CachedList, currentList } from './list-cache.js';
import type { FirstFill } from './first-fill.js';
import { EMPTY_LIST, lowerBound, pickColumns, positionOf, snapshotOf } from './message-list.js';
import { claimRecent, currentUsage, indexWritten, requireRow, type UserContext } from './user-context.js';

function recordOf(row: MessageRow): MessageRecord {
  return { uid: row.uid, flags: toFlags(row.flags, row.keywords), modseq: row.modseq, vsize: row.vsize };
}

const WATCH_DEBOUNCE_MS = 20;
/** readSmall looks up this many messages' files at a time. */
const READ_GROUP = 64;

/** readSmall reads files up to SLAB_FILE_MAX bytes into views of SLAB-byte buffers. */
const SLAB = 256 * 1024;
const SLAB_FILE_MAX = 32 * 1024;


/** The values of ascending `before` that are not in ascending `after`. */
function missingFrom(before: readonly number[], after: readonly number[]): number[] {
  const out: number[] = [];
  let j = 0;
  for (const uid of before) {
    j = lowerBound(after, uid, j);
    if (after[j] !== uid) out.push(uid);
  }
  return out;
}

export class MaildirMailbox implements Mailbox {
  /** The UIDs this handle's client knows, ascending (a list's array, shared: replaced, never changed). */
  private known: readonly number[] = [];
  private lastHighest = 0;
  private lastUidNext = 1;
  private readonly listeners = new Set<() => void>();
  private readonly unlisten = new Map<() => void, () => void>();
  private watchers: FSWatcher[] = [];
  private debounce: NodeJS.Timeout | undefined;
  private closed = false;
  /** A first fill's rows, given UIDs by this step's sync, to write once the step has answered. */
  private fill: FirstFill | undefined;
  readonly uidValidity: number;
  private readonly key: string;

  constructor(
    private readonly ctx: UserContext,
    private readonly id: number,
    private lastName: string,
    readonly readOnly: boolean,
    uidValidity: number,
    private readonly onClose: () => void,
  ) {
    this.uidValidity = uidValidity;
    this.key = mailboxKey(ctx.state.root, id);
  }

  get name(): string {
    return this.lastName;
  }

  private get db() {
    return this.ctx.state.db;
  }

  /**
   * The row (renames followed), undefined once the folder is deleted. A row of another UIDVALIDITY is
   * another folder: SQLite gives a deleted folder's id to the next one created (no AUTOINCREMENT), and
   * UIDVALIDITY is never changed in place, so this handle's UIDs name nothing there.
   */
  private row(): MailboxRow | undefined {
    const row = this.db.mailboxById.get(this.id);
    if (row === undefined || row.uidvalidity !== this.uidValidity) return undefined;
    this.lastName = row.name;
    return row;
  }

  private dir(row: MailboxRow): string {
    return folderDir(this.ctx.state.root, row.name);
  }

  /**
   * Brings the folder's rows up to date. Only SELECT/EXAMINE (`snapshot`, through `exclusive`, which writes
   * the rows after its answer) may leave a first fill pending: every other step reads or changes rows right
   * after syncing, and one run outside `exclusive` (a RENAME of INBOX) would leave the uidlist locked.
   */
  private async synced(defer = false): Promise<MailboxRow | undefined> {
    const row = this.row();
    if (row === undefined) return undefined;
    const deferFill = defer
      ? (fill: FirstFill): void => {
          this.fill = fill;
        }
      : undefined;
    if (await syncMailbox(this.db, this.ctx.state.root, row, { toCur: !this.readOnly, deferFill })) announce(this.key);
    const after = this.row();
    // A first fill's rows come after the answer: the folder's list is the fill's, not read back from them.
    if (this.fill !== undefined && after !== undefined) this.ctx.state.lists.set(this.id, CachedList.ofFill(after, this.fill));
    return after;
  }

  /**
   * Runs `step` under the user's mutex. A first fill that `step` left pending (synced) is written after
   * `step`'s result is handed back but before the mutex goes: the caller answers its client first, and
   * every later step, of this handle or another, finds the rows written.
   */
  private exclusive<T>(step: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new MailboxError('CANNOT', 'Mailbox handle is closed'));
    return new Promise<T>((resolve, reject) => {
      void this.ctx.state.exclusive(async () => {
        try {
          resolve(await step());
        } catch (err) {
          reject(err);
        }
        const fill = this.fill;
        if (fill === undefined) return;
        this.fill = undefined;
        // After the promise callbacks that write the answer (they run before any immediate).
        await new Promise<void>((done) => setImmediate(done));
        if (!(await fill.run())) this.ctx.state.lists.delete(this.id);
      });
    });
  }

  private writable(): void {
    if (this.readOnly) throw new MailboxError('NOPERM', 'Mailbox is read-only');
  }

  snapshot(): Promise<MailboxSnapshot> {
    return this.exclusive(async () => {
      if ((await this.synced(true)) === undefined) throw new MailboxError('NONEXISTENT', `Mailbox doesn't exist: ${this.lastName}`);
      const current = currentList(this.db, this.ctx.state.lists, this.id);
      if (current === undefined) throw new MailboxError('NONEXISTENT', `Mailbox doesn't exist: ${this.lastName}`);
      const { row, list: cached } = current;
      const list = cached.share();
      const status: MailboxStatus = {
        uidValidity: row.uidvalidity,
        uidNext: row.uidnext,
        highestModseq: row.highest_modseq,
        messages: list.uids.length,
        recent: cached.countFrom(row.recent_floor),
        unseen: cached.unseen,
        size: cached.size,
        keywords: keywordList(row.keywords),
      };
      const recent = this.readOnly ? [] : claimRecent(this.ctx, this.id, cached);
      this.known = list.uids;
      this.lastHighest = row.highest_modseq;
      this.lastUidNext = row.uidnext;
      return snapshotOf(list, status, recent);
    });
  }

  changesSince(modseq: number): Promise<ChangeSet> {
    return this.exclusive(async () => {
      const synced = await this.synced();
      // The rows changed and the current list in one read transaction, so they agree.
      const found =
        synced === undefined
          ? undefined
          : this.db.db.transaction(() => {
              const current = currentList(this.db, this.ctx.state.lists, this.id);
              return current === undefined ? undefined : { ...current, rows: this.db.messagesSince.all(this.id, Math.min(modseq, this.lastHighest)) };
            })();
      if (found === undefined) {
        const expunged = [...this.known];
        this.known = [];
        return { highestModseq: this.lastHighest, uidNext: this.lastUidNext, added: [], changed: [], expunged, recent: [] };
      }
      const { row, list, rows } = found;
      const added: MessageRecord[] = [];
      const changed: MessageRecord[] = [];
      // Everything added since this handle last looked has a MODSEQ above what it saw then.
      for (const r of rows) {
        if (positionOf(this.known, r.uid) < 0) added.push(recordOf(r));
        else if (r.modseq > modseq) changed.push(recordOf(r));
      }
      let expunged: number[] = [];
      if (list.uids.length - added.length !== this.known.length) expunged = missingFrom(this.known, list.uids);
      if (added.length > 0 || expunged.length > 0) this.known = list.share().uids;
      const recent = this.readOnly ? [] : claimRecent(this.ctx, this.id);
      this.lastHighest = row.highest_modseq;
      this.lastUidNext = row.uidnext;
      return { highestModseq: row.highest_modseq, uidNext: row.uidnext, added, changed, expunged, recent };
    });
  }

  records(uids: readonly number[]): Promise<RecordColumns> {
    return this.exclusive(() => {
      const current = currentList(this.db, this.ctx.state.lists, this.id);
      return Promise.resolve(current === undefined ? EMPTY_LIST : pickColumns(current.list.peek(), uids));
    });
  }

  /** The index rows of `uids` (in the order given, absent ones left out): a range scan when they are dense. */
  private rowsOf(uids: readonly number[]): MessageRow[] {
    const rows: MessageRow[] = [];
    if (uids.length === 0) return rows;
    let lo = uids[0]!;
    let hi = lo;
    for (const uid of uids) {
      if (uid < lo) lo = uid;
      if (uid > hi) hi = uid;
    }
    if (uids.length < 8 || hi - lo > uids.length * 4) {
      for (const uid of uids) {
        const r = this.db.messageByUid.get(this.id, uid);
        if (r !== undefined) rows.push(r);
      }
      return rows;
    }
    const byUid = new Map<number, MessageRow>();
    for (const r of this.db.messagesBetween.iterate(this.id, lo, hi)) byUid.set(r.uid, r);
    for (const uid of uids) {
      const r = byUid.get(uid);
      if (r !== undefined) rows.push(r);
    }
    return rows;
  }

  details(uids: readonly number[]): Promise<readonly MessageDetails[]> {
    return this.exclusive(async () => {
      const row = this.row();
      if (row === undefined) return [];
      const dir = this.dir(row);
      const rows = this.rowsOf(uids);
      // The internal date is the file's mtime; read once and kept in the index.
      const undated = rows.filter((r) => r.idate === null);
      const stamps = await inBatches(undated, (r) =>
        stat(messagePath(dir, r.in_new, r.fname)).then(
          (s) => Math.floor(s.mtimeMs),
          () => undefined,
        ),
      );
      const dates = new Map<number, number>();
      if (undated.length > 0) {
        this.db.write(() => {
          undated.forEach((r, i) => {
            const ms = stamps[i];
            if (ms === undefined) return;
            dates.set(r.uid, ms);
            this.db.setMessageDate.run(ms, -new Date(ms).getTimezoneOffset(), this.id, r.uid);
          });
        });
      }
      return rows.map((r) => {
        const ms = r.idate ?? dates.get(r.uid) ?? Date.now();
        return { ...recordOf(r), size: r.size, internalDate: { ms, tzMinutes: r.itz ?? -new Date(ms).getTimezoneOffset() } };
      });
    });
  }

  openContent(uid: number): Promise<MessageContent | undefined> {
    return this.exclusive(async () => {
      for (let attempt = 0; attempt < 2; attempt++) {
        const row = this.row();
        const r = this.db.messageByUid.get(this.id, uid);
        if (row === undefined || r === undefined) return undefined;
        const opened = await openMessageFile(messagePath(this.dir(row), r.in_new, r.fname));
        if (opened !== undefined) return contentOf(opened.handle, opened.stat.size);
        // Renamed (flags) or removed by another process: the next sync knows which.
        await syncMailbox(this.db, this.ctx.state.root, row, { toCur: false, force: true });
      }
      return undefined;
    });
  }

  async readSmall(uids: readonly number[], maxSize: number): Promise<ReadonlyMap<number, Buffer>> {
    const out = new Map<number, Buffer>();
    // small files share slabs: one memory block per SLAB bytes instead of one per message (a thousand
    // blocks of a few kB outside the heap each make work for the GC); larger ones get their own
    let slab = Buffer.alloc(0);
    let slabAt = 0;
    const alloc = (size: number): Buffer => {
      if (size > SLAB_FILE_MAX) return Buffer.allocUnsafe(size);
      if (slabAt + size > slab.length) {
        slab = Buffer.allocUnsafe(SLAB);
        slabAt = 0;
      }
      slabAt += size;
      return slab.subarray(slabAt - size, slabAt);
    };
    let next = 0;
    while (next < uids.length) {
      // blocking reads (read-small-sync.ts) for at most READ_SLICE_MS at a time, then the other sessions' turn
      next = await this.exclusive(() => {
        const row = this.row();
        if (row === undefined) return Promise.resolve(uids.length);
        const dir = this.dir(row);
        const until = performance.now() + READ_SLICE_MS;
        let i = next;
        let files = this.filesOf(uids.slice(i, i + READ_GROUP));
        let groupEnd = i + READ_GROUP;
        do {
          if (i === groupEnd) {
            files = this.filesOf(uids.slice(i, i + READ_GROUP));
            groupEnd = i + READ_GROUP;
          }
          const uid = uids[i++]!;
          const file = files.get(uid);
          if (file === undefined || file[2] > maxSize) continue;
          // renamed by another process meanwhile: left out, openContent syncs and finds it
          const bytes = readSmallFileSync(messagePath(dir, file[1], file[0]), maxSize, alloc);
          if (bytes !== undefined) out.set(uid, bytes);
        } while (i < uids.length && performance.now() < until);
        return Promise.resolve(i);
      });
      if (next < uids.length) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return out;
  }

  /** The files of those of `uids` that exist: one range scan when they lie close together. */
  private filesOf(uids: readonly number[]): Map<number, readonly [fname: string, inNew: number, size: number]> {
    const out = new Map<number, readonly [string, number, number]>();
    const range = denseRange(uids);
    if (range !== undefined) {
      const wanted = new Set(uids);
      for (const [uid, fname, inNew, size] of this.db.filesInRange.iterate(this.id, range[0], range[1])) if (wanted.has(uid)) out.set(uid, [fname, inNew, size]);
      return out;
    }
    for (const uid of uids) {
      const r = this.db.messageByUid.get(this.id, uid);
      if (r !== undefined) out.set(uid, [r.fname, r.in_new, r.size]);
    }
    return out;
  }

  async scanContent(uids: readonly number[], each: (uid: number, stored: Buffer) => void): Promise<void> {
    const files = await this.exclusive(() => {
      const row = this.row();
      return Promise.resolve(row === undefined ? [] : indexedFiles(this.db, this.id, this.dir(row), uids));
    });
    // a name gone since the index saw it: openContent syncs and finds the file's new name, if any
    for (const uid of await readFiles(files, each)) {
      const content = await this.openContent(uid);
      if (content === undefined) continue;
      try {
        each(uid, await content.readAll());
      } finally {
        await content.close();
      }
    }
  }

  meta(uids: readonly number[], kind: MetaKind): Promise<ReadonlyMap<number, string>> {
    return this.exclusive(() => {
      if (bulkKind(kind)) return Promise.resolve(cachedRecords(this.db, this.id, kind, uids));
      const out = new Map<number, string>();
      const range = denseRange(uids);
      if (range !== undefined) {
        // many UIDs close together (FETCH 1:1000): one range scan, the rows not asked for skipped
        const wanted = new Set(uids);
        for (const [uid, value] of this.db.metaRange.iterate(this.id, range[0], range[1], kind)) if (wanted.has(uid)) out.set(uid, value);
        return Promise.resolve(out);
      }
      for (const uid of uids) {
        const value = this.db.getMessageMeta.get(this.id, uid, kind)?.value;
        if (value !== undefined) out.set(uid, value);
      }
      return Promise.resolve(out);
    });
  }

  metaContaining(uids: readonly number[], kind: MetaKind, text: string): Promise<{ readonly found: ReadonlyMap<number, string>; readonly missing: readonly number[] }> {
    if (bulkKind(kind)) return this.exclusive(() => Promise.resolve(cachedRecordsContaining(this.db, this.id, kind, uids, text)));
    return this.meta(uids, kind).then((all) => {
      const found = new Map<number, string>();
      const missing: number[] = [];
      for (const uid of uids) {
        const value = all.get(uid);
        if (value === undefined) missing.push(uid);
        else if (value.includes(text)) found.set(uid, value);
      }
      return { found, missing };
    });
  }

  saveMeta(kind: MetaKind, entries: ReadonlyMap<number, string>): Promise<void> {
    return this.exclusive(() => {
      // a save that waited (FETCH's after its reply) may find the folder deleted, or deleted and made
      // again under this id: its texts belong to none of that folder's messages
      if (this.row() === undefined) return Promise.resolve();
      if (bulkKind(kind)) {
        saveCachedRecords(this.db, this.id, kind, entries);
        return Promise.resolve();
      }
      this.db.writeDerived(() => {
        // only for messages still here: an expunged one's data would outlive it
        const present = this.filesOf([...entries.keys()]);
        for (const [uid, value] of entries) if (present.has(uid)) this.db.putMessageMeta.run(this.id, uid, kind, value);
      });
      return Promise.resolve();
    });
  }

  setFlags(
    uids: readonly number[],
    op: FlagOp,
    options: { readonly unchangedSince?: number } = {},
  ): Promise<{ readonly updated: readonly MessageRecord[]; readonly modified: readonly number[] }> {
    return this.exclusive(async () => {
      this.writable();
      const row = await this.synced();
      if (row === undefined) throw new MailboxError('NONEXISTENT', `Mailbox doesn't exist: ${this.lastName}`);
      const dir = this.dir(row);
      const given = toIndexFlags(op.flags);
      const givenKeywords = keywordList(given.keywords);
      const modified: number[] = [];
      const plan: { r: MessageRow; bits: number; keywords: string; changed: boolean }[] = [];
      for (const uid of uids) {
        const r = this.db.messageByUid.get(this.id, uid);
        if (r === undefined) continue;
        if (options.unchangedSince !== undefined && r.modseq > options.unchangedSince) {
          modified.push(uid);
          continue;
        }
        let bits = r.flags;
        let kw = new Set(keywordList(r.keywords));
        if (op.mode === 'replace') {
          bits = given.bits;
          kw = new Set(givenKeywords);
        } else if (op.mode === 'add') {
          bits |= given.bits;
          for (const k of givenKeywords) kw.add(k);
        } else {
          bits &= ~given.bits;
          for (const k of givenKeywords) kw.delete(k);
        }
        const keywords = [...kw].sort().join(' ');
        plan.push({ r, bits, keywords, changed: bits !== r.flags || keywords !== r.keywords });
      }
      const changing = plan.filter((p) => p.changed);
      let letters = await readLetters(dir);
      const wanted = new Set(changing.flatMap((p) => keywordList(p.keywords)));
      if ([...wanted].some((k) => !letters.includes(k))) letters = await addKeywords(dir, [...wanted].sort());
      const targets = changing.map((p) => curFileName(p.r.base, p.bits, p.keywords, letters, otherLetters(p.r.fname)));
      const updated: MessageRecord[] = [];
      const byUid = new Map<number, MessageRecord>();
      await ownChange(this.db, this.id, dir, async () => {
        const done = await inBatches(
          changing.map((p, i) => [p, targets[i] as string] as const),
          ([p, to]) =>
            p.r.in_new === 0 && to === p.r.fname
              ? Promise.resolve(true)
              : rename(messagePath(dir, p.r.in_new, p.r.fname), messagePath(dir, false, to)).then(() => true, goneIsFalse),
        );
        this.db.write(() => {
          const current = this.db.mailboxById.get(this.id);
          if (current === undefined) return;
          let modseq = current.highest_modseq;
          changing.forEach((p, i) => {
            if (done[i] !== true) return;
            this.db.updateMessageFlags.run(targets[i] as string, 0, p.bits, p.keywords, ++modseq, this.id, p.r.uid);
            byUid.set(p.r.uid, { uid: p.r.uid, flags: toFlags(p.bits, p.keywords), modseq, vsize: p.r.vsize });
          });
          const all = new Set([...keywordList(current.keywords), ...givenKeywords]);
          if (all.size !== keywordList(current.keywords).length) this.db.setMailboxKeywords.run([...all].sort().join(' '), this.id);
          this.db.setMailboxCounters.run(current.uidnext, modseq, current.recent_floor, this.id);
        });
      });
      for (const p of plan) {
        if (!p.changed) updated.push(recordOf(p.r));
        else {
          const rec = byUid.get(p.r.uid);
          if (rec !== undefined) updated.push(rec);
        }
      }
      if (byUid.size > 0) announce(this.key);
      return { updated, modified };
    });
  }

  copy(uids: readonly number[], to: string): Promise<CopyResult> {
    return this.exclusive(() => this.transferHeld(uids, to, false));
  }

  move(uids: readonly number[], to: string): Promise<CopyResult> {
    return this.exclusive(() => {
      this.writable();
      return this.transferHeld(uids, to, true);
    });
  }

  /**
   * COPY (hard links under new names, quota checked) or MOVE (renames, no quota: usage does not grow). The
   * caller holds the user's mutex (renaming INBOX calls it from inside its own step).
   */
  async transferHeld(uids: readonly number[], to: string, moving: boolean): Promise<CopyResult> {
    const targetName = validName(to);
    const target = await requireRow(this.ctx, targetName);
    const row = await this.synced();
    if (row === undefined) throw new MailboxError('NONEXISTENT', `Mailbox doesn't exist: ${this.lastName}`);
    const sources: MessageRow[] = [];
    for (const uid of uids) {
      const r = this.db.messageByUid.get(this.id, uid);
      if (r !== undefined) sources.push(r);
    }
    if (!moving && sources.length > 0) {
      const used = await currentUsage(this.ctx);
      checkQuota(
        used,
        this.ctx.settings.limits,
        sources.reduce((sum, r) => sum + r.vsize, 0),
        sources.length,
      );
    }
    const fromDir = this.dir(row);
    const toDir = folderDir(this.ctx.state.root, target.name);
    const keywords = [...new Set(sources.flatMap((r) => keywordList(r.keywords)))].sort();
    const letters = keywords.length > 0 ? await addKeywords(toDir, keywords) : await readLetters(toDir);
    const names = sources.map((r) => {
      const base = newMessageBase(this.ctx.settings.hostname, r.size, r.vsize);
      return { base, fname: curFileName(base, r.flags, r.keywords, letters, otherLetters(r.fname)) };
    });
    let kept: MessageRow[] = [];
    let newUids: readonly number[] = [];
    const work = async (): Promise<void> => {
      const placed = await inBatches(
        sources.map((r, i) => [r, names[i] as { base: string; fname: string }] as const),
        ([r, n]) => placeFile(messagePath(fromDir, r.in_new, r.fname), messagePath(toDir, false, n.fname), moving),
      );
      if (sources.length > 0) {
        await fsyncDir(join(toDir, 'cur'));
        if (moving) await Promise.all([fsyncDir(join(fromDir, 'cur')), fsyncDir(join(fromDir, 'new'))]);
      }
      kept = sources.filter((_, i) => placed[i] === true);
      const messages: NewMessage[] = [];
      sources.forEach((r, i) => {
        if (placed[i] !== true) return;
        const n = names[i] as { base: string; fname: string };
        messages.push({
          base: n.base,
          fname: n.fname,
          inNew: false,
          bits: r.flags,
          keywords: r.keywords,
          vsize: r.vsize,
          size: r.size,
          idate: r.idate,
          itz: r.itz,
          meta: this.db.metaOf.all(this.id, r.uid),
        });
      });
      newUids = messages.length > 0 ? await indexWritten(this.ctx, target, messages) : [];
      if (moving && kept.length > 0) {
        this.db.write(() => {
          const current = this.db.mailboxById.get(this.id);
          if (current === undefined) return;
          let modseq = current.highest_modseq;
          for (const r of kept) {
            if (this.db.deleteMessage.run(this.id, r.uid).changes > 0) modseq++;
            this.db.deleteMessageMeta.run(this.id, r.uid);
          }
          this.db.setMailboxCounters.run(current.uidnext, modseq, current.recent_floor, this.id);
        });
        announce(this.key);
      }
    };
    const inTarget = (): Promise<void> => ownChange(this.db, target.id, toDir, work);
    await (moving && target.id !== this.id ? ownChange(this.db, this.id, fromDir, inTarget) : inTarget());
    const after = this.db.mailboxById.get(target.id);
    return { uidValidity: after?.uidvalidity ?? target.uidvalidity, pairs: kept.map((r, i) => [r.uid, newUids[i] as number] as const) };
  }

  expunge(uids?: readonly number[]): Promise<readonly number[]> {
    return this.exclusive(async () => {
      this.writable();
      const row = await this.synced();
      if (row === undefined) throw new MailboxError('NONEXISTENT', `Mailbox doesn't exist: ${this.lastName}`);
      const only = uids === undefined ? undefined : new Set(uids);
      const doomed = this.db.deletedFiles.all(this.id, DELETED_BIT).filter(([uid]) => only === undefined || only.has(uid));
      if (doomed.length === 0) return [];
      const dir = this.dir(row);
      const removed: number[] = [];
      await ownChange(this.db, this.id, dir, async () => {
        await inBatches(doomed, ([, fname, inNew]) => unlink(messagePath(dir, inNew, fname)).catch(goneIsFalse));
        await Promise.all([fsyncDir(join(dir, 'cur')), fsyncDir(join(dir, 'new'))]);
        this.db.write(() => {
          const current = this.db.mailboxById.get(this.id);
          if (current === undefined) return;
          let modseq = current.highest_modseq;
          for (const [uid] of doomed) {
            if (this.db.deleteMessage.run(this.id, uid).changes === 0) continue;
            this.db.deleteMessageMeta.run(this.id, uid);
            modseq++;
            removed.push(uid);
          }
          this.db.setMailboxCounters.run(current.uidnext, modseq, current.recent_floor, this.id);
        });
      });
      if (removed.length > 0) announce(this.key);
      return removed;
    });
  }

  watch(listener: () => void): () => void {
    this.listeners.add(listener);
    this.unlisten.set(listener, listen(this.key, listener));
    if (this.watchers.length === 0 && !this.closed) this.startWatching();
    return () => {
      this.listeners.delete(listener);
      this.unlisten.get(listener)?.();
      this.unlisten.delete(listener);
      if (this.listeners.size === 0) this.stopWatching();
    };
  }

  /** Other processes' changes (Dovecot, a mail client's own Maildir access, another Mailgate) show as directory events. */
  private startWatching(): void {
    const row = this.row();
    if (row === undefined) return;
    const fire = (): void => {
      if (this.debounce !== undefined) return;
      this.debounce = setTimeout(() => {
        this.debounce = undefined;
        for (const listener of [...this.listeners]) listener();
      }, WATCH_DEBOUNCE_MS);
    };
    for (const sub of ['new', 'cur']) {
      try {
        const watcher = watch(join(this.dir(row), sub), { persistent: false }, fire);
        watcher.on('error', () => undefined);
        this.watchers.push(watcher);
      } catch {
        // The directory is gone or inotify is out of watches: the next command's sync still sees changes.
      }
    }
  }

  private stopWatching(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
    if (this.debounce !== undefined) clearTimeout(this.debounce);
    this.debounce = undefined;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const off of this.unlisten.values()) off();
    this.unlisten.clear();
    this.listeners.clear();
    this.stopWatching();
    this.onClose();
    return Promise.resolve();
  }
}
