/**
 * Dovecot's dotlock for a Maildir control file (dovecot-uidlist, dovecot-keywords): `<file>.lock` created
 * with O_EXCL; the holder may write the file's new content into the lock file and rename it over the file
 * (Dovecot's file_dotlock_replace), which is the atomic rewrite and the unlock at once. A lock whose mtime is
 * older than the stale time (2 minutes for the uidlist, Dovecot's MAILDIR_UIDLIST_LOCK_STALE_TIMEOUT) is
 * taken to be left by a dead process and removed; a live holder keeps it fresh: its lock file (through
 * its own descriptor, so never a lock it no longer owns) is touched every quarter of the stale time while
 * it is held, whatever it is doing (a first fill's renames and rows, a slow disk), for at most `maxHoldMs`
 * (a lock leaked by a holder that never lets it go then goes stale instead of blocking the folder for
 * good). The lock holds `<pid>:<hostname>` as Dovecot's do, so one left by a process of this host that no
 * longer exists (a server killed with SIGKILL) is removed at once instead of blocking delivery for the
 * stale time. One naming a live process of this host is not broken at the stale time: Dovecot never
 * overrides a live local holder's lock, and does not touch its own while it works (a long uidlist write,
 * a slow disk). It is broken only once untouched for `maxHoldMs` plus the stale time, the bound on a pid
 * that looks alive because it was reused after its holder crashed. Other locks (another host's, an empty
 * or unreadable one) are stale after the stale time. A holder checks that the lock is still its own before
 * it writes under it (`verify`): one taken over as stale must not append to the file the new holder owns.
 * The lock is never empty: its content is written to a temp file first, which is then hard-linked to the
 * lock name.
 */
import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fsyncDir } from './safe-fs.js';

export interface DotlockOptions {
  /** A lock older than this is removed (ms). Default 120,000. */
  readonly staleMs?: number;
  /** Give up after this long (ms), throwing an Error with code 'EAGAIN'. Default 30,000. */
  readonly timeoutMs?: number;
  /** A held lock is kept fresh this long at most (ms). Default 15 times the stale time (30 minutes). */
  readonly maxHoldMs?: number;
  /** Mode of the lock file, which becomes the file's mode on replace(). Default 0600. */
  readonly mode?: number;
  /** The clock, for tests (ms). */
  readonly now?: () => number;
}

/** The lock was taken over (judged stale by another process) or let go: nothing may be written under it. */
export class DotlockLostError extends Error {
  readonly code = 'ELOCKLOST';
  constructor(lockPath: string) {
    super(`${lockPath} is no longer held (taken over as stale, or let go)`);
    this.name = 'DotlockLostError';
  }
}

export interface Dotlock {
  /** The locked file (not the lock). */
  readonly path: string;
  readonly lockPath: string;
  /** Throws DotlockLostError unless the lock is still held and still this holder's file. */
  verify(): Promise<void>;
  /** Keeps the lock from looking stale during a long operation (nothing once it is let go). */
  touch(): Promise<void>;
  /** Writes `content` into the lock file, fsyncs it, renames it over `path`, fsyncs the directory: unlocked. */
  replace(content: string | Buffer): Promise<void>;
  /** Removes the lock without changing the file. Idempotent. */
  release(): Promise<void>;
}

export const DEFAULT_STALE_MS = 120_000;

/** What a lock file says of its holder: `<pid>:<hostname>`, as Dovecot's file_dotlock writes it. */
export function lockOwner(): string {
  return `${process.pid}:${hostname()}`;
}

/**
 * What the lock says of its holder: a process of this host that is gone ('dead') or there ('alive'), or
 * 'unknown' — an empty or foreign lock (another host, a holder still writing its content) or one of this
 * very process (whose holders touch theirs). 'dead' is broken at once, 'alive' only after maxHoldMs plus
 * the stale time (removeIfStale), 'unknown' after the stale time.
 */
