/** The Maildir writer on a real file system: layout, modes, names, contents, and uniqueness under load. */
import { readdir, readFile, rm, stat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureMaildir, writeToMaildir } from '../../../src/store/maildir/maildir-writer.js';
import { parseMaildirName } from '../../../src/store/maildir/maildir-name.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await makeTempDir('maildir');
});
afterEach(async () => {
  await tmp.remove();
});

const MESSAGE = 'Subject: hi\r\nFrom: a@example.org\r\n\r\nline one\r\nline two\r\n';

describe('writeToMaildir', () => {
  it('creates cur/ new/ tmp/ with 0700 and the message in new/ with 0600, LF line ends, S= and W=', async () => {
    const maildir = join(tmp.path, 'mail', 'example.org', 'alice');
    const written = await writeToMaildir(maildir, Readable.from([Buffer.from(MESSAGE)]), { hostname: 'mx/1:x' });
    for (const sub of ['', 'cur', 'new', 'tmp']) {
      expect((await stat(join(maildir, sub))).mode & 0o777, sub).toBe(0o700);
    }
    expect(await readdir(join(maildir, 'tmp'))).toEqual([]);
    const names = await readdir(join(maildir, 'new'));
    expect(names).toHaveLength(1);
    const name = names[0] as string;
    expect(join(maildir, 'new', name)).toBe(written.path);
    expect(name).toMatch(/^\d+\.M\d+P\d+\.mx\\0571\\072x,S=\d+,W=\d+$/);
    expect(name).not.toContain(':2,');
    const body = await readFile(written.path, 'latin1');
    expect(body).toBe(MESSAGE.replace(/\r\n/g, '\n'));
    const parsed = parseMaildirName(name);
    expect(parsed?.pid).toBe(process.pid);
    expect(parsed?.size).toBe(body.length);
    expect(parsed?.vsize).toBe(Buffer.byteLength(MESSAGE));
    expect((await stat(written.path)).mode & 0o777).toBe(0o600);
  });

  it('keeps an existing Maildir as it is', async () => {
    const maildir = await tmp.sub('box', 0o750);
    await mkdir(join(maildir, 'cur'), { mode: 0o750 });
    await ensureMaildir(maildir);
    expect((await stat(join(maildir, 'cur'))).mode & 0o777).toBe(0o750);
    expect((await stat(join(maildir, 'new'))).mode & 0o777).toBe(0o700);
  });

  it('gives 300 concurrent deliveries to one mailbox 300 different files', async () => {
    const maildir = join(tmp.path, 'box');
    const all = await Promise.all(
      Array.from({ length: 300 }, (_, i) => writeToMaildir(maildir, Readable.from([Buffer.from(`Subject: ${i}\r\n\r\nbody ${i}\r\n`)]))),
    );
    const names = await readdir(join(maildir, 'new'));
    expect(new Set(names).size).toBe(300);
    expect(new Set(all.map((w) => w.path)).size).toBe(300);
    const bodies = await Promise.all(names.map((n) => readFile(join(maildir, 'new', n), 'utf8')));
    expect(new Set(bodies).size).toBe(300);
  });

  it('makes unique names when the clock does not move at all', async () => {
    const maildir = join(tmp.path, 'box');
    const frozen = () => ({ secs: 1_700_000_000, usecs: 5 });
    for (let i = 0; i < 20; i++) await writeToMaildir(maildir, Readable.from([Buffer.from('x\r\n')]), { now: frozen, hostname: 'h' });
    const names = await readdir(join(maildir, 'new'));
    expect(new Set(names).size).toBe(20);
  });

  it('makes the Maildir again when it was removed after an earlier delivery', async () => {
    const maildir = join(tmp.path, 'box');
    await writeToMaildir(maildir, Readable.from([Buffer.from('a\r\n')]));
    await rm(maildir, { recursive: true });
    await writeToMaildir(maildir, Readable.from([Buffer.from('b\r\n')]));
    expect(await readdir(join(maildir, 'new'))).toHaveLength(1);
    expect((await stat(join(maildir, 'cur'))).isDirectory()).toBe(true);
  });

  it('leaves nothing behind when the message stream fails', async () => {
    const maildir = join(tmp.path, 'box');
    const broken = new Readable({
      read() {
        this.push(Buffer.from('Subject: x\r\n'));
        this.destroy(new Error('queue file unreadable'));
      },
    });
    await expect(writeToMaildir(maildir, broken)).rejects.toThrow('queue file unreadable');
    expect(await readdir(join(maildir, 'tmp'))).toEqual([]);
    expect(await readdir(join(maildir, 'new'))).toEqual([]);
  });
});

describe('writeToMaildir with a keyed name (a queued message to one recipient)', () => {
  it('leaves one file when the same delivery is repeated (a crash after the rename, before the queue recorded it)', async () => {
    const { maildirKeyedBaseName } = await import('../../../src/store/maildir/maildir-name.js');
    const maildir = join(tmp.path, 'box');
    const baseName = maildirKeyedBaseName(1_700_000_000_123, '0A1B2C3D4E5F6G', 'alice@localhost', 'mx.example');
    expect(baseName).toMatch(/^1700000000\.M123000Q0A1B2C3D4E5F6GR[0-9a-f]{12}\.mx\.example$/);
    // A leftover in tmp/ from an attempt killed mid-write is overwritten, not a reason to fail.
    await ensureMaildir(maildir);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(maildir, 'tmp', baseName), 'half a mess');
    const first = await writeToMaildir(maildir, Readable.from([Buffer.from(MESSAGE)]), { hostname: 'mx.example', baseName });
    const again = await writeToMaildir(maildir, Readable.from([Buffer.from(MESSAGE)]), { hostname: 'mx.example', baseName });
    expect(again.path).toBe(first.path);
    expect(await readdir(join(maildir, 'new'))).toHaveLength(1);
    expect(await readdir(join(maildir, 'tmp'))).toEqual([]);
    expect(await readFile(first.path, 'latin1')).toBe(MESSAGE.replace(/\r\n/g, '\n'));
    expect(parseMaildirName(first.path.slice(first.path.lastIndexOf('/') + 1))?.queueId).toBe('0A1B2C3D4E5F6G');
    // Another recipient of the same message gets its own name.
    expect(maildirKeyedBaseName(1_700_000_000_123, '0A1B2C3D4E5F6G', 'bob@localhost', 'mx.example')).not.toBe(baseName);
  });
});
