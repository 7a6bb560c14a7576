/**
 * Delivery into one Maildir in Dovecot's layout: the message goes to tmp/ (created 0600, exclusive), is
 * fsynced, renamed into new/ under its final name with S= and W=, and new/ is fsynced; only then is it
 * delivered. A crash before the rename leaves a file in tmp/ that no reader sees (Dovecot, and the store's
 * sweep in tmp-cleanup.ts, delete tmp/ files after 36 hours); after it, the message is there exactly once.
 *
 * Line ends: LF, as Dovecot's own LDA and LMTP write a Maildir (mail_save_crlf=no, its default). Dovecot
 * reads either form, but with LF the file is a plain Unix text file that every Maildir tool (mutt, mairix,
 * Dovecot, Courier) expects, S= is the size on disk, and W= gives IMAP's CRLF size without reading it.
 */
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { countLf, createCrlfToLf } from './crlf-to-lf.js';
import { maildirBaseName, maildirSizedName, nextMaildirTime, type MaildirTime } from './maildir-name.js';
import { fsyncDir } from './safe-fs.js';

export interface MaildirWriteOptions {
  /** The host part of the name (Dovecot: the system's hostname). */
  readonly hostname?: string;
  /** The clock, for tests. */
  readonly now?: () => MaildirTime;
  /**
   * A fixed base name (maildirKeyedBaseName: queue id and recipient) instead of a new unique one: a
   * repeated delivery of the same queued message overwrites its own leftover in tmp/ and renames onto its
   * own file in new/, so a crash between the rename and the queue's record never leaves two copies. (A copy
   * a reader already moved to cur/ is not looked for here; the mailbox store's delivery, delivery-batch.ts,
   * removes the repeat when its index has the earlier copy.)
   */
  readonly baseName?: string;
}

export interface MaildirWritten {
  /** The file's path in new/. */
  readonly path: string;
  /** Bytes on disk (LF line ends): S=. */
  readonly size: number;
  /** Bytes with CRLF line ends: W=. */
  readonly vsize: number;
}

const SUBDIRS = ['tmp', 'new', 'cur'] as const;

/** The microsecond clock: Date.now() has milliseconds only, hrtime adds the rest relative to it. */
const origin = { wall: Date.now() * 1000, hr: process.hrtime.bigint() };
function clock(): MaildirTime {
  const us = origin.wall + Number((process.hrtime.bigint() - origin.hr) / 1000n);
  return { secs: Math.floor(us / 1_000_000), usecs: us % 1_000_000 };
}

/** The last time a name was made in this process (shared by every Maildir: the pid is the same). */
let lastTime: MaildirTime | undefined;

function nextName(now: () => MaildirTime, host: string): string {
  lastTime = nextMaildirTime(now(), lastTime);
  return maildirBaseName(lastTime, process.pid, host);
}

/**
 * Creates the Maildir (and the directories above it) with cur/ new/ tmp/, each 0700, when missing; every
 * directory it creates is made durable in its parent.
 */
export async function ensureMaildir(maildir: string): Promise<void> {
  const created = await mkdir(maildir, { recursive: true, mode: 0o700 });
  const made: string[] = [];
  for (const sub of SUBDIRS) {
    try {
      await mkdir(join(maildir, sub), { mode: 0o700 });
      made.push(join(maildir, sub));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  if (made.length > 0) await fsyncDir(maildir);
  if (created !== undefined) {
    // mkdir returned the first directory it made: each one from there down needs its entry synced.
    for (let dir = maildir; dir.length >= created.length && dir !== dirname(dir); dir = dirname(dir)) {
      await fsyncDir(dirname(dir));
    }
  }
}

/**
 * Maildirs known to exist, so that a delivery costs no mkdir calls; one removed meanwhile shows as ENOENT
 * when the file is created, and is made again.
 */
const knownMaildirs = new Set<string>();

/**
 * Writes `message` (CRLF line ends) into `maildir`'s new/, durably; resolves with where it is. A function
 * is called for the message only once the tmp/ file is open, so a Maildir that cannot be made or opened
 * leaves no stream (and no queue-file descriptor) behind; a stream is destroyed on every failure.
 */
export async function writeToMaildir(
  maildir: string,
  source: Readable | (() => Readable),
  options: MaildirWriteOptions = {},
): Promise<MaildirWritten> {
  try {
    return await writeOpened(maildir, source, options);
  } catch (err) {
    if (typeof source !== 'function') source.destroy();
    throw err;
  }
}

async function writeOpened(maildir: string, source: Readable | (() => Readable), options: MaildirWriteOptions): Promise<MaildirWritten> {
  if (!knownMaildirs.has(maildir)) {
    await ensureMaildir(maildir);
    knownMaildirs.add(maildir);
  }
  const host = options.hostname ?? osHostname();
  const now = options.now ?? clock;
  // 'wx': never over another process's file with the same name; a clash takes the next microsecond. A
  // fixed name is ours alone: its leftover from an interrupted attempt is overwritten ('w').
  const fixed = options.baseName;
  let base = fixed ?? nextName(now, host);
  let handle;
  for (let attempt = 0; ; attempt++) {
    try {
      handle = await open(join(maildir, 'tmp', base), fixed === undefined ? 'wx' : 'w', 0o600);
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && attempt === 0) {
        await ensureMaildir(maildir);
        continue;
      }
      if (code !== 'EEXIST' || attempt >= 100) {
        knownMaildirs.delete(maildir);
        throw err;
      }
      base = nextName(now, host);
    }
  }
  const tmpPath = join(maildir, 'tmp', base);
  let size = 0;
  let lfs = 0;
  let message: Readable | undefined;
  try {
    message = typeof source === 'function' ? source() : source;
    const converter = createCrlfToLf();
    const write = async (bytes: Buffer): Promise<void> => {
      if (bytes.length === 0) return;
      size += bytes.length;
      lfs += countLf(bytes);
      await handle.write(bytes);
    };
    for await (const chunk of message) {
      await write(typeof chunk === 'string' ? converter.push(Buffer.from(chunk, 'latin1')) : converter.push(chunk as Buffer));
    }
    await write(converter.end());
    await handle.sync();
    await handle.close();
  } catch (err) {
    message?.destroy();
    await handle.close().catch(() => undefined);
    await unlink(tmpPath).catch(() => undefined);
    throw err;
  }
  const path = join(maildir, 'new', maildirSizedName(base, size, size + lfs));
  try {
    await rename(tmpPath, path);
    await fsyncDir(join(maildir, 'new'));
  } catch (err) {
    await unlink(tmpPath).catch(() => undefined);
    throw err;
  }
  return { path, size, vsize: size + lfs };
}
