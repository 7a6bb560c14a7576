/**
 * The accounts in one SQLite file, `<data_dir>/accounts.sqlite` (better-sqlite3): domains, users with
 * their stored passwords, aliases. The servers' lookups are answered from a cache that asks SQLite
 * whether the file changed before each run of lookups (lookup-cache.ts), so a change made with the
 * `mailgate` commands is seen at once by a running `mailgate start` (WAL: readers never wait for the
 * writer). The file holds password hashes: it is created mode 0600 in a 0700 directory.
 */
import { chmodSync, closeSync, existsSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { makeDirectory } from '../../config/make-directory.js';
import type { Accounts, Resolution, UserQuota } from './accounts.js';
import { domainOf, domainProblem, normaliseAddress, normaliseDomain, parseAccountAddress } from './address.js';
import { AccountsError, type AccountsAdmin, type AliasEntry, type DomainEntry, type ImportedUser, type QuotaChange, type UserEntry } from './admin.js';
import { LookupCache } from './lookup-cache.js';
import { maildirPath } from './maildir-path.js';
import { hashPassword, normaliseStoredPassword, schemeOf, verifyPassword } from './password.js';
import { ownsSender, resolveAddress, type AccountLookups } from './resolve.js';

export const ACCOUNTS_FILE = 'accounts.sqlite';

/** MIGRATIONS[n] takes the schema from version n to n + 1. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE domains (name TEXT PRIMARY KEY) WITHOUT ROWID;
   CREATE TABLE users (
     address  TEXT PRIMARY KEY,
     domain   TEXT NOT NULL,
     password TEXT NOT NULL,
     created  INTEGER NOT NULL,
     updated  INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX users_domain ON users (domain);
   -- rowid keeps the targets in the order they were added
   CREATE TABLE aliases (
     address TEXT NOT NULL,
     domain  TEXT NOT NULL,
     target  TEXT NOT NULL,
     UNIQUE (address, target)
   );
   CREATE INDEX aliases_target ON aliases (target);
   CREATE INDEX aliases_domain ON aliases (domain);`,
  // a user's own quota (NULL: the configuration's [mailbox] quota / quota_messages; 0: none)
  `ALTER TABLE users ADD COLUMN quota_bytes INTEGER;
   ALTER TABLE users ADD COLUMN quota_messages INTEGER;`,
];

export interface SqliteAccountsOptions {
  /** The data directory; the database is `<dataDir>/accounts.sqlite`, Maildirs under `<dataDir>/mail/`. */
  readonly dataDir: string;
  /** Local domains from the configuration (`[domains] local`), beside those added to the database. */
  readonly localDomains: readonly string[];
  /**
   * false: do not create the directory or the file when missing; an empty in-memory database stands in
   * (`mailgate user list` on a fresh install creates nothing). Default true.
   */
  readonly create?: boolean;
  /** How long a writer waits for another process's lock (ms); reads never wait in WAL mode. */
  readonly busyTimeoutMs?: number;
}

export class SqliteAccounts implements Accounts, AccountsAdmin {
  readonly file: string;
  private readonly dataDir: string;
  private readonly configDomains: ReadonlySet<string>;
  private readonly db: Database.Database;
  private readonly s: ReturnType<typeof prepare>;
  private readonly lookups: AccountLookups;
  private readonly cache: LookupCache;
  private readonly cachedDomain: (domain: string, load: (d: string) => boolean) => boolean;
  /** A scrypt hash of nothing, checked for an unknown login so that it takes as long as a known one. */
  private dummy: Promise<string> | undefined;

