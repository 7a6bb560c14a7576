/**
 * The SMTP server with the real SQLite Accounts (store/accounts/) instead of the in-memory fake: AUTH
 * against a scrypt hash, an alias expanded at RCPT, an unknown user refused, sender ownership.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Chain } from '../../src/chain/chain.js';
import { openAccounts } from '../../src/store/accounts/open.js';
import { createSmtpServer, type MailServer } from '../../src/smtp/server.js';
import { makeTempDir, type TempDir } from '../interop/harness/tmpdir.js';
import { MemorySpool } from './fakes.js';
import { SMTP_DEFAULTS, captureLogger, swaks, testCertificate } from './harness.js';

let tmp: TempDir;
let server: MailServer;
let accounts: ReturnType<typeof openAccounts>;
const spool = new MemorySpool();
const chain = new Chain([], { fallbackStatus: 'accept' });
const port = (kind: string) => server.addresses.find((a) => a.kind === kind)!.port;

beforeAll(async () => {
  tmp = await makeTempDir('smtp-accounts');
  accounts = openAccounts({ dataDir: tmp.path, localDomains: ['localhost'] });
  accounts.addDomain('example.org');
  await accounts.addUser('alice@example.org', 'correct horse');
  accounts.addAlias('info@example.org', ['alice@example.org']);
  server = createSmtpServer(
    {
      hostname: 'mx.test',
      smtp: { ...SMTP_DEFAULTS, mynetworks: [] },
      submission: { listen: [{ host: '127.0.0.1', port: 0 }], tlsListen: [] },
      tls: await testCertificate(),
      reverseLookup: false,
    },
    { chain, accounts, spool, logger: captureLogger([]) },
  );
  await server.listen();
});

afterAll(async () => {
  await server.close(0.1);
  await chain.dispose();
  accounts.close();
  await tmp.remove();
});

it('takes mail for an alias of a local user and refuses an unknown one', async () => {
  const ok = await swaks(port('mx'), ['--from', 'x@remote.example', '--to', 'info@example.org']);
  expect(ok.exitCode, ok.stdout).toBe(0);
  expect(spool.messages.at(-1)!.recipients).toEqual([{ address: 'alice@example.org', original: 'info@example.org' }]);
  const unknown = await swaks(port('mx'), ['--from', 'x@remote.example', '--to', 'nobody@example.org']);
  expect(unknown.stdout).toContain('550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table');
});

it('authenticates against the stored hash and lets the user relay from the addresses it owns', async () => {
  const ok = await swaks(port('submission'), ['--tls', '--auth', 'PLAIN', '--auth-user', 'alice@example.org', '--auth-password', 'correct horse', '--from', 'alice@example.org', '--to', 'friend@other.example']);
  expect(ok.exitCode, ok.stdout).toBe(0);
  const bad = await swaks(port('submission'), ['--tls', '--auth', 'PLAIN', '--auth-user', 'alice@example.org', '--auth-password', 'wrong', '--from', 'alice@example.org', '--to', 'friend@other.example']);
  expect(bad.stdout).toContain('535 5.7.8 Error: authentication failed');
});

it('resolves a bare postmaster against the local domains of the database too, and refuses it without one', async () => {
  const none = await swaks(port('mx'), ['--from', 'x@remote.example', '--to', 'postmaster', '--quit-after', 'RCPT']);
  expect(none.stdout).toContain('550 5.1.1 <postmaster>: Recipient address rejected: User unknown in virtual mailbox table');
  // example.org is local from the database only (not from the configuration).
  accounts.addAlias('postmaster@example.org', ['alice@example.org']);
  const ok = await swaks(port('mx'), ['--from', 'x@remote.example', '--to', 'postmaster']);
  expect(ok.exitCode, ok.stdout).toBe(0);
  expect(spool.messages.at(-1)!.recipients).toEqual([{ address: 'alice@example.org', original: 'postmaster' }]);
});

it('refuses a user-owned sender (the user or an alias of it) from a client that did not log in', async () => {
  for (const from of ['alice@example.org', 'info@example.org']) {
    const r = await swaks(port('mx'), ['--from', from, '--to', 'alice@example.org', '--quit-after', 'MAIL']);
    expect(r.stdout).toContain(`553 5.7.1 <${from}>: Sender address rejected: not logged in`);
  }
});
