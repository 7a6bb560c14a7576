/**
 * A handle on a folder that another session deleted and created again under the same name: SQLite may
 * give the new folder the old one's id, and its UIDs start at 1 again. The old handle's late writes (FETCH
 * saves its texts after its reply, between other sessions' steps) and reads must not reach the new folder.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { MailboxStore } from '../../../src/store/mailbox/mailbox-store.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

let tmp: TempDir;
let store: MailboxStore;

beforeEach(async () => {
  tmp = await makeTempDir('recreated-folder');
  store = openMaildirMailboxStore({ maildirOf: (u) => join(tmp.path, 'mail', u), hostname: 'mx.test' });
});
afterEach(async () => {
  await store.close();
  await tmp.remove();
});

const message = (subject: string): { content: Buffer } => ({ content: Buffer.from(`Subject: ${subject}\r\n\r\nbody\r\n`) });

it("an old handle's saved texts and reads never reach the folder made again in its place", async () => {
  const a = await store.openUser('alice');
  const b = await store.openUser('alice');
  await a.create('Other');
  await a.create('Z');
  for (let i = 0; i < 3; i++) await a.append('Z', message(`old ${i}`));
  const old = await a.open('Z', 'read-write');
  await old.snapshot();

  await b.delete('Z');
  await b.create('Z');
  for (let i = 0; i < 3; i++) await b.append('Z', message(`new ${i}`));
  const fresh = await b.open('Z', 'read-write');
  await fresh.snapshot();
  expect(fresh.uidValidity).not.toBe(old.uidValidity);

  const texts = new Map([1, 2, 3].map((uid) => [uid, `old text ${uid}`] as const));
  await old.saveMeta('fetch-text', texts);
  await old.saveMeta('header:subject', texts);
  expect((await fresh.meta([1, 2, 3], 'fetch-text')).size).toBe(0);
  expect((await fresh.meta([1, 2, 3], 'header:subject')).size).toBe(0);
  expect(await old.details([1, 2, 3])).toEqual([]);

  await old.close();
  await fresh.close();
  await a.release();
  await b.release();
});
