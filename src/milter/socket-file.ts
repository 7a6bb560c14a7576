/**
 * Unix socket housekeeping for a listening milter. Postfix's "Permission denied" after a restart
 * comes from a socket re-created with the default umask and owner: so the mode, group and owner are
 * applied every time the socket is created, and a missing group is an error, not a warning.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, chown, lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
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
  await removeStaleSocket(path);
}

/** Removes the socket at `path` if no process answers on it; refuses a live one or a non-socket. */
export async function removeStaleSocket(path: string): Promise<void> {
  let before;
  try {
    before = await lstat(path);
  } catch {
    return; // gone meanwhile
  }
  if (!before.isSocket()) throw new SocketSetupError(`${path} exists and is not a socket; refusing to replace it`);
  if (await socketAnswers(path)) throw new SocketSetupError(`${path} is in use by another running process`);
  // Only the file found dead: another process may have put its own live socket there meanwhile.
  const now = await lstat(path).catch(() => undefined);
  if (now === undefined || now.dev !== before.dev || now.ino !== before.ino) return;
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new SocketSetupError(`cannot remove the stale socket ${path}: ${(err as Error).message}`);
    }
  }
}

/**
 * Whether a server listens on the socket at `path`. Only a refused connection (or no file) means
 * nobody does: a full backlog (EAGAIN) or a permission error says nothing, so it counts as in use and
 * a live server's socket is never taken for stale.
 */
export function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT'));
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
export async function applySocketPermissions(path: string, perms: ResolvedPermissions, shownAs = path): Promise<void> {
  const { mode, uid, gid } = perms;
  try {
    if (uid !== -1 || gid !== -1) await chown(path, uid, gid);
    await chmod(path, mode);
  } catch (err) {
    throw new SocketSetupError(`cannot set owner/group/mode of ${shownAs}: ${(err as Error).message}`);
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
