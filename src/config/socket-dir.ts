/**
 * Before the manager starts: can the unix socket's directory be used or created? Checked up front so a
 * socket in a directory that cannot be created fails with the config file's line, not after startup.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseConnectionSpec } from './connection-spec.js';
import { ConfigError } from './errors.js';
import { originLocation, originOf, type LoadedConfig } from './origin.js';

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
      // missing, or under something that is not a directory: look further up
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(d) !== d) continue;
      return `cannot create socket directory ${dir}: ${(err as Error).message}`;
    }
    if (!isDirectory) {
      return d === dir ? `socket directory ${dir} is not a directory` : `cannot create socket directory ${dir}: ${d} is not a directory`;
    }
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
 * The manager's listening socket checked with checkSocketDirectory; a ConfigError located where
 * manager.connection_spec came from (file:line, or the command line), or undefined when fine or not unix.
 */
export function checkManagerSocket(loaded: LoadedConfig): ConfigError | undefined {
  const spec = parseConnectionSpec(loaded.config.manager.connectionSpec);
  if (spec.type !== 'unix') return undefined;
  const problem = checkSocketDirectory(spec.path);
  if (problem === undefined) return undefined;
  const origin = originOf(loaded, 'manager.connection_spec');
  const location = originLocation(origin);
  if (location !== undefined) return new ConfigError(problem, { ...location, key: 'manager.connection_spec' });
  if (origin === 'command line') return new ConfigError(problem, { file: 'command line', key: '--connection-spec' });
  return new ConfigError(problem, { key: 'manager.connection_spec' });
}