  constructor(options: SqliteAccountsOptions) {
    this.dataDir = options.dataDir;
    this.file = join(options.dataDir, ACCOUNTS_FILE);
    const domains = new Set<string>();
    for (const d of options.localDomains) {
      const n = normaliseDomain(d);
      if (n === undefined) throw new AccountsError(`local domain ${JSON.stringify(d)}: ${domainProblem(d.toLowerCase()) ?? 'invalid'}`);
      domains.add(n);
    }
    this.configDomains = domains;
    const inMemory = options.create === false && !existsSync(this.file);
    if (!inMemory) createPrivately(this.file);
    this.db = new Database(inMemory ? ':memory:' : this.file, { timeout: options.busyTimeoutMs ?? 1000 });
    try {
      if (!inMemory) {
        this.db.pragma('journal_mode = WAL');
        // Account changes are rare and must survive a crash once the command said so: fsync each commit.
        this.db.pragma('synchronous = FULL');
      }
      migrate(this.db);
      this.s = prepare(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.cache = new LookupCache(() => this.s.dataVersion.get() as number);
    this.cachedDomain = this.cached(this.cache.kind<boolean>());
    const user = this.cached(this.cache.kind<boolean>());
    const targets = this.cached(this.cache.kind<readonly string[]>());
    this.lookups = {
      isLocalDomain: (d) => this.isLocalDomain(d),
      isUser: (a) => user(a, (k) => this.s.user.get(k) !== undefined),
      aliasTargets: (a) => targets(a, (k) => (this.s.aliasTargets.all(k) as { target: string }[]).map((r) => r.target)),
    };
  }

  /** Inside a transaction (an admin command's checks) the database is read as it is, never the cache. */
  private cached<T>(kind: (key: string, load: (key: string) => T) => T): (key: string, load: (key: string) => T) => T {
    return (key, load) => (this.db.inTransaction ? load(key) : kind(key, load));
  }

  /** After each write of ours: data_version only moves for other connections' commits. */
  private wrote<T>(write: () => T): T {
    try {
      return write();
    } finally {
      this.cache.clear();
    }
  }

  // --- Accounts -----------------------------------------------------------------------------------

  isLocalDomain(domain: string): boolean {
    const d = domain.toLowerCase();
    return this.configDomains.has(d) || this.cachedDomain(d, (k) => this.s.domain.get(k) !== undefined);
  }

  localDomains(): readonly string[] {
    return this.listDomains().map((d) => d.name);
  }

  resolve(address: string): Resolution {
    return resolveAddress(address, this.lookups);
  }

  async authenticate(login: string, password: string): Promise<string | undefined> {
    if (typeof login !== 'string' || typeof password !== 'string') return undefined;
    const address = login.length <= 320 ? normaliseAddress(login) : undefined;
    const row = address === undefined ? undefined : (this.s.user.get(address) as { address: string; password: string } | undefined);
    if (row === undefined) {
      this.dummy ??= hashPassword('');
      await verifyPassword(password, await this.dummy);
      return undefined;
    }
    return (await verifyPassword(password, row.password)) ? row.address : undefined;
  }

  mayUseSender(user: string, sender: string): boolean {
    return ownsSender(user, sender, this.lookups);
  }

  maildirOf(user: string): string {
    return maildirPath(this.dataDir, user);
  }

  quotaOf(user: string): UserQuota | undefined {
    const a = normaliseAddress(user);
    return a === undefined ? undefined : quotaOfRow(this.s.quota.get(a) as QuotaRow | undefined);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // --- AccountsAdmin --------------------------------------------------------------------------------

  addDomain(domain: string): void {
    const d = this.domain(domain);
    if (this.s.domain.get(d) !== undefined) throw new AccountsError(`domain ${d} already exists`);
    this.wrote(() => this.s.addDomain.run(d));
  }

  deleteDomain(domain: string): void {
    const d = this.domain(domain);
    if (this.s.domain.get(d) === undefined) {
      if (this.configDomains.has(d)) throw new AccountsError(`domain ${d} is local from the configuration ([domains] local): remove it there`);
      throw new AccountsError(`no domain ${d}`);
    }
    const users = (this.s.countUsers.get(d) as { n: number }).n;
    const aliases = (this.s.countAliases.get(d) as { n: number }).n;
    if (!this.configDomains.has(d) && users + aliases > 0) {
      throw new AccountsError(`domain ${d} still has ${plural(users, 'user')} and ${plural(aliases, 'alias', 'aliases')}: delete them first`);
    }
    this.wrote(() => this.s.deleteDomain.run(d));
  }

  listDomains(): DomainEntry[] {
    const db = new Set((this.s.domains.all() as { name: string }[]).map((r) => r.name));
    const names = [...new Set([...this.configDomains, ...db])].sort();
    return names.map((name) => ({ name, source: this.configDomains.has(name) ? (db.has(name) ? 'both' : 'config') : 'database' }));
  }

  async addUser(address: string, password: string): Promise<string> {
    const a = this.localAddress(address);
    checkNewPassword(password);
    if (this.s.user.get(a) !== undefined) throw new AccountsError(`user ${a} already exists`);
    const stored = await hashPassword(password);
    const now = Date.now();
    try {
      this.wrote(() => this.s.addUser.run(a, domainOf(a), stored, now, now));
    } catch (err) {
      // added by another process while the password was being hashed
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new AccountsError(`user ${a} already exists`);
      throw err;
    }
    return a;
  }

  async setPassword(address: string, password: string): Promise<void> {
    const a = this.existingUser(address);
    checkNewPassword(password);
    const stored = await hashPassword(password);
    if (this.wrote(() => this.s.setPassword.run(stored, Date.now(), a)).changes === 0) throw new AccountsError(`no user ${a}`);
  }

  setQuota(address: string, change: QuotaChange): void {
    const a = this.existingUser(address);
    for (const v of [change.bytes, change.messages]) {
      if (v !== undefined && v !== null && (!Number.isSafeInteger(v) || v < 0)) throw new AccountsError(`quota ${v}: not a whole number of 0 or more`);
    }
    this.wrote(() =>
      this.db.transaction(() => {
        const row = this.s.quota.get(a) as QuotaRow | undefined;
        if (row === undefined) throw new AccountsError(`no user ${a}`);
        this.s.setQuota.run(change.bytes === undefined ? row.quota_bytes : change.bytes, change.messages === undefined ? row.quota_messages : change.messages, Date.now(), a);
      })(),
    );
  }

  hasUser(address: string): boolean {
    const a = normaliseAddress(address);
    return a !== undefined && this.s.user.get(a) !== undefined;
  }

  deleteUser(address: string): void {
    const a = this.existingUser(address);
    const aliases = (this.s.aliasesOf.all(a) as { address: string }[]).map((r) => r.address);
    if (aliases.length > 0) {
      throw new AccountsError(`${a} is a target of ${aliases.join(', ')}: remove it from them first (mailgate alias del ALIAS ${a})`);
    }
    this.wrote(() => this.s.deleteUser.run(a));
  }

  listUsers(domain?: string): UserEntry[] {
    const rows = (domain === undefined ? this.s.users.all() : this.s.usersOf.all(this.domain(domain))) as ({ address: string; password: string } & QuotaRow)[];
    return rows.map((r) => ({ address: r.address, scheme: schemeOf(r.password), quota: quotaOfRow(r) }));
  }

  importUsers(users: readonly ImportedUser[]): { added: number; updated: number } {
    const rows = users.map((u) => {
      const a = this.localAddress(u.address);
      const n = normaliseStoredPassword(u.stored);
      if (typeof n === 'string') throw new AccountsError(`${a}: ${n}`);
      return { address: a, stored: n.stored, quota: u.quota };
    });
    let added = 0;
    let updated = 0;
    const now = Date.now();
    this.wrote(() =>
      this.db.transaction(() => {
        for (const r of rows) {
          if (this.s.setPassword.run(r.stored, now, r.address).changes > 0) updated++;
          else {
            this.s.addUser.run(r.address, domainOf(r.address), r.stored, now, now);
            added++;
          }
          if (r.quota !== undefined) this.s.setQuota.run(r.quota.bytes ?? null, r.quota.messages ?? null, now, r.address);
        }
      })(),
    );
    return { added, updated };
  }

  addAlias(alias: string, targets: readonly string[]): void {
    const a = this.localAddress(alias);
    if (targets.length === 0) throw new AccountsError(`alias ${a}: no target`);
    const stored = targets.map((t) => this.target(t, a));
    this.wrote(() =>
      this.db.transaction(() => {
        for (const t of stored) this.s.addAlias.run(a, domainOf(a), t);
        const r = this.resolve(a);
        if (r.kind === 'loop') throw new AccountsError(`alias ${a}: ${r.detail}`);
      })(),
    );
  }

  deleteAlias(alias: string, targets: readonly string[] = []): void {
    const a = this.localAddress(alias);
    if (targets.length === 0) {
      if (this.wrote(() => this.s.deleteAlias.run(a)).changes === 0) throw new AccountsError(`no alias ${a}`);
      return;
    }
    const stored = targets.map((t) => this.target(t, a, false));
    this.wrote(() =>
      this.db.transaction(() => {
        for (const t of stored) {
          if (this.s.deleteTarget.run(a, t).changes === 0) throw new AccountsError(`alias ${a} has no target ${t}`);
        }
      })(),
    );
  }

  listAliases(): AliasEntry[] {
    const out = new Map<string, string[]>();
    for (const r of this.s.aliases.all() as { address: string; target: string }[]) {
      const list = out.get(r.address) ?? [];
      list.push(r.target);
      out.set(r.address, list);
    }
    return [...out].map(([address, targets]) => ({ address, targets }));
  }

  // --- helpers --------------------------------------------------------------------------------------

  private domain(domain: string): string {
    const d = domain.toLowerCase();
    const why = domainProblem(d);
    if (why !== undefined) throw new AccountsError(why);
    return d;
  }

  /** A normalised address in a local domain, or an AccountsError saying why not. */
  private localAddress(address: string): string {
    const a = parseAccountAddress(address);
    if (typeof a === 'string') throw new AccountsError(a);
    if (!this.isLocalDomain(a.domain)) {
      throw new AccountsError(`${a.domain} is not a local domain: add it first with \`mailgate domain add ${a.domain}\``);
    }
    return a.address;
  }

  private existingUser(address: string): string {
    const a = normaliseAddress(address);
    if (a === undefined || this.s.user.get(a) === undefined) throw new AccountsError(`no user ${a ?? address}`);
    return a;
  }

  /**
   * An alias target as stored: a local one normalised and required to exist (a user, an alias, or the
   * alias itself when it is also a user); a remote one with its local part as written.
   */
  private target(text: string, alias: string, mustExist = true): string {
    const t = parseAccountAddress(text);
    if (typeof t === 'string') throw new AccountsError(t);
    if (!this.isLocalDomain(t.domain)) return `${text.slice(0, text.lastIndexOf('@'))}@${t.domain}`;
    if (mustExist && this.s.user.get(t.address) === undefined && this.s.aliasTargets.get(t.address) === undefined) {
      throw new AccountsError(
        t.address === alias ? `alias ${alias} cannot point at itself unless it is also a user` : `${t.address} is neither a user nor an alias (its domain is local)`,
      );
    }
    return t.address;
  }
}

function checkNewPassword(password: string): void {
  if (password.length === 0) throw new AccountsError('empty password');
  if (/[\r\n\0]/.test(password)) throw new AccountsError('a password cannot contain a line break or NUL');
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

interface QuotaRow {
  readonly quota_bytes: number | null;
  readonly quota_messages: number | null;
}

/** A row's own quota: undefined when neither limit is set (the configured one applies). */
function quotaOfRow(row: QuotaRow | undefined): UserQuota | undefined {
  if (row === undefined || (row.quota_bytes === null && row.quota_messages === null)) return undefined;
  return { ...(row.quota_bytes === null ? {} : { bytes: row.quota_bytes }), ...(row.quota_messages === null ? {} : { messages: row.quota_messages }) };
}

/** The directory (0700) and the file (0600), each made with its final mode. */
function createPrivately(file: string): void {
  const dir = join(file, '..');
  try {
    makeDirectory(dir, 0o700);
  } catch (err) {
    throw new AccountsError(`accounts database ${file}: cannot create its directory ${dir}: ${(err as Error).message}`);
  }
  if (!existsSync(file)) {
    closeSync(openSync(file, 'a', 0o600));
    // The umask can only take bits away from 0600; one that took the owner's would leave it unusable.
    if ((statSync(file).mode & 0o600) !== 0o600) chmodSync(file, 0o600);
  }
  // SQLite creates -wal and -shm with the database file's permissions.
}

/** Brings the schema up to date in one IMMEDIATE transaction (several processes may open a new file). */
function migrate(db: Database.Database): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    const version = row?.version ?? 0;
    if (version > MIGRATIONS.length) {
      throw new AccountsError(`accounts database schema version ${version} is newer than this mailgate (${MIGRATIONS.length}): upgrade mailgate`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v] ?? '');
    if (row === undefined) db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(MIGRATIONS.length);
    else db.prepare('UPDATE schema_version SET version = ?').run(MIGRATIONS.length);
  }).immediate();
}

/** Every statement that writes is run through SqliteAccounts.wrote(), which clears the lookup cache. */
function prepare(db: Database.Database) {
  return {
    dataVersion: db.prepare('PRAGMA data_version').pluck(),
    domain: db.prepare('SELECT 1 FROM domains WHERE name = ?').pluck(),
    domains: db.prepare('SELECT name FROM domains ORDER BY name'),
    addDomain: db.prepare('INSERT INTO domains (name) VALUES (?)'),
    deleteDomain: db.prepare('DELETE FROM domains WHERE name = ?'),
    countUsers: db.prepare('SELECT count(*) AS n FROM users WHERE domain = ?'),
    countAliases: db.prepare('SELECT count(DISTINCT address) AS n FROM aliases WHERE domain = ?'),
    user: db.prepare('SELECT address, password FROM users WHERE address = ?'),
    users: db.prepare('SELECT address, password, quota_bytes, quota_messages FROM users ORDER BY domain, address'),
    usersOf: db.prepare('SELECT address, password, quota_bytes, quota_messages FROM users WHERE domain = ? ORDER BY address'),
    quota: db.prepare('SELECT quota_bytes, quota_messages FROM users WHERE address = ?'),
    setQuota: db.prepare('UPDATE users SET quota_bytes = ?, quota_messages = ?, updated = ? WHERE address = ?'),
    addUser: db.prepare('INSERT INTO users (address, domain, password, created, updated) VALUES (?, ?, ?, ?, ?)'),
    setPassword: db.prepare('UPDATE users SET password = ?, updated = ? WHERE address = ?'),
    deleteUser: db.prepare('DELETE FROM users WHERE address = ?'),
    aliasTargets: db.prepare('SELECT target FROM aliases WHERE address = ? ORDER BY rowid'),
    aliasesOf: db.prepare('SELECT DISTINCT address FROM aliases WHERE target = ? ORDER BY address'),
    aliases: db.prepare('SELECT address, target FROM aliases ORDER BY domain, address, rowid'),
    addAlias: db.prepare('INSERT OR IGNORE INTO aliases (address, domain, target) VALUES (?, ?, ?)'),
    deleteAlias: db.prepare('DELETE FROM aliases WHERE address = ?'),
    deleteTarget: db.prepare('DELETE FROM aliases WHERE address = ? AND target = ?'),
  };
}
