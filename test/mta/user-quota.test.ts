// A user's own quota through the built CLI and `mailgate start`: `mailgate user quota` (and a Dovecot
// passwd-file's quota_rule, through `mailgate user import`) set limits over [mailbox] quota; the running
// server applies them at the next delivery and login without a restart: a delivery over the limit is
// bounced with 5.2.2 (as Dovecot's LMTP with quota_full_tempfail = no) while another user's goes in, and
// IMAP GETQUOTAROOT (imapflow) reports the user's own limit.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMta, type Mta } from '../interop/harness/mta.js';
import { connectImapflow } from '../interop/harness/imapflow-client.js';
import { swaksRaw } from '../interop/harness/swaks.js';
import { describeResult, waitFor } from '../interop/harness/process.js';

const PASSWORD = 'wonderland-42';

async function send(mta: Mta, to: string, subject: string): Promise<void> {
  const r = await swaksRaw(['--server', `127.0.0.1:${mta.mxPort}`, '--from', 'sender@example.org', '--to', to, '--header', `Subject: ${subject}`, '--body', 'hello']);
  expect(r.stdout, describeResult(r)).toMatch(/<- {2}250 2\.0\.0 Ok: queued as/);
}

describe("mailgate start with users' own quotas", () => {
  let mta: Mta;

  beforeAll(async () => {
    mta = await makeMta({ extra: '[mailbox]\nquota_messages = 10\n' });
    await mta.addUser('alice@localhost', PASSWORD);
    await mta.addUser('bob@localhost', PASSWORD);
    await mta.start();
  }, 60_000);
  afterAll(async () => {
    await mta?.remove();
  });

  it('a limit set while the server runs applies to the next delivery: over it, 5.2.2; the other user is not limited by it', async () => {
    const set = await mta.cli(['user', 'quota', 'alice@localhost', '--messages', '1']);
    expect(set.stdout, describeResult(set)).toBe('alice@localhost: quota storage default, messages 1\n');
    await send(mta, 'alice@localhost', 'first');
    await mta.waitForMaildir('alice@localhost', 1);
    await send(mta, 'alice@localhost', 'second');
    await send(mta, 'bob@localhost', 'for bob');
    await mta.waitForMaildir('bob@localhost', 1);
    await waitFor("the bounce of alice's second message", () => (/to=<alice@localhost>[^\n]*dsn=5\.2\.2, status=bounced/.test(mta.daemon().output()) ? true : undefined), { timeoutMs: 20_000 });
    expect(await mta.maildir('alice@localhost')).toHaveLength(1);
  }, 60_000);

  it('IMAP GETQUOTAROOT reports the own limit, and the configured one for a user without', async () => {
    for (const [user, limit] of [['alice@localhost', 1], ['bob@localhost', 10]] as const) {
      const c = await connectImapflow({ port: mta.imapPort, user, password: PASSWORD });
      try {
        // imapflow names each resource of the QUOTA response in lower case (MESSAGE: message)
        const q = (await c.client.getQuota('INBOX')) as unknown as { message?: object } | false;
        expect(q && q.message, c.transcript()).toMatchObject({ usage: 1, limit });
      } finally {
        await c.close();
      }
    }
  }, 30_000);

  it("a Dovecot passwd-file's quota_rule comes over with the import", async () => {
    const file = join(mta.dir.path, 'users.passwd');
    await writeFile(file, 'carol@localhost:{PLAIN}wonderland-42::::::userdb_quota_rule=*:storage=1048576:messages=3\n');
    const r = await mta.cli(['user', 'import', file]);
    expect(r.stdout, describeResult(r)).toBe(`${file}: 1 user added, 0 updated\n`);
    const q = await mta.cli(['user', 'quota', 'carol@localhost']);
    expect(q.stdout).toBe('carol@localhost: quota storage 1G, messages 3\n');
    const c = await connectImapflow({ port: mta.imapPort, user: 'carol@localhost', password: PASSWORD });
    try {
      const got = await c.client.getQuota('INBOX');
      expect(got && got.storage, c.transcript()).toMatchObject({ limit: 1024 ** 3 });
    } finally {
      await c.close();
    }
  }, 30_000);
});
