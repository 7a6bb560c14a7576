/**
 * Can a configured directory be used, or created? Asked before anything starts (the socket's directory,
 * data_dir, the greylist database's), so that a path that cannot work fails with the config file's line,
 * never after startup, and never by hanging: under /proc, Node's recursive mkdir loops forever at 100 % CPU.
 */
import { accessSync, constants, lstatSync, readlinkSync, statfsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Kernel pseudo filesystems (statfs f_type) that hold no files of ours: no socket, no database. */
const PSEUDO_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0xf97cff8c, 'selinuxfs'],
  [0x1cd1, 'devpts'],
  [0x62656570, 'configfs'],
  [0x6165676c, 'pstore'],
  [0xde5e81e4, 'efivarfs'],
  [0xcafe4a11, 'bpf'],
  [0x42494e4d, 'binfmt_misc'],
  [0x19800202, 'mqueue'],
  [0x65735543, 'fusectl'],
]);

/** The pseudo filesystem the existing directory `dir` lies on, by name, or undefined for one that can hold files. */
export function pseudoFilesystem(dir: string): string | undefined {
  // The type's magic number is unsigned; statfs may hand it back signed.
  const type = Number(statfsSync(dir).type) >>> 0;
  return PSEUDO_FILESYSTEMS.get(type);
}

/** A dangling symbolic link at `path`: its target, else undefined. */
export function danglingLink(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/** What a directory is for, as the messages say it. */
export interface DirectoryUse {
  /** e.g. "socket directory", "data directory". */
  readonly noun: string;
  /** What a kernel filesystem cannot hold, e.g. "a socket", "files". */
  readonly holds: string;
  /** Whether it must be writable (or its first existing ancestor, to create it). */
  readonly writable: boolean;
}

/**
 * Undefined when `dir` exists as a directory, or does not and its first existing ancestor is a directory
 * (so it can be created); writable too when `use.writable`. Else why not: a kernel filesystem, a
 * dangling symbolic link, something that is not a directory in the way, no write permission.
 */
export function checkDirectory(dir: string, use: DirectoryUse): string | undefined {
  const target = resolve(dir);
  const { noun } = use;
  for (let d = target; ; d = dirname(d)) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(d).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const link = code === 'ENOENT' ? danglingLink(d) : undefined;
      // mkdir cannot go through a link to nothing.
      if (link !== undefined) return `cannot create ${noun} ${target}: ${d} is a symbolic link to ${link}, which does not exist`;
      // missing, or under something that is not a directory: look further up
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(d) !== d) continue;
      return `cannot create ${noun} ${target}: ${(err as Error).message}`;
    }
    if (!isDirectory) {
      return d === target ? `${noun} ${target} is not a directory` : `cannot create ${noun} ${target}: ${d} is not a directory`;
    }
    const pseudo = pseudoFilesystem(d);
    if (pseudo !== undefined) return `${noun} ${target} is on ${pseudo} (${d}), a kernel filesystem that cannot hold ${use.holds}`;
    if (!use.writable) return undefined;
    try {
      accessSync(d, constants.W_OK | constants.X_OK);
    } catch {
      return d === target ? `${noun} ${target} is not writable` : `cannot create ${noun} ${target}: ${d} is not writable`;
    }
    return undefined;
  }
}
