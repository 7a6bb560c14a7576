/**
 * The accounts lookup cache: answers kept while data_version stays, one version check per synchronous
 * run, the bound; and through SqliteAccounts, a change from another connection (the `mailgate` commands)
 * or from our own writes seen by the next lookup, and no stale answer after a rolled-back write.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { LookupCache } from '../../../src/store/accounts/lookup-cache.js';
import { openAccounts } from '../../../src/store/accounts/open.js';

const nextRun = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('LookupCache', () => {
  test('a hit costs no load; the version is asked once per synchronous run; a new version empties it', async () => {
    let version = 1;
    let checks = 0;
    const cache = new LookupCache(() => (checks++, version));
    const domain = cache.kind<boolean>();
    let loads = 0;
    const load = (): boolean => (loads++, true);
    expect(domain('a.example', load)).toBe(true);
    expect(domain('a.example', load)).toBe(true);
    expect([loads, checks]).toEqual([1, 1]);
    await nextRun();
    expect(domain('a.example', load)).toBe(true);
    expect([loads, checks]).toEqual([1, 2]);
    version = 2;
    expect(domain('a.example', load)).toBe(true); // same run: not asked again
    await nextRun();
    expect(domain('a.example', load)).toBe(true);
    expect([loads, checks]).toEqual([2, 3]);
  });

  test('keeps at most maxEntries answers per kind, dropping the oldest', () => {
    const cache = new LookupCache(() => 1, 2);
    const user = cache.kind<boolean>();
    const loaded: string[] = [];
    const load = (k: string): boolean => (loaded.push(k), false);
    for (const k of ['a', 'b', 'c', 'b', 'c', 'a']) user(k, load);
    expect(loaded).toEqual(['a', 'b', 'c', 'a']);
  });
});

describe('SqliteAccounts with the cache', () => {
  const root = mkdtempSync(join(tmpdir(), 'mailgate-lookup-cache-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("another process's change is seen by the next lookup", async () => {
    const dataDir = join(root, 'a', 'data');
    const server = openAccounts({ dataDir, localDomains: [] });
    const cli = openAccounts({ dataDir, localDomains: [] });
    expect(server.isLocalDomain('new.example')).toBe(false);
    expect(server.resolve('bob@new.example')).toEqual({ kind: 'remote' });
    cli.addDomain('new.example');
    await cli.addUser('bob@new.example', 'pw-for-bob');
    await nextRun();
    expect(server.isLocalDomain('new.example')).toBe(true);
    expect(server.resolve('bob@new.example')).toEqual({ kind: 'local', targets: [{ type: 'mailbox', user: 'bob@new.example' }] });
    cli.deleteUser('bob@new.example');
    await nextRun();
    expect(server.resolve('bob@new.example')).toEqual({ kind: 'unknown' });
    server.close();
    cli.close();
  });

  test('our own writes are seen at once, and a refused (rolled back) alias leaves nothing behind', () => {
    const a = openAccounts({ dataDir: join(root, 'b', 'data'), localDomains: [] });
    expect(a.isLocalDomain('own.example')).toBe(false);
    a.addDomain('own.example');
    expect(a.isLocalDomain('own.example')).toBe(true);
    expect(a.resolve('x@own.example')).toEqual({ kind: 'unknown' });
    a.addAlias('x@own.example', ['y@remote.example']);
    expect(a.resolve('x@own.example')).toEqual({ kind: 'local', targets: [{ type: 'remote', address: 'y@remote.example' }] });
    a.addAlias('l1@own.example', ['x@own.example']);
    // l1 -> x, then x -> l1 would loop: refused inside the transaction, rolled back.
    expect(() => a.addAlias('x@own.example', ['l1@own.example'])).toThrow(/loop/);
    expect(a.resolve('x@own.example')).toEqual({ kind: 'local', targets: [{ type: 'remote', address: 'y@remote.example' }] });
    a.close();
  });
});
