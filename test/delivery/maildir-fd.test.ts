/**
 * A Maildir delivery that fails leaves no queue file open (the review's finding 3: the message stream was
 * opened before the Maildir, and a Maildir that could not be made leaked one descriptor per attempt).
 * Counted in /proc/self/fd: the descriptors that point at the queue file.
 */
import { createReadStream } from 'node:fs';
import { readdir, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTransport } from '../../src/delivery/transport.js';
import { writeToMaildir } from '../../src/store/maildir/maildir-writer.js';
import { makeTempDir, type TempDir } from '../interop/harness/tmpdir.js';
import { accountsOf, message, request } from './request.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await makeTempDir('maildir-fd');
});
afterEach(async () => {
  await tmp.remove();
});

/** Descriptors of this process open on `path`. */
async function fdsOn(path: string): Promise<number> {
  let n = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(join('/proc/self/fd', fd)).catch(() => '');
    if (target === path) n++;
  }
  return n;
}

/** Lets a createReadStream's open (and a destroy's close) reach the kernel. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

describe('Maildir delivery and the queue file', () => {
  it('leaves no descriptor of the queue file open when the Maildir cannot be made', async () => {
    const queueFile = join(tmp.path, 'queue-file');
    const body = message('fd');
    await writeFile(queueFile, body);
    // A regular file where the user's Maildir should be: mkdir fails with ENOTDIR (or EEXIST).
    const blocker = join(tmp.path, 'carol');
    await writeFile(blocker, 'x\n');
    const accounts = accountsOf(['example.test'], ['carol@example.test'], tmp.path);
    accounts.maildirOf = () => blocker;
    const t = createTransport({ hostname: 'h' }, accounts);
    const streams: Readable[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const req = request(['carol@example.test'], body, {
          openMessage() {
            const s = createReadStream(queueFile);
            streams.push(s);
            return s;
          },
        });
        const [r] = await t.deliver(req);
        expect(r).toMatchObject({ status: 'deferred' });
      }
      await settle();
      expect(await fdsOn(queueFile)).toBe(0);
      expect(streams.every((s) => s.destroyed)).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('destroys a stream handed over directly when the tmp/ file cannot be opened', async () => {
    const queueFile = join(tmp.path, 'queue-file');
    await writeFile(queueFile, message('direct'));
    const blocker = join(tmp.path, 'blocker');
    await writeFile(blocker, '');
    const stream = createReadStream(queueFile);
    await expect(writeToMaildir(join(blocker, 'Maildir'), stream, { hostname: 'h' })).rejects.toThrow();
    await settle();
    expect(stream.destroyed).toBe(true);
    expect(await fdsOn(queueFile)).toBe(0);
  });

  it('calls a message factory only once the tmp/ file is open', async () => {
    const blocker = join(tmp.path, 'blocker');
    await writeFile(blocker, '');
    let opened = 0;
    const factory = (): Readable => {
      opened++;
      return createReadStream(blocker);
    };
    await expect(writeToMaildir(join(blocker, 'Maildir'), factory, { hostname: 'h' })).rejects.toThrow();
    expect(opened).toBe(0);
    const written = await writeToMaildir(join(tmp.path, 'ok', 'Maildir'), () => createReadStream(blocker), { hostname: 'h' });
    expect(written.size).toBe(0);
  });
});
