/**
 * Puts a listening unix socket at its path with its final owner, group and mode from the first
 * moment. A socket is created with the mode the umask leaves and Postfix may connect the moment it
 * appears, so it is bound in a private directory (mkdtemp: 0700, ours) beside its path, given its
 * permissions there, and hard-linked into place. A umask around bind would close that window too, but
 * process.umask() is process-wide and throws in a worker thread.
 *
 * link(2), not rename(2): rename silently replaces whatever is at the path, so a second server on the
 * same path would "succeed" and leave the first listening on an unreachable socket. link fails with
 * EEXIST instead: a dead socket there is removed and the link tried once more, a live one refused.
 *
 * The private directory's entry sits in the socket's directory, which others may be able to write
 * (a group-writable directory without the sticky bit lets a group member rename our entry away and
 * put a symlink in its place between bind and chmod, making a root process chmod a file of their
 * choosing). So the directory is opened once without following symlinks, checked to be ours and
 * private, and every later step reaches the socket through that descriptor (/proc/self/fd/N/s):
 * only we can create a name in it, so what we chmod and link is the socket we bound.
 *
 * The price: the kernel keeps the path given to bind, so `ss -xl` and /proc/net/unix name the
 * private one, gone by then.
 */
import { constants, existsSync } from 'node:fs';
import { link, lstat, mkdtemp, open, readdir, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { applySocketPermissions, removeStaleSocket, socketAnswers, SocketSetupError, type ResolvedPermissions } from './socket-file.js';

/** Usable bytes of sockaddr_un.sun_path on Linux (108 with the terminating NUL). */
export const SUN_PATH_MAX = 107;
/** mkdtemp's private directory: this prefix and six random characters. */
const PRIVATE_PREFIX = '.mg';
const PRIVATE_NAME = /^\.mg[A-Za-z0-9]{6}$/;
/** A private directory younger than this may be another server's bind in progress: left alone. */
const LEFTOVER_AGE_MS = 60_000;
/** Without /proc (not Linux), the socket is reached by its path: the group-writable-directory race stays open there. */
const PROC_FD = existsSync('/proc/self/fd');

/** The socket file this process put at its path, so close removes the path only while it is still this one. */
export interface BoundSocket {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
}

/** A directory held open: names inside it are reached through the descriptor, not through its path. */
interface PinnedDir {
  readonly dev: number;
  readonly ino: number;
  entry(name: string): string;
  close(): Promise<void>;
}

/** Opens `dir` without following a symlink and checks it is a directory of ours that no one else can write. */
async function pinOwnDirectory(dir: string): Promise<PinnedDir | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  const st = await handle.stat();
  if (!st.isDirectory() || st.uid !== process.geteuid?.() || (st.mode & 0o077) !== 0) {
    await handle.close();
    return undefined;
  }
  return {
    dev: st.dev,
    ino: st.ino,
    entry: (name) => (PROC_FD ? `/proc/self/fd/${handle.fd}/${name}` : join(dir, name)),
    close: () => handle.close(),
  };
}

/** rmdir `dir` only if its name still leads to the directory we held. */
async function removeDirectoryIfSame(dir: string, pinned: PinnedDir): Promise<void> {
  const st = await lstat(dir).catch(() => undefined);
  if (st?.isDirectory() && st.dev === pinned.dev && st.ino === pinned.ino) await rmdir(dir).catch(() => undefined);
}

/**
 * Removes private directories a killed server left in `dir` (SIGKILL between mkdtemp and rmdir): ours
 * by owner and name, older than a minute, holding nothing or one socket nobody answers on.
 */
export async function removeLeftovers(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!PRIVATE_NAME.test(name)) continue;
    const path = join(dir, name);
    const st = await lstat(path).catch(() => undefined);
    if (!st?.isDirectory() || st.uid !== process.geteuid?.() || Date.now() - st.mtimeMs < LEFTOVER_AGE_MS) continue;
    const pinned = await pinOwnDirectory(path);
    if (pinned === undefined) continue;
    try {
      if (pinned.ino !== st.ino || pinned.dev !== st.dev) continue;
      const inside = await readdir(pinned.entry('')).catch(() => undefined);
      if (inside === undefined || inside.length > 1 || (inside.length === 1 && inside[0] !== 's')) continue;
      if (inside.length === 1) {
        const sock = pinned.entry('s');
        const s = await lstat(sock).catch(() => undefined);
        if (!s?.isSocket() || (await socketAnswers(sock))) continue;
        await unlink(sock).catch(() => undefined);
      }
    } finally {
      await pinned.close();
    }
    await removeDirectoryIfSame(path, pinned);
  }
}

/** Refuses a path the kernel could not bind or clients could not connect to (sun_path's limit). */
function checkLengths(path: string, temp: string): void {
  const final = Buffer.byteLength(path);
  if (final > SUN_PATH_MAX) {
    throw new SocketSetupError(`socket path ${path} is ${final} bytes, over the ${SUN_PATH_MAX}-byte limit of a unix socket path (sun_path)`);
  }
  const bound = Buffer.byteLength(temp);
  if (bound > SUN_PATH_MAX) {
    throw new SocketSetupError(
      `socket path ${path} is bound first at ${temp} (${bound} bytes), over the ${SUN_PATH_MAX}-byte limit of a unix socket path (sun_path): ` +
        `use a socket directory of at most ${SUN_PATH_MAX - (bound - Buffer.byteLength(dirname(path)))} bytes`,
    );
  }
}

/** link(2) `source` to `path`; an existing dead socket there is removed and the link tried once more. */
async function linkIntoPlace(source: string, path: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await link(source, path);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        throw new SocketSetupError(`cannot put the socket in place at ${path}: ${(err as Error).message}`);
      }
    }
    await removeStaleSocket(path);
  }
}

/**
 * Binds with `bind` in a private directory beside `path`, applies `perms` there and links the socket
 * to `path`. Returns what close() needs to remove the path only while it is still this socket.
 */
export async function bindSocketFile(
  path: string,
  perms: ResolvedPermissions,
  bind: (tempPath: string) => Promise<void>,
): Promise<BoundSocket> {
  const dir = dirname(path);
  checkLengths(path, join(dir, `${PRIVATE_PREFIX}XXXXXX`, 's'));
  await removeLeftovers(dir);
  let privateDir: string;
  try {
    privateDir = await mkdtemp(join(dir, PRIVATE_PREFIX));
  } catch (err) {
    throw new SocketSetupError(`cannot create a private directory beside ${path}: ${(err as Error).message}`);
  }
  const pinned = await pinOwnDirectory(privateDir);
  if (pinned === undefined) throw new SocketSetupError(`the private directory ${privateDir} was replaced before use; refusing to bind`);
  const socket = pinned.entry('s');
  try {
    await bind(join(privateDir, 's'));
    const st = await lstat(socket).catch(() => undefined);
    if (!st?.isSocket()) throw new SocketSetupError(`the private directory ${privateDir} was replaced while binding; refusing to go on`);
    await applySocketPermissions(socket, perms, path);
    await linkIntoPlace(socket, path);
    return { path, dev: st.dev, ino: st.ino };
  } finally {
    await unlink(socket).catch(() => undefined);
    await pinned.close();
    await removeDirectoryIfSame(privateDir, pinned);
  }
}

/** Removes the socket file at close, unless the path now holds another (a newer server's) file. */
export async function removeBoundSocket(bound: BoundSocket): Promise<void> {
  const st = await lstat(bound.path).catch(() => undefined);
  if (st === undefined || st.dev !== bound.dev || st.ino !== bound.ino) return;
  await unlink(bound.path).catch(() => undefined);
}
