/**
 * Local delivery into the Maildir store in batches: many deliveries to one user at once all get their own
 * UID, and the quota counts each message once (the batch's own files, already seen by a sync, are not
 * counted twice).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { MailboxError, type MailboxStore } from '../../../src/store/mailbox/mailbox-store.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';
import { writeToMaildir } from '../../../src/store/maildir/maildir-writer.js';
import { message } from './contract.js';

const USER = 'alice@example.org';
let tmp: TempDir | undefined;
let store: MailboxStore | undefined;
afterEach(async () => {
  await store?.close();
  await tmp?.remove();
  store = tmp = undefined;
});

async function open(options: { quotaMessages?: number; quotaBytes?: number } = {}): Promise<MailboxStore> {
  tmp = await makeTempDir('delivery-batch');
  const root = tmp.path;
  store = openMaildirMailboxStore({ maildirOf: (user) => join(root, encodeURIComponent(user)), hostname: 'mx.example.org', ...options });
  return store;
}

const deliver = (s: MailboxStore, i: number): Promise<unknown> =>
  s.delivery.deliver(USER, () => Readable.from([message(`m${i}`)]), { hostname: 'mx.example.org', baseName: `${1700000000 + i}.M1Q${i}R1.mx` });

describe('delivery in batches', () => {
  it('gives 200 deliveries at once 200 distinct UIDs, each file indexed once', async () => {
    const s = await open();
    await Promise.all(Array.from({ length: 200 }, (_, i) => deliver(s, i)));
    const box = await (await s.openUser(USER)).open('INBOX', 'read-only');
    const uids = (await box.snapshot()).records.map((r) => r.uid);
    expect(uids).toHaveLength(200);
    expect(new Set(uids).size).toBe(200);
    await box.close();
  });

  it('counts each message once against the quota (the review\'s double count refused a delivery under the limit)', async () => {
    const s = await open({ quotaMessages: 3 });
    const user = await s.openUser(USER);
    await user.append('INBOX', { content: message('a') });
    await user.append('INBOX', { content: message('b') });
    await deliver(s, 1);
    expect((await user.quota()).messages).toBe(3);
    const refused = await deliver(s, 2).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MailboxError);
    expect((refused as MailboxError).code).toBe('OVERQUOTA');
    expect((await user.status('INBOX')).messages).toBe(3);
  });

  it('in a burst, takes what fits and refuses the rest, leaving nothing of them', async () => {
    const s = await open({ quotaMessages: 5 });
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => deliver(s, i)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const user = await s.openUser(USER);
    expect((await user.status('INBOX')).messages).toBe(5);
    expect((await user.quota()).messages).toBe(5);
  });

  // Review finding (issue 11): a deferred delivery retried after its first copy was seen (moved to cur/ by
  // a read-write SELECT) left a second file with the same base in new/.
  it('two deliveries of one message to one user at once (alias and address: one keyed name) leave one message, both succeed', async () => {
    // Both land in one batch with the same file: indexing its base twice broke the batch's transaction
    // (UNIQUE) and failed every delivery in it, again at each retry (session 8 review).
    const s = await open();
    await Promise.all([deliver(s, 7), deliver(s, 7), deliver(s, 8)]);
    const box = await (await s.openUser(USER)).open('INBOX', 'read-only');
    expect((await box.snapshot()).records).toHaveLength(2);
    await box.close();
    expect((await readdir(join(tmp!.path, encodeURIComponent(USER), 'new'))).length).toBe(2);
  });

  it('a retried delivery whose first copy a session moved to cur/ leaves one message, one file', async () => {
    const s = await open();
    const maildir = join(tmp!.path, encodeURIComponent(USER));
    await deliver(s, 7);
    const user = await s.openUser(USER);
    const box = await user.open('INBOX', 'read-write');
    expect((await box.snapshot()).records).toHaveLength(1);
    await box.close();
    expect(await readdir(join(maildir, 'new'))).toEqual([]);
    await deliver(s, 7); // the queue's retry: the same keyed name
    expect((await user.status('INBOX')).messages).toBe(1);
    expect(await readdir(join(maildir, 'new'))).toEqual([]);
    expect(await readdir(join(maildir, 'cur'))).toHaveLength(1);
  });

  it('a retry after a first copy that got onto disk but not into the index (then seen by a session) leaves one copy', async () => {
    const s = await open();
    const maildir = join(tmp!.path, encodeURIComponent(USER));
    // The first attempt: on disk, the index step failed (the delivery was deferred).
    await writeToMaildir(maildir, Readable.from([message('m8')]), { hostname: 'mx.example.org', baseName: '1700000008.M1Q8R1.mx' });
    const user = await s.openUser(USER);
    const box = await user.open('INBOX', 'read-write');
    expect((await box.snapshot()).records).toHaveLength(1);
    await box.close();
    await deliver(s, 8);
    expect((await user.status('INBOX')).messages).toBe(1);
    expect([...(await readdir(join(maildir, 'new'))), ...(await readdir(join(maildir, 'cur')))]).toHaveLength(1);
  });

  it('a retry while the first copy is still in new/ replaces it in place', async () => {
    const s = await open();
    const maildir = join(tmp!.path, encodeURIComponent(USER));
    await deliver(s, 9);
    await deliver(s, 9);
    const user = await s.openUser(USER);
    expect((await user.status('INBOX')).messages).toBe(1);
    expect(await readdir(join(maildir, 'new'))).toHaveLength(1);
  });
});
