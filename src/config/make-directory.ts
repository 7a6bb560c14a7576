/**
 * `mkdir -p` for a configured path (the socket's directory, the greylist database's), without Node's
 * recursive mkdir: on a kernel filesystem such as /proc that loops forever at 100 % CPU instead of failing.
 * The first existing ancestor is checked, then each missing directory is made on its own. Here, at the
 * bottom layer beside the check the configuration runs first, so that store/ and milter/ can both use it.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { danglingLink, pseudoFilesystem } from './directory-check.js';

/**
 * Creates `dir` and its missing parents with `mode` (filtered by the umask: chmod what must be exact).
 * Returns the directories it created, outermost first (none when `dir` existed). Throws an Error saying
 * why it cannot (the caller names `dir`): a kernel filesystem, a dangling symbolic link or a non-directory
 * in the way, or the error of stat or mkdir (which names its path).
 */
export function makeDirectory(dir: string, mode: number): string[] {
  const target = resolve(dir);
  const missing: string[] = [];
  let d = target;
  for (;;) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(d).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const link = code === 'ENOENT' ? danglingLink(d) : undefined;
      if (link !== undefined) throw new Error(`${d} is a symbolic link to ${link}, which does not exist`);
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(d) !== d) {
        if (code === 'ENOENT') missing.unshift(d);
        d = dirname(d);
        continue;
      }
      throw err;
    }
    if (!isDirectory) throw new Error(`${d} is not a directory`);
    break;
  }
  const pseudo = pseudoFilesystem(d);
  if (pseudo !== undefined) throw new Error(`${d} is on ${pseudo}, a kernel filesystem`);
  for (const m of missing) {
    try {
      mkdirSync(m, { mode });
    } catch (err) {
      // made meanwhile by another process (the manager and `mailgate greylist` at once): fine
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && statSync(m).isDirectory()) continue;
      throw err;
    }
  }
  return missing;
}