export function holderState(content: string): 'dead' | 'alive' | 'unknown' {
  const match = /^(\d+):(.*)$/.exec(content.trim());
  if (match === null || match[2] !== hostname()) return 'unknown';
  const pid = Number(match[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return 'unknown';
  try {
    process.kill(pid, 0);
    return 'alive';
  } catch (err) {
    // EPERM: it exists (another user's).
    return (err as NodeJS.ErrnoException).code === 'ESRCH' ? 'dead' : 'alive';
  }
}


/** Takeovers of one lock path judged one at a time in this process (the check and the unlink are two steps). */
const judging = new Map<string, Promise<unknown>>();

function inTurn<T>(key: string, step: () => Promise<T>): Promise<T> {
  const run = (judging.get(key) ?? Promise.resolve()).then(step, step);
  const settled = run.catch(() => undefined);
  judging.set(key, settled);
  void settled.then(() => {
    if (judging.get(key) === settled) judging.delete(key);
  });
  return run;
}

/**
 * Removes a lock left by a dead holder (naming a gone process of this host; naming a live one of this host
 * and untouched for longer than `aliveMs`; otherwise untouched for longer than the stale time); true when
 * it was one. Removed only if it is still the file judged, not a lock another waiter has just
 * taken over: the inode alone does not tell (ext4 hands a freed inode out again at once, so two waiters
 * could each remove the other's fresh lock: found by the review), the inode with the nanosecond change
 * time and the content does. Another process can still slip in between the last check and the unlink, as
 * with Dovecot's own dotlocks; the O_EXCL create then picks one waiter.
 */
async function removeIfStale(lockPath: string, staleMs: number, aliveMs: number, now: () => number): Promise<boolean> {
  const st = await stat(lockPath, { bigint: true }).catch(() => undefined);
  if (st === undefined) return false;
  const content = await readFile(lockPath, 'latin1').catch(() => '');
  const holder = holderState(content);
  if (holder !== 'dead' && now() - Number(st.mtimeMs) <= (holder === 'alive' ? aliveMs : staleMs)) return false;
  const again = await stat(lockPath, { bigint: true }).catch(() => undefined);
  const same = again !== undefined && again.ino === st.ino && again.ctimeNs === st.ctimeNs && again.mtimeNs === st.mtimeNs;
  if (same && (await readFile(lockPath, 'latin1').catch(() => undefined)) === content) await unlink(lockPath).catch(() => undefined);
  return true;
}

/**
 * Creates the lock already holding `<pid>:<hostname>`, or undefined when it exists: a temp file with the
 * content, hard-linked to the lock name (link fails with EEXIST as O_EXCL does), as Dovecot's hard-link
 * dotlock method. Created with O_EXCL and written after, a SIGKILL between the two left an empty lock that
 * names no holder, judged by its age alone: local delivery stopped for the 2-minute stale time and the queue
 * then deferred it 5 minutes (the SIGKILL test timed out under load). A kill now leaves at most the temp
 * file, a dot-file that is no folder.
 */
async function createLock(lockPath: string, mode: number): Promise<FileHandle | undefined> {
  const temp = join(dirname(lockPath), `.${basename(lockPath)}.${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}`);
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    await handle.write(lockOwner());
    await link(temp, lockPath);
    return handle;
  } catch (err) {
    await handle.close().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return undefined;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') return createLockExcl(lockPath, mode);
    throw err;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** On a file system without hard links: O_EXCL, then the content (Dovecot's dotlock_use_excl). */
async function createLockExcl(lockPath: string, mode: number): Promise<FileHandle | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw err;
  }
  await handle.write(lockOwner());
  return handle;
}

export async function acquireDotlock(path: string, options: DotlockOptions = {}): Promise<Dotlock> {
  const lockPath = `${path}.lock`;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const now = options.now ?? Date.now;
  const maxHoldMs = options.maxHoldMs ?? staleMs * 15;
  const started = Date.now();
  let handle: FileHandle | undefined;
  for (let wait = 10; handle === undefined; wait = Math.min(wait * 2, 200)) {
    handle = await createLock(lockPath, options.mode ?? 0o600);
    if (handle !== undefined) break;
    if (await inTurn(lockPath, () => removeIfStale(lockPath, staleMs, maxHoldMs + staleMs, now))) continue;
    if (Date.now() - started >= timeoutMs) {
      throw Object.assign(new Error(`timed out waiting for ${lockPath}`), { code: 'EAGAIN' });
    }
    await sleep(wait);
  }
  const held = handle;
  let ino: number;
  try {
    ino = (await held.stat()).ino;
  } catch (err) {
    await held.close().catch(() => undefined);
    await unlink(lockPath).catch(() => undefined);
    throw err;
  }
  /**
   * Still ours: a holder that overran the stale time may have had its lock taken over (Dovecot checks too).
   * Asked while `held` is open, so the inode cannot have been freed and handed to another lock.
   */
  const stillOurs = async (): Promise<boolean> => (await stat(lockPath).catch(() => undefined))?.ino === ino;
  let done = false;
  const acquired = now();
  // Through the descriptor: only our own lock file is ever touched (taken over, it is no longer the lock).
  const touch = async (): Promise<void> => {
    if (done) return;
    const t = new Date(now());
    await held.utimes(t, t);
  };
  // Fresh while held, up to maxHoldMs; unref'd, so a held lock never keeps the process alive by itself.
  const fresh = setInterval(() => {
    if (done || now() - acquired > maxHoldMs) clearInterval(fresh);
    else void touch().catch(() => undefined);
  }, Math.max(1000, Math.floor(staleMs / 4)));
  fresh.unref();
  return {
    path,
    lockPath,
    touch,
    async verify() {
      if (done || !(await stillOurs())) throw new DotlockLostError(lockPath);
    },
    async replace(content) {
      if (done) throw new Error(`${lockPath} is no longer held`);
      // Let go from here on, whatever happens: no more touches, and release() does nothing.
      done = true;
      clearInterval(fresh);
      let ours = false;
      let closed = false;
      let renamed = false;
      try {
        await held.truncate(0);
        await held.write(typeof content === 'string' ? Buffer.from(content, 'utf8') : content, 0, undefined, 0);
        await held.sync();
        ours = await stillOurs();
        closed = true;
        await held.close();
        if (!ours) throw new DotlockLostError(lockPath);
        await rename(lockPath, path);
        renamed = true;
        await fsyncDir(dirname(path));
      } catch (err) {
        if (!renamed) {
          const mine = closed ? ours : await stillOurs();
          await held.close().catch(() => undefined);
          if (mine) await unlink(lockPath).catch(() => undefined);
        }
        throw err;
      }
    },
    async release() {
      clearInterval(fresh);
      if (done) return;
      done = true;
      const mine = await stillOurs();
      await held.close().catch(() => undefined);
      if (!mine) return;
      await unlink(lockPath).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    },
  };
}
