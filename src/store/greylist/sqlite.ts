/**
 * The default greylist store: one SQLite file in the data directory (better-sqlite3), surviving
 * restarts. Several mailgate processes on the same host may share the file (WAL + busy timeout).
 */
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { makeDirectory } from '../../config/make-directory.js';
import type { GreylistEntry, GreylistEntryKind, GreylistQuery, GreylistStore, GreylistTuple } from './store.js';

/** Bump with a migration in MIGRATIONS when the schema changes. */
export const SQLITE_SCHEMA_VERSION = 1;

/** MIGRATIONS[n] takes the schema from version n to n + 1. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE greylist (
     address      TEXT    NOT NULL,
     sender       TEXT    NOT NULL,
     recipient    TEXT    NOT NULL,
     kind         TEXT    NOT NULL CHECK (kind IN ('pending', 'autowhite')),
     created      INTEGER NOT NULL,
     accept_after INTEGER NOT NULL,
     expires      INTEGER NOT NULL,
     hits         INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (address, sender, recipient)
   ) WITHOUT ROWID;
   -- --addr queries use the primary key's prefix; lazyaw looks up the newest autowhite entry of an
   -- address (partial index: pending entries, the bulk of a busy greylist, don't pay for it);
   -- purgeExpired walks expires.
   CREATE INDEX greylist_autowhite ON greylist (address, expires) WHERE kind = 'autowhite';
   CREATE INDEX greylist_expires ON greylist (expires);`,
];

export interface SqliteGreylistStoreOptions {
  /** How long a writer waits for another process's lock before failing (ms). */
  readonly busyTimeoutMs?: number;
}

interface Row {
  address: string;
  sender: string;
  recipient: string;
  kind: GreylistEntryKind;
  created: number;
  accept_after: number;
  expires: number;
  hits: number;
}

const COLUMNS = 'address, sender, recipient, kind, created, accept_after, expires, hits';
/** Rows per page when listing, so a long listing never holds the connection. */
const PAGE = 1000;

export class SqliteGreylistStore implements GreylistStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly stmts: ReturnType<typeof prepare>;
  private readonly byShape = new Map<string, Database.Statement>();

  constructor(file: string, options: SqliteGreylistStoreOptions = {}) {
    this.file = file;
    createPrivately(file);
    // Short: waiting on a lock blocks the whole event loop (better-sqlite3 is synchronous); past it the
    // operation fails and the child's fallback answers for that one session.
    this.db = new Database(file, { timeout: options.busyTimeoutMs ?? 250 });
    try {
      this.db.pragma('journal_mode = WAL');
      // In WAL mode NORMAL never corrupts the database; a power loss may only drop the last
      // transactions. For greylist state that means a few senders are greylisted once more, which
      // is what milter-greylist accepts too (it dumps every 600 s); FULL would fsync every RCPT.
      this.db.pragma('synchronous = NORMAL');
      migrate(this.db);
      this.stmts = prepare(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  async get(tuple: GreylistTuple, now: number): Promise<GreylistEntry | undefined> {
    const row = this.stmts.get.get(tuple.address, tuple.sender, tuple.recipient, now) as Row | undefined;
    return row && toEntry(row);
  }

  async getAutowhiteForAddress(address: string, now: number): Promise<GreylistEntry | undefined> {
    const row = this.stmts.autowhite.get(address, now) as Row | undefined;
    return row && toEntry(row);
  }

  async put(entry: GreylistEntry): Promise<void> {
    this.stmts.put.run(toRow(entry));
  }

  /** Inserts many entries in one transaction (bulk loads, the benchmark). */
  putMany(entries: Iterable<GreylistEntry>): void {
    this.db.transaction(() => {
      for (const e of entries) this.stmts.put.run(toRow(e));
    })();
  }

  async delete(tuple: GreylistTuple): Promise<void> {
    this.stmts.delete.run(tuple.address, tuple.sender, tuple.recipient);
  }

  async *list(query: GreylistQuery = {}): AsyncIterable<GreylistEntry> {
    // Keyset pagination in primary-key order: each page is a short, complete statement, so the
    // consumer may write to the store between pages.
    const { where, params } = filter(query);
    const first = this.statement(`list0:${where}`, `SELECT ${COLUMNS} FROM greylist ${where} ORDER BY address, sender, recipient LIMIT ${PAGE}`);
    const next = this.statement(
      `list1:${where}`,
      `SELECT ${COLUMNS} FROM greylist ${where === '' ? 'WHERE' : `${where} AND`} (address, sender, recipient) > (?, ?, ?) ORDER BY address, sender, recipient LIMIT ${PAGE}`,
    );
    let rows = first.all(...params) as Row[];
    while (rows.length > 0) {
      for (const row of rows) yield toEntry(row);
      const last = rows[rows.length - 1];
      if (rows.length < PAGE || last === undefined) return;
      rows = next.all(...params, last.address, last.sender, last.recipient) as Row[];
    }
  }

  async flush(query: GreylistQuery = {}): Promise<number> {
    const { where, params } = filter(query);
    return this.statement(`flush:${where}`, `DELETE FROM greylist ${where}`).run(...params).changes;
  }

  /**
   * In batches with a turn of the event loop between them: better-sqlite3 is synchronous, and one
   * DELETE over a large expired backlog would hold up every SMTP session the manager serves.
   */
  async purgeExpired(now: number): Promise<number> {
    let total = 0;
    for (;;) {
      const n = this.stmts.purge.run(now, PURGE_BATCH).changes;
      total += n;
      if (n < PURGE_BATCH) return total;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async count(query: GreylistQuery = {}): Promise<number> {
    const { where, params } = filter(query);
    const row = this.statement(`count:${where}`, `SELECT count(*) AS n FROM greylist ${where}`).get(...params) as { n: number };
    return row.n;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** Prepared once per query shape (4 shapes: with or without address and kind). */
  private statement(key: string, sql: string): Database.Statement {
    let stmt = this.byShape.get(key);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql);
      this.byShape.set(key, stmt);
    }
    return stmt;
  }
}

/** The database file is readable by its owner only (it lists who mails whom); its directory 0700. */
function createPrivately(file: string): void {
  if (file === ':memory:') return;
  const dir = dirname(file);
  // Not Node's recursive mkdir: under /proc it loops forever at 100 % CPU.
  try {
    makeDirectory(dir, 0o700);
  } catch (err) {
    throw new Error(`greylist database ${file}: cannot create its directory ${dir}: ${(err as Error).message}`);
  }
  if (!existsSync(file)) {
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600); // openSync's mode is filtered by the umask; chmod is not
  }
  // SQLite creates -wal and -shm with the database file's permissions.
}

/**
 * Brings the schema up to date in one IMMEDIATE transaction, so that several processes opening a new
 * file at once (manager, `mailgate greylist`) cannot both create it.
 */
/** Rows deleted per purge step. */
const PURGE_BATCH = 1000;

function migrate(db: Database.Database): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    let version = row?.version ?? 0;
    if (version > SQLITE_SCHEMA_VERSION) {
      throw new Error(`greylist database ${db.name} has schema version ${version}, newer than this mailgate's (${SQLITE_SCHEMA_VERSION})`);
    }
    if (row === undefined) db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
    while (version < SQLITE_SCHEMA_VERSION) {
      db.exec(MIGRATIONS[version] ?? '');
      version++;
      db.prepare('UPDATE schema_version SET version = ?').run(version);
    }
  }).immediate();
}

