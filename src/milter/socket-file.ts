/**
 * Unix socket housekeeping for a listening milter. Postfix's "Permission denied" after a restart
 * comes from a socket re-created with the default umask and owner: so the mode, group and owner are
 * applied every time the socket is created, and a missing group is an error, not a warning.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, chown, lstat, mkdtemp, rename, rmdir, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { makeDirectory } from '../config/make-directory.js';
import { checkSocketDirectory } from '../config/socket-dir.js';
import { parseMode, SocketModeError } from '../config/socket-mode.js';

export { parseMode };

export interface SocketPermissions {
  /** Octal mode, e.g. "0660" or 0o660. Default 0660. */
  readonly mode?: string | number;
  /** Group name or numeric id. */
  readonly group?: string | number;
  /** User name or numeric id. */
  readonly owner?: string | number;
}

export class SocketSetupError extends Error {
  override readonly name = 'SocketSetupError';
}


/** Creates the parent directory if missing and removes a stale socket left by a previous run. */
export async function prepareSocketPath(path: string): Promise<void> {
  const dir = dirname(path);
  // Refused before mkdir: under /proc, Node's recursive mkdir would loop forever.
  const problem = checkSocketDirectory(path);
  if (problem !== undefined) throw new SocketSetupError(problem);
  try {
    // Not Node's recursive mkdir (it loops forever under /proc). Its mode is filtered by the umask:
    // a 027 umask would lock Postfix out of the directory.
    for (const made of makeDirectory(dir, 0o755)) await chmod(made, 0o755);
  } catch (err) {
    throw new SocketSetupError(`cannot create socket directory ${dir}: ${(err as Error).message}`);
  }
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new SocketSetupError(`${path} exists and is not a socket; refusing to replace it`);
  if (await socketAnswers(path)) throw new SocketSetupError(`${path} is in use by another running process`);
  await unlink(path);
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface ResolvedPermissions {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

function modeOf(mode: string | number | undefined): number {
  try {
    return parseMode(mode);
  } catch (err) {
    if (err instanceof SocketModeError) throw new SocketSetupError(err.message);
    throw err;
  }
}

/** Checks mode, group and owner up front, so a typo fails before anything listens. */
export function resolveSocketPermissions(perms: SocketPermissions): ResolvedPermissions {
  return {
    mode: modeOf(perms.mode),
    gid: perms.group === undefined ? -1 : lookupId('group', perms.group),
    uid: perms.owner === undefined ? -1 : lookupId('passwd', perms.owner),
  };
}

/** Applies mode, group and owner to a freshly created socket. */
export async function applySocketPermissions(path: string, perms: ResolvedPermissions): Promise<void> {
  const { mode, uid, gid } = perms;
  try {
    if (uid !== -1 || gid !== -1) await chown(path, uid, gid);
    await chmod(path, mode);
  } catch (err) {
    throw new SocketSetupError(`cannot set owner/group/mode of ${path}: ${(err as Error).message}`);
  }
}

/**
 * Binds with `bind` in a private directory, gives the socket its owner, group and mode there, and
 * only then renames it to `path`. A socket is created with the mode the umask leaves (srwxrwxrwx
 * under umask 000) and Postfix may connect the moment it appears; chmod after bind leaves a window
 * where anyone can. A umask around bind would close it, but process.umask() is process-wide (another
 * file created meanwhile would get it too) and throws in a worker thread. The private directory
 * (mkdtemp: 0700, ours) lets no one else reach the socket before the rename, and rename(2) within
 * one directory is atomic: at `path` the socket exists only with its final permissions. The price:
 * the kernel keeps the path given to bind, so `ss -xl` and /proc/net/unix name the private one.
 */
export async function bindSocketFile(
  path: string,
  perms: ResolvedPermissions,
  bind: (tempPath: string) => Promise<void>,
): Promise<void> {
  let privateDir: string;
  try {
    // A short name: the socket's path inside it must fit in sun_path (108 bytes) as the final one does.
    privateDir = await mkdtemp(join(dirname(path), '.mg'));
  } catch (err) {
    throw new SocketSetupError(`cannot create a private directory beside ${path}: ${(err as Error).message}`);
  }
  const temp = join(privateDir, 's');
  try {
    await bind(temp);
    await applySocketPermissions(temp, perms);
    try {
      await rename(temp, path);
    } catch (err) {
      throw new SocketSetupError(`cannot move the socket into place at ${path}: ${(err as Error).message}`);
    }
  } finally {
    await unlink(temp).catch(() => undefined);
    await rmdir(privateDir).catch(() => undefined);
  }
}

/** Resolves a user or group through NSS (getent), falling back to /etc/passwd and /etc/group. */
export function lookupId(db: 'group' | 'passwd', name: string | number): number {
  if (typeof name === 'number' || /^\d+$/.test(name)) return Number(name);
  const what = db === 'group' ? 'unix_socket_group' : 'unix_socket_owner';
  let line: string | undefined;
  try {
    line = execFileSync('getent', [db, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0];
  } catch {
    try {
      line = readFileSync(`/etc/${db}`, 'utf8')
        .split('\n')
        .find((l) => l.startsWith(`${name}:`));
    } catch {
      line = undefined;
    }
  }
  const id = line?.split(':')[2];
  if (id === undefined || !/^\d+$/.test(id)) throw new SocketSetupError(`${what} "${name}" does not exist on this host`);
  return Number(id);
}
