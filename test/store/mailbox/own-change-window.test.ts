/**
 * The store's own file operations keep the directory stamps trusted (no rescan of a 100,000-file cur/ after
 * our own STORE), but a message another program drops into new/ meanwhile must still be found: new/ is
 * trusted after an operation only when it did not move (found by the review of issue 11).
 */
import { watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import type { MailboxStore } from '../../../src/store/mailbox/mailbox-store.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

let tmp: TempDir;
let store: MailboxStore;
beforeEach(async () => {
  tmp = await makeTempDir('own-change');
  store = openMaildirMailboxStore({ maildirOf: (u) => join(tmp.path, 'mail', u), hostname: 'mx.test' });
});
afterEach(async () => {
  await store.close();
  await tmp.remove();
});

it('a file another program drops into new/ during our own STORE is still seen afterwards', async () => {
  const root = join(tmp.path, 'mail', 'alice');
  const user = await store.openUser('alice');
  for (let i = 0; i < 300; i++) await user.append('INBOX', { content: Buffer.from(`Subject: ${i}\r\n\r\nx\r\n`) });
  const box = await user.open('INBOX', 'read-write');
  const snap = await box.snapshot();
  expect(snap.records.length).toBe(300);
  await new Promise((r) => setTimeout(r, 2500)); // stamps out of the dirty window
  await box.changesSince(0);
  let dropped = false;
  const w = watch(join(root, 'cur'), () => {
    if (dropped) return;
    dropped = true;
    writeFileSync(join(root, 'new', '1700000000.M1P1.other'), 'Subject: external\r\n\r\nhello\r\n');
  });
  await box.setFlags(snap.records.map((r) => r.uid), { mode: 'add', flags: ['\\Seen'] });
  w.close();
  expect(dropped).toBe(true);
  await new Promise((r) => setTimeout(r, 3000));
  const box2 = await user.open('INBOX', 'read-only');
  const s2 = await box2.snapshot();
  expect(s2.records.length).toBe(301);
  await box2.close();
  await box.close();
  await user.release();
}, 30000);