function prepare(db: Database.Database) {
  return {
    get: db.prepare(`SELECT ${COLUMNS} FROM greylist WHERE address = ? AND sender = ? AND recipient = ? AND expires >= ?`),
    autowhite: db.prepare(
      `SELECT ${COLUMNS} FROM greylist WHERE kind = 'autowhite' AND address = ? AND expires >= ? ORDER BY expires DESC LIMIT 1`,
    ),
    // An upsert, not INSERT OR REPLACE: an existing row is updated in place (a replace deletes and
    // reinserts it, touching every index).
    put: db.prepare(
      `INSERT INTO greylist (${COLUMNS}) VALUES (@address, @sender, @recipient, @kind, @created, @accept_after, @expires, @hits)
       ON CONFLICT (address, sender, recipient) DO UPDATE SET
         kind = excluded.kind, created = excluded.created, accept_after = excluded.accept_after,
         expires = excluded.expires, hits = excluded.hits`,
    ),
    delete: db.prepare('DELETE FROM greylist WHERE address = ? AND sender = ? AND recipient = ?'),
    // The table has no rowid (WITHOUT ROWID): a batch is picked by its primary key.
    purge: db.prepare(
      'DELETE FROM greylist WHERE (address, sender, recipient) IN (SELECT address, sender, recipient FROM greylist WHERE expires < ? LIMIT ?)',
    ),
  };
}

function filter(query: GreylistQuery): { where: string; params: string[] } {
  const terms: string[] = [];
  const params: string[] = [];
  if (query.address !== undefined) {
    terms.push('address = ?');
    params.push(query.address);
  }
  if (query.kind !== undefined) {
    terms.push('kind = ?');
    params.push(query.kind);
  }
  return { where: terms.length === 0 ? '' : `WHERE ${terms.join(' AND ')}`, params };
}

function toRow(e: GreylistEntry): Row {
  return {
    address: e.address,
    sender: e.sender,
    recipient: e.recipient,
    kind: e.kind,
    created: e.created,
    accept_after: e.acceptAfter,
    expires: e.expires,
    hits: e.hits,
  };
}

function toEntry(r: Row): GreylistEntry {
  return {
    address: r.address,
    sender: r.sender,
    recipient: r.recipient,
    kind: r.kind,
    created: r.created,
    acceptAfter: r.accept_after,
    expires: r.expires,
    hits: r.hits,
  };
}
