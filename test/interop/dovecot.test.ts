// Proves the private Dovecot harness (harness/dovecot.ts) with no Mailgate code: a message written by
// hand into a Maildir in Dovecot's layout (tmp/ then rename into new/ or cur/, as Mailgate's writer
// does, by root) is served over IMAP with its flags; a message sent over LMTP lands in the Maildir.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chmod, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Teardown } from './harness/teardown.js';
import { setupGuard } from './harness/setup-guard.js';
import { makeTempDir } from './harness/tmpdir.js';
import { dovecotHash, startDovecot, type Dovecot } from './harness/dovecot.js';
import { imapMessages } from './harness/imap.js';
import { parseScenario, runScenario } from './harness/smtp-scenario.js';

const LIMITS = { timeout: 60_000 };

/** Writes a message the Maildir way: into tmp/, then renamed into `dir` (new or cur) under `name`. */
async function deliverByHand(maildir: string, dir: 'new' | 'cur', name: string, text: string): Promise<void> {
  const tmp = join(maildir, 'tmp', name.split(':')[0] ?? name);
  await writeFile(tmp, text.replace(/\n/g, '\r\n'), { mode: 0o600 });
  await rename(tmp, join(maildir, dir, name));
}

describe('harness: private Dovecot (IMAP + LMTP) on a given Maildir', LIMITS, () => {
  const td = new Teardown();
  const setup = setupGuard();
  let dovecot: Dovecot;
  let alice = '';
  let bob = '';
  let carol = '';
  beforeAll(() =>
    setup.run(async () => {
      const tmp = await makeTempDir('dovecot-test');
      td.defer(() => tmp.remove());
      alice = join(tmp.path, 'mail', 'localhost', 'alice');
      bob = join(tmp.path, 'mail', 'localhost', 'bob');
      // Delivered before Dovecot starts (start hands the tree to Dovecot's mail user)...
      for (const sub of ['cur', 'new', 'tmp']) await tmp.sub(join('mail', 'localhost', 'alice', sub), 0o700);
      await deliverByHand(alice, 'new', `1700000000.M1P1.${hostname()}`, 'From: a@example.org\nSubject: first\n\nunread\n');
      await deliverByHand(alice, 'cur', `1700000001.M2P1.${hostname()}:2,S`, 'From: a@example.org\nSubject: second\n\nalready seen\n');
      // A writer that keeps everything private (0700 directories, 0600 files), as an MTA's data_dir may.
      const dataDir = await tmp.sub('data', 0o700);
      carol = join(dataDir, 'mail', 'localhost', 'carol');
      for (const sub of ['cur', 'new', 'tmp']) await tmp.sub(join('data', 'mail', 'localhost', 'carol', sub), 0o700);
      await chmod(join(dataDir, 'mail'), 0o700);
      await chmod(join(dataDir, 'mail', 'localhost'), 0o700);
      await deliverByHand(carol, 'new', `1700000003.M4P1.${hostname()}`, 'From: a@example.org\nSubject: private\n\nfor carol\n');
      dovecot = td.add(
        await startDovecot({
          users: [
            { name: 'alice@localhost', password: 'alice-secret', maildir: alice },
            { name: 'bob@localhost', password: 'bob-secret', maildir: bob },
            { name: 'carol@localhost', password: dovecotHash('carol-secret', 'SHA512-CRYPT'), maildir: carol },
          ],
          searchableFrom: dataDir,
        }),
      );
    }),
  );
  afterAll(() => td.run());

  test('IMAP shows the hand-delivered messages with their Maildir flags', async ({ onTestFailed }) => {
    setup.check();
    onTestFailed(async () => console.error(await dovecot.log()));
    // ...and after it started: written by root again, so handed over again.
    await deliverByHand(alice, 'new', `1700000002.M3P1.${hostname()}`, 'From: a@example.org\nSubject: third\n\nlater\n');
    await dovecot.adoptMaildir(alice);
    const msgs = await imapMessages({ port: dovecot.imapPort, user: 'alice@localhost', password: 'alice-secret' });
    const bySubject = new Map(msgs.map((m) => [/^Subject: (.*)$/m.exec(m.text)?.[1]?.trim(), m]));
    expect([...bySubject.keys()].sort()).toEqual(['first', 'second', 'third']);
    expect(bySubject.get('second')?.flags).toContain('\\Seen');
    expect(bySubject.get('first')?.flags).not.toContain('\\Seen');
    expect(bySubject.get('first')?.text).toContain('\r\n\r\nunread\r\n');
    // Dovecot moved what it saw from new/ into cur/, with the :2, info suffix.
    expect((await readdir(join(alice, 'new'))).length).toBe(0);
    expect((await readdir(join(alice, 'cur'))).every((n) => n.includes(':2,'))).toBe(true);
  });

  test('LMTP: one recipient delivered into its Maildir, an unknown one refused with 550 5.1.1', async ({ onTestFailed }) => {
    setup.check();
    onTestFailed(async () => console.error(await dovecot.log()));
    const lmtp = parseScenario('lmtp', {
      description: 'LMTP delivery, one reply per accepted recipient after the final dot',
      steps: [
        { expect: '220' },
        { send: 'LHLO client.example', expect: '250' },
        { send: 'MAIL FROM:<sender@example.org>', expect: '250 2.1.0' },
        { send: 'RCPT TO:<bob@localhost>', expect: '250 2.1.5' },
        { send: 'RCPT TO:<nobody-here@localhost>', expect: '550 5.1.1' },
        { send: 'DATA', expect: '354' },
        { raw: 'From: sender@example.org\r\nSubject: over lmtp\r\n\r\nhello bob\r\n.\r\n', expect: ['250 2.0.0'] },
        { send: 'QUIT', expect: '221', close: true },
      ],
    });
    const r = await runScenario(lmtp, { name: 'dovecot-lmtp', port: dovecot.lmtpPort });
    expect(r.ok, r.transcript).toBe(true);
    const files = await readdir(join(bob, 'new'));
    expect(files).toHaveLength(1);
    // Dovecot's Maildir names carry the size: ...,S=<bytes>,W=<bytes with CRLF>
    expect(files[0]).toMatch(/^\d+\.M\d+P\d+\..+,S=\d+,W=\d+$/);
    expect(await readFile(join(bob, 'new', files[0] ?? ''), 'utf8')).toContain('Subject: over lmtp');
    const msgs = await imapMessages({ port: dovecot.imapPort, user: 'bob@localhost', password: 'bob-secret' });
    expect(msgs.map((m) => /^Subject: (.*)$/m.exec(m.text)?.[1]?.trim())).toEqual(['over lmtp']);
  });

  // Last: a failed login makes Dovecot's anvil delay the next logins from 127.0.0.1 (auth penalty, 2 s and up).
  test('a Maildir under private (0700) directories, opened with searchableFrom; a {SHA512-CRYPT} password from doveadm pw', async () => {
    setup.check();
    const msgs = await imapMessages({ port: dovecot.imapPort, user: 'carol@localhost', password: 'carol-secret' });
    expect(msgs.map((m) => /^Subject: (.*)$/m.exec(m.text)?.[1]?.trim())).toEqual(['private']);
  });

  test('a wrong password is refused', async () => {
    setup.check();
    await expect(imapMessages({ port: dovecot.imapPort, user: 'alice@localhost', password: 'wrong' })).rejects.toThrow(/AUTHENTICATIONFAILED|Authentication failed/);
  });
});
