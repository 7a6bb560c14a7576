/**
 * The SQLite accounts through openAccounts: the file's permissions, the admin methods' refusals, login,
 * resolution and sender ownership seen through the database, and that changes persist across opens.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { AccountsError } from '../../../src/store/accounts/admin.js';
import { openAccounts } from '../../../src/store/accounts/open.js';

const root = mkdtempSync(join(tmpdir(), 'mailgate-accounts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (localDomains = ['localhost']) => openAccounts({ dataDir: join(root, `d${n++}`, 'data'), localDomains });

describe('the database file', () => {
  test('created 0600 in a 0700 data directory made for it', () => {
    const a = fresh();
    a.close();
    const dir = join(a.file, '..');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(a.file).mode & 0o777).toBe(0o600);
  });
  test('create: false creates nothing and lists what the configuration has', () => {
    const dataDir = join(root, 'none', 'data');
    const a = openAccounts({ dataDir, localDomains: ['Example.ORG'], create: false });
    expect(a.listDomains()).toEqual([{ name: 'example.org', source: 'config' }]);
    expect(a.listUsers()).toEqual([]);
    a.close();
    expect(existsSync(dataDir)).toBe(false);
  });
  test('a bad configured domain is refused', () => {
    expect(() => openAccounts({ dataDir: join(root, 'bad'), localDomains: ['ex ample'] })).toThrow(AccountsError);
  });
});

describe('domains', () => {
  test('add, list with their source, delete; refusals', () => {
    const a = fresh(['localhost']);
    a.addDomain('Example.ORG');
    expect(() => a.addDomain('example.org')).toThrow('domain example.org already exists');
    expect(() => a.addDomain('bad_domain')).toThrow(/not a domain name/);
    a.addDomain('localhost');
    expect(a.listDomains()).toEqual([
      { name: 'example.org', source: 'database' },
      { name: 'localhost', source: 'both' },
    ]);
    expect(a.isLocalDomain('EXAMPLE.org')).toBe(true);
    expect(a.isLocalDomain('example.net')).toBe(false);
    a.deleteDomain('localhost');
    expect(() => a.deleteDomain('localhost')).toThrow('domain localhost is local from the configuration ([domains] local): remove it there');
    expect(() => a.deleteDomain('example.net')).toThrow('no domain example.net');
    a.close();
  });
  test('a domain with users or aliases cannot be deleted', async () => {
    const a = fresh();
    a.addDomain('example.org');
    await a.addUser('alice@example.org', 'pw');
    a.addAlias('info@example.org', ['alice@example.org']);
    expect(() => a.deleteDomain('example.org')).toThrow('domain example.org still has 1 user and 1 alias: delete them first');
    a.deleteAlias('info@example.org');
    a.deleteUser('alice@example.org');
    a.deleteDomain('example.org');
    expect(a.isLocalDomain('example.org')).toBe(false);
    a.close();
  });
});

describe('users', () => {
  test('add, authenticate case-insensitively, change the password, delete', async () => {
    const a = fresh();
    expect(await a.addUser('Alice@LocalHost', 's3cret')).toBe('alice@localhost');
    await expect(a.addUser('alice@localhost', 'x')).rejects.toThrow('user alice@localhost already exists');
    await expect(a.addUser('bob@example.org', 'x')).rejects.toThrow('example.org is not a local domain: add it first with `mailgate domain add example.org`');
    await expect(a.addUser('bob@localhost', '')).rejects.toThrow('empty password');
    await expect(a.addUser('a/b@localhost', 'x')).rejects.toThrow(/not allowed/);
    expect(a.listUsers()).toEqual([{ address: 'alice@localhost', scheme: 'SCRYPT' }]);
    expect(await a.authenticate('ALICE@localhost', 's3cret')).toBe('alice@localhost');
    expect(await a.authenticate('alice@localhost', 'S3cret')).toBeUndefined();
    expect(await a.authenticate('nobody@localhost', 's3cret')).toBeUndefined();
    expect(await a.authenticate('not an address', 's3cret')).toBeUndefined();
    expect(await a.authenticate('', '')).toBeUndefined();
    await a.setPassword('alice@localhost', 'new');
    expect(await a.authenticate('alice@localhost', 's3cret')).toBeUndefined();
    expect(await a.authenticate('alice@localhost', 'new')).toBe('alice@localhost');
    await expect(a.setPassword('nobody@localhost', 'x')).rejects.toThrow('no user nobody@localhost');
    a.deleteUser('alice@localhost');
    expect(a.resolve('alice@localhost')).toEqual({ kind: 'unknown' });
    expect(() => a.deleteUser('alice@localhost')).toThrow('no user alice@localhost');
    a.close();
  });

  test('import: all or nothing; existing users get the new hash; Dovecot hashes log in', async () => {
    const a = fresh(['example.org']);
    await a.addUser('alice@example.org', 'old');
    expect(() =>
      a.importUsers([
        { address: 'bob@example.org', stored: '{PLAIN}b' },
        { address: 'carol@example.org', stored: '{MD5}x' },
      ]),
    ).toThrow('carol@example.org: password scheme {MD5} is not supported');
    expect(() => a.importUsers([{ address: 'dave@remote.example', stored: '{PLAIN}d' }])).toThrow(/not a local domain/);
    expect(a.listUsers().map((u) => u.address)).toEqual(['alice@example.org']);
    const r = a.importUsers([
      { address: 'alice@example.org', stored: '$6$JjeEITPybGbyQxDp$XhDWg34lR5GaVAhuyminwh2AjwSfCSsTAKfEvchrFsbKEJZBic4osLNIksG7p0EnYkRCdoYUPYSaBjORGc5aK0' },
      { address: 'Bob@example.org', stored: '{BLF-CRYPT}$2y$05$RXBkfPkyXg41pP9aLZcAeeESlmN5/ca5FxXT4F2dBkZDsfd0Tz/Fa' },
    ]);
    expect(r).toEqual({ added: 1, updated: 1 });
    expect(a.listUsers()).toEqual([
      { address: 'alice@example.org', scheme: 'SHA512-CRYPT' },
      { address: 'bob@example.org', scheme: 'BLF-CRYPT' },
    ]);
    expect(await a.authenticate('alice@example.org', 'correct horse')).toBe('alice@example.org');
    expect(await a.authenticate('bob@example.org', 'correct horse')).toBe('bob@example.org');
    expect(await a.authenticate('alice@example.org', 'old')).toBeUndefined();
    a.close();
  });
});

describe('aliases', () => {
  test('add, resolve, own, list, delete; local targets must exist; loops refused', async () => {
    const a = fresh(['example.org']);
    await a.addUser('alice@example.org', 'a');
    await a.addUser('bob@example.org', 'b');
    a.addAlias('Team@example.org', ['alice@example.org', 'BOB@example.org', 'Friend@Remote.EXAMPLE']);
    a.addAlias('team@example.org', ['alice@example.org']); // already there: nothing new
    a.addAlias('info@example.org', ['team@example.org']);
    expect(a.listAliases()).toEqual([
      { address: 'info@example.org', targets: ['team@example.org'] },
      { address: 'team@example.org', targets: ['alice@example.org', 'bob@example.org', 'Friend@remote.example'] },
    ]);
    expect(a.resolve('INFO@example.org')).toEqual({
      kind: 'local',
      targets: [
        { type: 'mailbox', user: 'alice@example.org' },
        { type: 'mailbox', user: 'bob@example.org' },
        { type: 'remote', address: 'Friend@remote.example' },
      ],
    });
    expect(a.mayUseSender('bob@example.org', 'info@example.org')).toBe(true);
    expect(a.mayUseSender('bob@example.org', 'alice@example.org')).toBe(false);
    expect(() => a.addAlias('x@example.org', ['nobody@example.org'])).toThrow('nobody@example.org is neither a user nor an alias (its domain is local)');
    expect(() => a.addAlias('x@remote.example', ['alice@example.org'])).toThrow(/not a local domain/);
    expect(() => a.addAlias('team@example.org', ['info@example.org'])).toThrow(
      'alias team@example.org: alias loop: team@example.org -> info@example.org -> team@example.org',
    );
    expect(a.listAliases()).toHaveLength(2); // the refused target was not kept
    expect(() => a.deleteUser('bob@example.org')).toThrow('bob@example.org is a target of team@example.org: remove it from them first (mailgate alias del ALIAS bob@example.org)');
    a.deleteAlias('team@example.org', ['bob@example.org']);
    expect(() => a.deleteAlias('team@example.org', ['bob@example.org'])).toThrow('alias team@example.org has no target bob@example.org');
    a.deleteUser('bob@example.org');
    a.deleteAlias('info@example.org');
    expect(() => a.deleteAlias('info@example.org')).toThrow('no alias info@example.org');
    expect(a.resolve('info@example.org')).toEqual({ kind: 'unknown' });
    a.close();
  });
});

describe('persistence and paths', () => {
  test('what one open wrote, the next one reads; Maildir under <data_dir>/mail', async () => {
    const dataDir = join(root, 'persist', 'data');
    const a = openAccounts({ dataDir, localDomains: [] });
    a.addDomain('example.org');
    await a.addUser('alice@example.org', 'pw');
    a.close();
    const b = openAccounts({ dataDir, localDomains: [] });
    expect(b.isLocalDomain('example.org')).toBe(true);
    expect(await b.authenticate('alice@example.org', 'pw')).toBe('alice@example.org');
    expect(b.maildirOf('Alice@Example.org')).toBe(join(dataDir, 'mail', 'example.org', 'alice'));
    expect(() => b.maildirOf('../x@example.org')).toThrow(/no Maildir/);
    expect(b.resolve('bob@remote.example')).toEqual({ kind: 'remote' });
    b.close();
  });

  test('a running server sees at once what a command changed through another connection', async () => {
    const dataDir = join(root, 'shared', 'data');
    const server = openAccounts({ dataDir, localDomains: [] });
    const command = openAccounts({ dataDir, localDomains: [] });
    expect(server.isLocalDomain('example.org')).toBe(false);
    command.addDomain('example.org');
    await command.addUser('alice@example.org', 'pw');
    command.addAlias('info@example.org', ['alice@example.org']);
    expect(server.isLocalDomain('example.org')).toBe(true);
    expect(server.resolve('info@example.org')).toEqual({ kind: 'local', targets: [{ type: 'mailbox', user: 'alice@example.org' }] });
    expect(await server.authenticate('alice@example.org', 'pw')).toBe('alice@example.org');
    command.close();
    server.close();
  });
});

describe("a user's own quota", () => {
  test('set, changed field by field, cleared back to the configured one; listed; refusals', async () => {
    const a = fresh();
    await a.addUser('alice@localhost', 'a good password');
    await a.addUser('bob@localhost', 'a good password');
    expect(a.quotaOf('alice@localhost')).toBeUndefined();
    a.setQuota('Alice@LocalHost', { bytes: 1024 ** 3 });
    expect(a.quotaOf('alice@localhost')).toEqual({ bytes: 1024 ** 3 });
    a.setQuota('alice@localhost', { messages: 0 });
    expect(a.quotaOf('ALICE@localhost')).toEqual({ bytes: 1024 ** 3, messages: 0 });
    expect(a.listUsers().map((u) => [u.address, u.quota])).toEqual([
      ['alice@localhost', { bytes: 1024 ** 3, messages: 0 }],
      ['bob@localhost', undefined],
    ]);
    a.setQuota('alice@localhost', { bytes: null });
    expect(a.quotaOf('alice@localhost')).toEqual({ messages: 0 });
    a.setQuota('alice@localhost', { messages: null });
    expect(a.quotaOf('alice@localhost')).toBeUndefined();
    expect(() => a.setQuota('carol@localhost', { bytes: 1 })).toThrow(/no user carol@localhost/);
    expect(() => a.setQuota('alice@localhost', { bytes: -1 })).toThrow(AccountsError);
    expect(() => a.setQuota('alice@localhost', { messages: 1.5 })).toThrow(AccountsError);
    expect(a.quotaOf('not an address')).toBeUndefined();
    a.close();
  });

  test('an import sets the quotas it carries and leaves the others', async () => {
    const a = fresh();
    await a.addUser('alice@localhost', 'a good password');
    a.setQuota('alice@localhost', { bytes: 5 });
    a.importUsers([
      { address: 'alice@localhost', stored: '{PLAIN}x' },
      { address: 'bob@localhost', stored: '{PLAIN}y', quota: { messages: 7 } },
    ]);
    expect(a.quotaOf('alice@localhost')).toEqual({ bytes: 5 });
    expect(a.quotaOf('bob@localhost')).toEqual({ messages: 7 });
    a.close();
  });

  test('a database of the first schema gets the quota columns when opened (users kept)', async () => {
    const dataDir = join(root, 'old-schema', 'data');
    const a = openAccounts({ dataDir, localDomains: ['localhost'] });
    await a.addUser('alice@localhost', 'a good password');
    a.close();
    // back to version 1: what a Mailgate before the quota columns wrote
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(join(dataDir, 'accounts.sqlite'));
    db.exec('ALTER TABLE users DROP COLUMN quota_bytes; ALTER TABLE users DROP COLUMN quota_messages; UPDATE schema_version SET version = 1');
    db.close();
    const b = openAccounts({ dataDir, localDomains: ['localhost'] });
    expect(await b.authenticate('alice@localhost', 'a good password')).toBe('alice@localhost');
    b.setQuota('alice@localhost', { bytes: 100 });
    expect(b.quotaOf('alice@localhost')).toEqual({ bytes: 100 });
    b.close();
  });
});
