/**
 * The per-user index of a Maildir: `<maildir>/mailgate-index.sqlite` (better-sqlite3, WAL, created 0600).
 * It holds what the files cannot say cheaply — UIDs, MODSEQs, the \Recent floor, keywords past the 26
 * letters a name can carry, cached vsizes and derived data (message_meta; what SEARCH reads for many
 * messages at once in search_cache, keyed for UID-range reads of one kind, its rows dropped by triggers
 * when their message or mailbox goes) — and is rebuilt from the files and
 * dovecot-uidlist when it is lost (index-rebuild.ts). One row per message, narrow, so that SELECT of a
 * large mailbox is one indexed scan; every statement is prepared once here.
 */
import Database from 'better-sqlite3';
import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';

export const INDEX_FILE = 'mailgate-index.sqlite';
/** SQLite's default wal_autocheckpoint. */
const AUTOCHECKPOINT_PAGES = 1000;
/** How long after a bulk write its checkpoint runs (deferCheckpoint). */
const CHECKPOINT_DELAY_MS = 1000;
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mailbox (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  uidvalidity INTEGER NOT NULL,
  uidnext INTEGER NOT NULL,
  highest_modseq INTEGER NOT NULL,
  recent_floor INTEGER NOT NULL,
  keywords TEXT NOT NULL DEFAULT '',
  new_mtime TEXT,
  cur_mtime TEXT,
  scanned_at INTEGER
);
CREATE TABLE IF NOT EXISTS message (
  mailbox INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  base TEXT NOT NULL,
  fname TEXT NOT NULL,
  in_new INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  keywords TEXT NOT NULL,
  vsize INTEGER NOT NULL,
  size INTEGER NOT NULL,
  idate INTEGER,
  itz INTEGER,
  modseq INTEGER NOT NULL,
  PRIMARY KEY (mailbox, uid)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS message_base ON message (mailbox, base);
CREATE INDEX IF NOT EXISTS message_modseq ON message (mailbox, modseq);
-- Few rows are in new/ at any time: "any left in new/?" at every SELECT reads this, not every row.
CREATE INDEX IF NOT EXISTS message_in_new ON message (mailbox) WHERE in_new = 1;
CREATE TABLE IF NOT EXISTS lock (
  name TEXT PRIMARY KEY, owner TEXT NOT NULL, pid INTEGER NOT NULL, heartbeat INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS message_meta (
  mailbox INTEGER NOT NULL, uid INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (mailbox, uid, kind)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS search_cache (
  mailbox INTEGER NOT NULL, kind TEXT NOT NULL, uid INTEGER NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (mailbox, kind, uid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS search_cache_kind (mailbox INTEGER NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (mailbox, kind)) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS search_cache_message_gone AFTER DELETE ON message BEGIN
  DELETE FROM search_cache WHERE mailbox = old.mailbox AND kind IN (SELECT kind FROM search_cache_kind WHERE mailbox = old.mailbox) AND uid = old.uid;
END;
CREATE TRIGGER IF NOT EXISTS search_cache_mailbox_gone AFTER DELETE ON mailbox BEGIN
  DELETE FROM search_cache WHERE mailbox = old.id;
  DELETE FROM search_cache_kind WHERE mailbox = old.id;
END;
`;

export interface MailboxRow {
  readonly id: number;
  readonly name: string;
  readonly uidvalidity: number;
  readonly uidnext: number;
  readonly highest_modseq: number;
  readonly recent_floor: number;
  /** Keywords ever used here, space-separated. */
  readonly keywords: string;
  readonly new_mtime: string | null;
  readonly cur_mtime: string | null;
  readonly scanned_at: number | null;
}

export interface MessageRow {
  readonly uid: number;
  /** The name before ':' (with ,S= ,W=): the message's identity across flag renames. */
  readonly base: string;
  /** The file's whole name in new/ or cur/. */
  readonly fname: string;
  readonly in_new: number;
  /** System flag bits (maildir-info FLAG_BITS). */
  readonly flags: number;
  /** Keywords, space-separated, sorted ('' when none). */
  readonly keywords: string;
  readonly vsize: number;
  readonly size: number;
  readonly idate: number | null;
  readonly itz: number | null;
  readonly modseq: number;
}

/**
 * A new index file is made with its final mode (0600) before SQLite opens it; SQLite gives -wal/-shm the
 * same. True when this call made it (empty).
 */
function createPrivate(path: string): boolean {
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  }
}

/** Opens (creating when missing) and checks the index; throws when the file is not a usable index. */
export function openIndexDb(maildir: string): IndexDb {
  const path = join(maildir, INDEX_FILE);
  const made = createPrivate(path);
  const db = new Database(path, { timeout: 2000 });
  try {
    db.pragma('journal_mode = WAL');
    // FULL: a UID handed out (APPENDUID) is on disk when the commit returns.
    db.pragma('synchronous = FULL');
    // A file this call made is empty: nothing to check (the check reads every page of an existing one).
    // Another process may have made it a moment before and be writing it: it is checked as any other.
    if (!made) {
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`index ${path} failed its check: ${String(check)}`);
    }
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new Error(`index ${path} has schema ${version}, newer than this program's`);
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    return new IndexDb(db, path);
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The connection and its prepared statements. */
export class IndexDb {
  readonly getMeta: Database.Statement<[string], { value: string }>;
  readonly setMeta: Database.Statement<[string, string], unknown>;
  readonly mailboxes: Database.Statement<[], MailboxRow>;
  readonly mailboxByName: Database.Statement<[string], MailboxRow>;
  readonly mailboxById: Database.Statement<[number], MailboxRow>;
  readonly inNewCount: Database.Statement<[number], { n: number }>;
  readonly uidsOf: Database.Statement<[number], number>;
  readonly messageByBase: Database.Statement<[number, string], { uid: number }>;
  readonly basesOf: Database.Statement<[number], [string, number]>;
  readonly insertMailbox: Database.Statement<[string, number, number, number, number], unknown>;
  readonly deleteMailbox: Database.Statement<[number], unknown>;
  readonly renameMailbox: Database.Statement<[string, number], unknown>;
  readonly setMailboxCounters: Database.Statement<[number, number, number, number], unknown>;
  readonly setMailboxScan: Database.Statement<[string | null, string | null, number | null, number], unknown>;
  readonly setMailboxKeywords: Database.Statement<[string, number], unknown>;
  readonly messages: Database.Statement<[number], MessageRow>;
  readonly messageFiles: Database.Statement<[number], [number, string, string, number, number, string]>;
  readonly messageFilesInNew: Database.Statement<[number], [number, string, string, number, number, string]>;
  readonly messagesSince: Database.Statement<[number, number], MessageRow>;
  readonly messageByUid: Database.Statement<[number, number], MessageRow>;
  readonly messagesBetween: Database.Statement<[number, number, number], MessageRow>;
  readonly insertMessage: Database.Statement<[number, number, string, string, number, number, string, number, number, number | null, number | null, number], unknown>;
  readonly updateMessageFile: Database.Statement<[string, number, number, number], unknown>;
  readonly updateMessageFlags: Database.Statement<[string, number, number, string, number, number, number], unknown>;
  readonly setMessageDate: Database.Statement<[number, number, number, number], unknown>;
  readonly deleteMessage: Database.Statement<[number, number], unknown>;
  readonly deleteMessages: Database.Statement<[number], unknown>;
  readonly deleteMessageMeta: Database.Statement<[number, number], unknown>;
  readonly deleteMailboxMeta: Database.Statement<[number], unknown>;
  readonly counts: Database.Statement<[number, number, number], { messages: number; unseen: number; size: number; recent: number }>;
  readonly usage: Database.Statement<[], { bytes: number; messages: number }>;
  readonly records: Database.Statement<[number], [number, number, string, number, number]>;
  readonly countOf: Database.Statement<[number], number>;
  readonly recordsSince: Database.Statement<[number, number], [number, number, string, number, number]>;
  readonly getLock: Database.Statement<[string], { owner: string; pid: number; heartbeat: number }>;
  readonly putLock: Database.Statement<[string, string, number, number], unknown>;
  readonly touchLock: Database.Statement<[number, string, string], unknown>;
  readonly dropLock: Database.Statement<[string, string], unknown>;
  readonly uidsFrom: Database.Statement<[number, number], number>;
  readonly deletedFiles: Database.Statement<[number, number], [number, string, number]>;
  readonly metaOf: Database.Statement<[number, number], [string, string]>;
  readonly getMessageMeta: Database.Statement<[number, number, string], { value: string }>;
  /** One kind's meta over a UID range (a FETCH of many messages: one scan, not a lookup each). */
  readonly metaRange: Database.Statement<[number, number, number, string], [number, string]>;
  /** The files of the messages in a UID range: uid, fname, in_new, size (readSmall, saveMeta's check). */
  readonly filesInRange: Database.Statement<[number, number, number], [number, string, number, number]>;
  readonly putMessageMeta: Database.Statement<[number, number, string, string], unknown>;
  readonly cacheRange: Database.Statement<[number, string, number, number], [number, string]>;
  readonly cacheOf: Database.Statement<[number, string, number], string>;
  readonly cacheRangeContaining: Database.Statement<[number, string, number, number, string], [number, string]>;
  readonly cacheRangeUids: Database.Statement<[number, string, number, number], number>;
  readonly putCache: Database.Statement<[number, string, number, string], unknown>;
  readonly addCacheKind: Database.Statement<[number, string], unknown>;
  readonly hasMessage: Database.Statement<[number, number], number>;

  constructor(
    readonly db: Database.Database,
    readonly path: string,
  ) {
    this.getMeta = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
    this.setMeta = db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.mailboxes = db.prepare<[], MailboxRow>('SELECT * FROM mailbox ORDER BY name');
    this.mailboxByName = db.prepare<[string], MailboxRow>('SELECT * FROM mailbox WHERE name = ?');
    this.mailboxById = db.prepare<[number], MailboxRow>('SELECT * FROM mailbox WHERE id = ?');
    this.inNewCount = db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM message INDEXED BY message_in_new WHERE mailbox = ? AND in_new = 1');
    this.uidsOf = db.prepare<[number], number>('SELECT uid FROM message WHERE mailbox = ? ORDER BY uid').pluck();
    this.messageByBase = db.prepare<[number, string], { uid: number }>('SELECT uid FROM message WHERE mailbox = ? AND base = ?');
    this.basesOf = db.prepare<[number], [string, number]>('SELECT base, uid FROM message WHERE mailbox = ?').raw();
    this.insertMailbox = db.prepare<[string, number, number, number, number]>(
      'INSERT INTO mailbox (name, uidvalidity, uidnext, highest_modseq, recent_floor) VALUES (?, ?, ?, ?, ?)',
    );
    this.deleteMailbox = db.prepare<[number]>('DELETE FROM mailbox WHERE id = ?');
    this.renameMailbox = db.prepare<[string, number]>('UPDATE mailbox SET name = ? WHERE id = ?');
    this.setMailboxCounters = db.prepare<[number, number, number, number]>(
      'UPDATE mailbox SET uidnext = ?, highest_modseq = ?, recent_floor = ? WHERE id = ?',
    );
    this.setMailboxScan = db.prepare<[string | null, string | null, number | null, number]>(
      'UPDATE mailbox SET new_mtime = ?, cur_mtime = ?, scanned_at = ? WHERE id = ?',
    );
    this.setMailboxKeywords = db.prepare<[string, number]>('UPDATE mailbox SET keywords = ? WHERE id = ?');
    this.messages = db.prepare<[number], MessageRow>('SELECT * FROM message WHERE mailbox = ? ORDER BY uid');
    this.messageFiles = db
      .prepare<[number], [number, string, string, number, number, string]>('SELECT uid, base, fname, in_new, flags, keywords FROM message WHERE mailbox = ?')
      .raw();
    this.messageFilesInNew = db
      .prepare<[number], [number, string, string, number, number, string]>(
        'SELECT uid, base, fname, in_new, flags, keywords FROM message WHERE mailbox = ? AND in_new = 1',
      )
      .raw();
    this.messagesSince = db.prepare<[number, number], MessageRow>('SELECT * FROM message WHERE mailbox = ? AND modseq > ? ORDER BY uid');
    this.messageByUid = db.prepare<[number, number], MessageRow>('SELECT * FROM message WHERE mailbox = ? AND uid = ?');
    this.messagesBetween = db.prepare<[number, number, number], MessageRow>('SELECT * FROM message WHERE mailbox = ? AND uid BETWEEN ? AND ?');
    this.insertMessage = db.prepare<[number, number, string, string, number, number, string, number, number, number | null, number | null, number]>(
      'INSERT INTO message (mailbox, uid, base, fname, in_new, flags, keywords, vsize, size, idate, itz, modseq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.updateMessageFile = db.prepare<[string, number, number, number]>('UPDATE message SET fname = ?, in_new = ? WHERE mailbox = ? AND uid = ?');
    this.updateMessageFlags = db.prepare<[string, number, number, string, number, number, number]>(
      'UPDATE message SET fname = ?, in_new = ?, flags = ?, keywords = ?, modseq = ? WHERE mailbox = ? AND uid = ?',
    );
    this.setMessageDate = db.prepare<[number, number, number, number]>('UPDATE message SET idate = ?, itz = ? WHERE mailbox = ? AND uid = ?');
    this.deleteMessage = db.prepare<[number, number]>('DELETE FROM message WHERE mailbox = ? AND uid = ?');
    this.deleteMessages = db.prepare<[number]>('DELETE FROM message WHERE mailbox = ?');
    this.deleteMessageMeta = db.prepare<[number, number]>('DELETE FROM message_meta WHERE mailbox = ? AND uid = ?');
    this.deleteMailboxMeta = db.prepare<[number]>('DELETE FROM message_meta WHERE mailbox = ?');
    this.counts = db.prepare<[number, number, number], { messages: number; unseen: number; size: number; recent: number }>(
      'SELECT count(*) AS messages, coalesce(sum((flags & ?) = 0), 0) AS unseen, coalesce(sum(vsize), 0) AS size, coalesce(sum(uid >= ?), 0) AS recent FROM message WHERE mailbox = ?',
    );
    this.usage = db.prepare<[], { bytes: number; messages: number }>('SELECT coalesce(sum(vsize), 0) AS bytes, count(*) AS messages FROM message');
    this.records = db
      .prepare<[number], [number, number, string, number, number]>('SELECT uid, flags, keywords, modseq, vsize FROM message WHERE mailbox = ? ORDER BY uid')
      .raw();
    this.recordsSince = db
      .prepare<[number, number], [number, number, string, number, number]>(
        'SELECT uid, flags, keywords, modseq, vsize FROM message WHERE mailbox = ? AND modseq > ? ORDER BY uid',
      )
      .raw();
    this.countOf = db.prepare<[number], number>('SELECT count(*) FROM message WHERE mailbox = ?').pluck();
    this.getLock = db.prepare<[string], { owner: string; pid: number; heartbeat: number }>('SELECT owner, pid, heartbeat FROM lock WHERE name = ?');
    this.putLock = db.prepare<[string, string, number, number]>(
      'INSERT INTO lock (name, owner, pid, heartbeat) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, heartbeat = excluded.heartbeat',
    );
    this.touchLock = db.prepare<[number, string, string]>('UPDATE lock SET heartbeat = ? WHERE name = ? AND owner = ?');
    this.dropLock = db.prepare<[string, string]>('DELETE FROM lock WHERE name = ? AND owner = ?');
    this.uidsFrom = db.prepare<[number, number], number>('SELECT uid FROM message WHERE mailbox = ? AND uid >= ? ORDER BY uid').pluck();
    this.deletedFiles = db
      .prepare<[number, number], [number, string, number]>('SELECT uid, fname, in_new FROM message WHERE mailbox = ? AND (flags & ?) != 0 ORDER BY uid')
      .raw();
    this.metaOf = db.prepare<[number, number], [string, string]>('SELECT kind, value FROM message_meta WHERE mailbox = ? AND uid = ?').raw();
    this.getMessageMeta = db.prepare<[number, number, string], { value: string }>('SELECT value FROM message_meta WHERE mailbox = ? AND uid = ? AND kind = ?');
    this.metaRange = db.prepare<[number, number, number, string], [number, string]>('SELECT uid, value FROM message_meta WHERE mailbox = ? AND uid BETWEEN ? AND ? AND kind = ?').raw();
    this.filesInRange = db
      .prepare<[number, number, number], [number, string, number, number]>('SELECT uid, fname, in_new, size FROM message WHERE mailbox = ? AND uid BETWEEN ? AND ?')
      .raw();
    this.putMessageMeta = db.prepare<[number, number, string, string]>(
      'INSERT INTO message_meta (mailbox, uid, kind, value) VALUES (?, ?, ?, ?) ON CONFLICT (mailbox, uid, kind) DO UPDATE SET value = excluded.value',
    );
    this.cacheRange = db
      .prepare<[number, string, number, number], [number, string]>('SELECT uid, value FROM search_cache WHERE mailbox = ? AND kind = ? AND uid BETWEEN ? AND ?')
      .raw();
    this.cacheOf = db.prepare<[number, string, number], string>('SELECT value FROM search_cache WHERE mailbox = ? AND kind = ? AND uid = ?').pluck();
    this.cacheRangeContaining = db
      .prepare<[number, string, number, number, string], [number, string]>(
        'SELECT uid, value FROM search_cache WHERE mailbox = ? AND kind = ? AND uid BETWEEN ? AND ? AND instr(value, ?) > 0',
      )
      .raw();
    this.cacheRangeUids = db
      .prepare<[number, string, number, number], number>('SELECT uid FROM search_cache WHERE mailbox = ? AND kind = ? AND uid BETWEEN ? AND ?')
      .pluck();
    this.putCache = db.prepare<[number, string, number, string]>(
      'INSERT INTO search_cache (mailbox, kind, uid, value) VALUES (?, ?, ?, ?) ON CONFLICT (mailbox, kind, uid) DO UPDATE SET value = excluded.value',
    );
    this.addCacheKind = db.prepare<[number, string]>('INSERT OR IGNORE INTO search_cache_kind (mailbox, kind) VALUES (?, ?)');
    this.hasMessage = db.prepare<[number, number], number>('SELECT 1 FROM message WHERE mailbox = ? AND uid = ?').pluck();
  }

  /** Inserts message rows (insertMessage's parameters) many per statement; `flush` before reading them back. */
  messageInserter(): MessageInserter {
    return new MessageInserter(this);
  }

  /** The statement inserting `n` message rows at once (prepared once). */
  insertMessagesStatement(n: number): Database.Statement<unknown[], unknown> {
    let stmt = this.multiInserts.get(n);
    if (stmt === undefined) {
      const values = Array.from({ length: n }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
      stmt = this.db.prepare<unknown[]>(`INSERT INTO message (mailbox, uid, base, fname, in_new, flags, keywords, vsize, size, idate, itz, modseq) VALUES ${values}`);
      this.multiInserts.set(n, stmt);
    }
    return stmt;
  }

  private readonly multiInserts = new Map<number, Database.Statement<unknown[], unknown>>();

  meta(key: string): string | undefined {
    return this.getMeta.get(key)?.value;
  }

  /** A write transaction taken at once (BEGIN IMMEDIATE), so another process's writer waits, not deadlocks. */
  write<T>(step: () => T): T {
    return this.db.transaction(step).immediate();
  }

  /**
   * A write transaction of derived data that can be computed again (message_meta): committed without an
   * fsync (WAL with synchronous NORMAL: a crash may lose it, never corrupts the index; the next FULL
   * commit makes it durable along with its own).
   */
  writeDerived<T>(step: () => T): T {
    this.db.pragma('synchronous = NORMAL');
    try {
      return this.write(step);
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  private checkpointTimer: NodeJS.Timeout | undefined;

  /**
   * Before a bulk write (a folder's first fill: thousands of WAL pages): no commit copies the WAL into the
   * database (and fsyncs it) for a moment, so the commit that a client's answer waits for does not; a timer
   * does it a second later. Durability is the WAL's, unchanged (synchronous = FULL fsyncs it at commit).
   */
  deferCheckpoint(): void {
    if (this.checkpointTimer !== undefined || !this.db.open) return;
    this.db.pragma('wal_autocheckpoint = 0');
    this.checkpointTimer = setTimeout(() => this.checkpointNow(), CHECKPOINT_DELAY_MS);
    this.checkpointTimer.unref();
  }

  /** The deferred checkpoint, run now (when the caller knows no client waits on this step). */
  checkpointNow(): void {
    if (this.checkpointTimer === undefined) return;
    clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    if (!this.db.open) return;
    try {
      // PASSIVE: copies what no reader still needs, never waits for another process.
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy or failing: the next commit past the threshold checkpoints again.
    } finally {
      this.db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    }
  }

  close(): void {
    if (this.checkpointTimer !== undefined) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    if (this.db.open) this.db.close();
  }
}

export type MessageInsert = [number, number, string, string, number, number, string, number, number, number | null, number | null, number];

/** Rows to insert, sent to SQLite INSERT_ROWS at a time (one statement per batch, not one per message). */
export class MessageInserter {
  /** The batch's parameters, written in place (no array per row), handed to SQLite as one array. */
  private readonly params: unknown[] = new Array<unknown>(INSERT_ROWS * COLUMNS);
  private count = 0;
  private readonly uids = new Set<number>();

  constructor(private readonly index: IndexDb) {}

  /** Whether a row with this UID is waiting here. */
  has(uid: number): boolean {
    return this.uids.has(uid);
  }

  /** One row, insertMessage's parameters in order (as arguments: no array per row). */
  add(
    mailbox: number,
    uid: number,
    base: string,
    fname: string,
    inNew: number,
    flags: number,
    keywords: string,
    vsize: number,
    size: number,
    idate: number | null,
    itz: number | null,
    modseq: number,
  ): void {
    this.uids.add(uid);
    const p = this.params;
    let at = this.count * COLUMNS;
    p[at++] = mailbox;
    p[at++] = uid;
    p[at++] = base;
    p[at++] = fname;
    p[at++] = inNew;
    p[at++] = flags;
    p[at++] = keywords;
    p[at++] = vsize;
    p[at++] = size;
    p[at++] = idate;
    p[at++] = itz;
    p[at] = modseq;
    if (++this.count === INSERT_ROWS) this.flush();
  }

  flush(): void {
    if (this.count === 0) return;
    if (this.count === INSERT_ROWS) this.index.insertMessagesStatement(INSERT_ROWS).run(this.params);
    else for (let i = 0; i < this.count * COLUMNS; i += COLUMNS) this.index.insertMessage.run(...(this.params.slice(i, i + COLUMNS) as MessageInsert));
    this.count = 0;
  }
}

const COLUMNS = 12;
/** 256 rows × 12 columns: well under SQLite's 32,766 parameters per statement. */
const INSERT_ROWS = 256;
