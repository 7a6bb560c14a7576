/**
 * Before the manager starts: can the unix socket's directory be used or created? Checked up front so a
 * socket in a directory that cannot be created fails with the config file's line, not after startup.
 */
import { accessSync, constants, lstatSync, readlinkSync, statfsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseConnectionSpec } from './connection-spec.js';
import { ConfigError } from './errors.js';
import { originLocation, originOf, type LoadedConfig } from './origin.js';

/**
 * Kernel pseudo filesystems (statfs f_type) that cannot hold a socket. Under /proc, Node's recursive
 * mkdir loops forever at 100 % CPU instead of failing, so they are refused before it is reached.
 */
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

/** The pseudo filesystem `dir` lies on, by name, or undefined for one that can hold files. */
function pseudoFilesystem(dir: string): string | undefined {
  // The type's magic number is unsigned; statfs may hand it back signed.
  const type = Number(statfsSync(dir).type) >>> 0;
  return PSEUDO_FILESYSTEMS.get(type);
}

/** A dangling symbolic link at `path`: its target, else undefined. */
function danglingLink(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Undefined when the parent directory of `socketPath` exists and is writable, or does not exist and its
 * first existing ancestor is a writable directory (so it can be created); else why not.
 */
export function checkSocketDirectory(socketPath: string): string | undefined {
  const dir = dirname(resolve(socketPath));
  for (let d = dir; ; d = dirname(d)) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(d).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const target = code === 'ENOENT' ? danglingLink(d) : undefined;
      // mkdir -p cannot go through a link to nothing: it fails after startup, with no file:line.
      if (target !== undefined) return `cannot create socket directory ${dir}: ${d} is a symbolic link to ${target}, which does not exist`;
      // missing, or under something that is not a directory: look further up
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(d) !== d) continue;
      return `cannot create socket directory ${dir}: ${(err as Error).message}`;
    }
    if (!isDirectory) {
      return d === dir ? `socket directory ${dir} is not a directory` : `cannot create socket directory ${dir}: ${d} is not a directory`;
    }
    const pseudo = pseudoFilesystem(d);
    if (pseudo !== undefined) return `socket directory ${dir} is on ${pseudo} (${d}), a kernel filesystem that cannot hold a socket`;
    try {
      accessSync(d, constants.W_OK | constants.X_OK);
    } catch {
      return d === dir
        ? `socket directory ${dir} is not writable`
        : `cannot create socket directory ${dir}: ${d} is not writable`;
    }
    return undefined;
  }
}

/**
 * A ConfigError for `problem`, located where the value of `originKey` came from: its file:line, or
 * the command-line `option` that set it.
 */
export function configErrorAt(loaded: LoadedConfig, originKey: string, option: string, problem: string): ConfigError {
  const origin = originOf(loaded, originKey);
  const location = originLocation(origin);
  if (location !== undefined) return new ConfigError(problem, { ...location, key: originKey });
  if (origin === 'command line') return new ConfigError(problem, { file: 'command line', key: option });
  return new ConfigError(problem, { key: originKey });
}

/**
 * The manager's listening socket checked with checkSocketDirectory; a ConfigError located where
 * manager.connection_spec came from (file:line, or the command line), or undefined when fine or not unix.
 */
export function checkManagerSocket(loaded: LoadedConfig): ConfigError | undefined {
  const spec = parseConnectionSpec(loaded.config.manager.connectionSpec);
  if (spec.type !== 'unix') return undefined;
  const problem = checkSocketDirectory(spec.path);
  if (problem === undefined) return undefined;
  return configErrorAt(loaded, 'manager.connection_spec', '--connection-spec', problem);
}
