/**
 * Read-only access to a system's files below a root directory ("/" for this machine, a temporary tree in
 * tests). Paths are the system's own absolute paths ("/etc/opendkim.conf"); absolute symlinks are followed
 * inside the root. Nothing here throws: a missing, unreadable or odd file reads as undefined.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { posix, resolve } from 'node:path';

/** Larger files are not configuration files; reading stops being worth it. */
const MAX_FILE_SIZE = 4 * 1024 * 1024;
const MAX_SYMLINK_HOPS = 40;

export class RootedFs {
  readonly root: string;

  constructor(root = '/') {
    this.root = resolve(root);
  }

  /** Where a system path really is on this machine (the path itself when the root is "/"). */
  real(path: string): string {
    return this.root === '/' ? path : posix.join(this.root, path);
  }

  /** The system path after following symlinks of the last component (absolute targets stay inside the root). */
  resolveLinks(path: string): string {
    let current = path;
    for (let hop = 0; hop < MAX_SYMLINK_HOPS; hop += 1) {
      const st = this.lstat(current);
      if (st === undefined || !st.isSymbolicLink()) return current;
      const target = this.readlink(current);
      if (target === undefined) return current;
      current = posix.isAbsolute(target) ? posix.normalize(target) : posix.join(posix.dirname(current), target);
    }
    return current;
  }

  /** The target of a symlink as written, or undefined when `path` is not one. */
  readlink(path: string): string | undefined {
    try {
      return readlinkSync(this.real(path), 'utf8');
    } catch {
      return undefined;
    }
  }

  /** Whether anything (even a dangling symlink) is at `path`. */
  lexists(path: string): boolean {
    return this.lstat(path) !== undefined;
  }

  isFile(path: string): boolean {
    return this.stat(path)?.isFile() ?? false;
  }

  isDirectory(path: string): boolean {
    return this.stat(path)?.isDirectory() ?? false;
  }

  isExecutable(path: string): boolean {
    const st = this.stat(path);
    return st !== undefined && st.isFile() && (st.mode & 0o111) !== 0;
  }

  /** A regular file's text; undefined when missing, unreadable, not a regular file, or too large. */
  read(path: string): string | undefined {
    const st = this.stat(path);
    if (st === undefined || !st.isFile() || st.size > MAX_FILE_SIZE) return undefined;
    try {
      return readFileSync(this.real(this.resolveLinks(path)), 'utf8');
    } catch {
      return undefined;
    }
  }

  /** Entry names of a directory, sorted; empty when it is missing or unreadable. */
  list(path: string): string[] {
    try {
      return readdirSync(this.real(this.resolveLinks(path))).sort();
    } catch {
      return [];
    }
  }

  stat(path: string): Stats | undefined {
    try {
      return statSync(this.real(this.resolveLinks(path)));
    } catch {
      return undefined;
    }
  }

  private lstat(path: string): Stats | undefined {
    try {
      return lstatSync(this.real(path));
    } catch {
      return undefined;
    }
  }
}
