/** SqliteGreylistStore beyond the shared contract: restarts, file permissions, schema, query plans. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, test } from 'vitest';
import { SQLITE_SCHEMA_VERSION, SqliteGreylistStore } from '../../../src/store/greylist/sqlite.js';
import { openGreylistStore, sqliteFilePath } from '../../../src/store/greylist/open.js';
import { MemoryGreylistStore } from '../../../src/store/greylist/memory.js';
import { autowhite, pending, T } from './contract.js';
import { builtModule } from '../../dist.js';
import { hangGuard } from '../../hang-guard.js';

/** Opens dist/'s SqliteGreylistStore (argv[1]) on a file (argv[2]); prints the error's message. */
const OPEN_IN_CHILD = `
const { SqliteGreylistStore } = await import(process.argv[1]);
try { await new SqliteGreylistStore(process.argv[2]).close(); console.log('opened'); } catch (err) { console.log(err.message); }
`;

const dir = mkdtempSync(join(tmpdir(), 'mailgate-greylist-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const t1 = { address: '192.0.2.0/24', sender: 'alice@example.com', recipient: 'bob@example.org' };
const t2 = { address: '192.0.2.0/24', sender: 'alice@example.com', recipient: 'carol@example.org' };

describe('SqliteGreylistStore', () => {
  test('entries survive a restart (close, reopen)', async () => {
    const file = join(dir, 'restart.sqlite');
    const a = new SqliteGreylistStore(file);
    await a.put(pending(t1));
    await a.put(autowhite(t2));
    await a.close();
    const b = new SqliteGreylistStore(file);
    expect(await b.get(t1, T)).toEqual(pending(t1));
    expect(await b.getAutowhiteForAddress(t2.address, T)).toEqual(autowhite(t2));
    expect(await b.count()).toBe(2);
    await b.close();
  });

  test('creates its directory 0700 and the database (and its WAL files) 0600', async () => {
    const file = join(dir, 'new', 'deeper', 'greylist.sqlite');
    const s = new SqliteGreylistStore(file);
    await s.put(pending(t1));
    expect(statSync(join(dir, 'new', 'deeper')).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    for (const side of ['-wal', '-shm']) {
      if (existsSync(file + side)) expect(statSync(file + side).mode & 0o777, side).toBe(0o600);
    }
    await s.close();
  });

  // It hung at 100 % CPU: Node's recursive mkdir loops forever on procfs. Run in a child process with a
  // timeout, so that a regression fails this test instead of blocking the test worker for good.
  test.each(['/proc/mailgate-hostile/greylist.sqlite', '/proc/mailgate-hostile/a/b/greylist.sqlite'])(
    'refuses a database under /proc with an error naming the directory, not a hang (%s)',
    (file) => {
      const done = hangGuard(2_000);
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', OPEN_IN_CHILD, pathToFileURL(builtModule('store/greylist/sqlite.js')).href, file], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(r.error, 'the child hung (killed after 20 s)').toBeUndefined();
      expect(r.stdout.trim()).toBe(`greylist database ${file}: cannot create its directory ${dirname(file)}: /proc is on proc, a kernel filesystem`);
      done();
      expect(existsSync(dirname(file))).toBe(false);
    },
  );

  test('WAL journal, synchronous NORMAL, schema version recorded', async () => {
    const file = join(dir, 'pragmas.sqlite');
    await new SqliteGreylistStore(file).close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT version FROM schema_version').all()).toEqual([{ version: SQLITE_SCHEMA_VERSION }]);
    db.close();
  });

  test('refuses a database from a newer schema version, with a clear error', () => {
    const file = join(dir, 'future.sqlite');
    const db = new Database(file);
    db.exec(`CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (${SQLITE_SCHEMA_VERSION + 1});`);
    db.close();
    expect(() => new SqliteGreylistStore(file)).toThrow(/schema version 2, newer than this mailgate's \(1\)/);
  });

  test('lazyaw lookups, --addr queries and purgeExpired use an index, never a full scan', () => {
    const file = join(dir, 'plans.sqlite');
    new SqliteGreylistStore(file).close();
    const db = new Database(file, { readonly: true });
    const plan = (sql: string, ...p: unknown[]): string =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...p) as { detail: string }[]).map((r) => r.detail).join('; ');
    expect(plan(`SELECT * FROM greylist WHERE kind = 'autowhite' AND address = ? AND expires >= ? ORDER BY expires DESC LIMIT 1`, 'a', 1)).toMatch(/USING (COVERING )?INDEX greylist_autowhite/);
    expect(plan('SELECT * FROM greylist WHERE address = ?', 'a')).toMatch(/USING PRIMARY KEY \(address=\?\)/);
    expect(plan('SELECT * FROM greylist WHERE expires < ?', 1)).toMatch(/USING (COVERING )?INDEX greylist_expires/);
    expect(plan('SELECT * FROM greylist WHERE address = ? AND sender = ? AND recipient = ?', 'a', 'b', 'c')).toMatch(/PRIMARY KEY/);
    db.close();
  });

  test('two stores on one file (two processes on one host) see each other', async () => {
    const file = join(dir, 'shared.sqlite');
    const a = new SqliteGreylistStore(file);
    const b = new SqliteGreylistStore(file);
    await a.put(pending(t1));
    expect(await b.get(t1, T)).toEqual(pending(t1));
    expect(await b.flush()).toBe(1);
    expect(await a.count()).toBe(0);
    await a.close();
    await b.close();
  });

  test('purgeExpired removes a backlog larger than one batch, all of it and only it', async () => {
    const store = new SqliteGreylistStore(join(dir, 'purge.sqlite'));
    for (let i = 0; i < 2500; i++) await store.put(pending({ ...t1, recipient: `r${i}@example.org` }, T - 30 * 24 * 3_600_000));
    await store.put(pending(t2));
    expect(await store.purgeExpired(T)).toBe(2500);
    expect(await store.count()).toBe(1);
    await store.close();
  });

  test('opening a new database several times keeps one schema row (migration is one IMMEDIATE transaction)', async () => {
    const file = join(dir, 'race.sqlite');
    const stores = Array.from({ length: 6 }, () => new SqliteGreylistStore(file));
    await Promise.all(stores.map((s) => s.close()));
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT version FROM schema_version').all()).toEqual([{ version: SQLITE_SCHEMA_VERSION }]);
    db.close();
  });

  test('close is idempotent; a closed store rejects instead of crashing', async () => {
    const s = new SqliteGreylistStore(join(dir, 'closed.sqlite'));
    await s.close();
    await s.close();
    await expect(s.get(t1, T)).rejects.toThrow(/not open/);
  });
});

describe('openGreylistStore', () => {
  test('sqlite: <dataDir>/greylist.sqlite by default, sqlite_file relative to dataDir or absolute', async () => {
    expect(sqliteFilePath('/var/lib/mailgate', undefined)).toBe('/var/lib/mailgate/greylist.sqlite');
    expect(sqliteFilePath('/var/lib/mailgate', 'gl/db.sqlite')).toBe('/var/lib/mailgate/gl/db.sqlite');
    expect(sqliteFilePath('/var/lib/mailgate', '/srv/g.sqlite')).toBe('/srv/g.sqlite');
    const dataDir = join(dir, 'data');
    const s = openGreylistStore({ store: 'sqlite', dataDir });
    expect(s).toBeInstanceOf(SqliteGreylistStore);
    await s.put(pending(t1));
    await s.close();
    expect(statSync(join(dataDir, 'greylist.sqlite')).mode & 0o777).toBe(0o600);
  });

  test('memory', async () => {
    const s = openGreylistStore({ store: 'memory', dataDir: dir });
    expect(s).toBeInstanceOf(MemoryGreylistStore);
    await s.close();
  });
});
