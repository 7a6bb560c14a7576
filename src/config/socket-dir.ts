/**
 * Before the manager starts: can the unix socket's directory be used or created? Checked up front so a
 * socket in a directory that cannot be created fails with the config file's line, not after startup.
 */
import { dirname, resolve } from 'node:path';
import { parseConnectionSpec } from './connection-spec.js';
import { checkDirectory } from './directory-check.js';
import { ConfigError } from './errors.js';
import { originLocation, originOf, type LoadedConfig } from './origin.js';

/**
 * Undefined when the parent directory of `socketPath` exists and is writable, or does not exist and its
 * first existing ancestor is a writable directory (so it can be created); else why not.
 */
export function checkSocketDirectory(socketPath: string): string | undefined {
  return checkDirectory(dirname(resolve(socketPath)), { noun: 'socket directory', holds: 'a socket', writable: true });
}

/**
 * A ConfigError for `problem`, located where the value of `originKey` came from: its file:line, or
 * the command-line `option` that set it. `key`: the key as errors name it (default `originKey`; a child's
 * by name: `milter "grey".sqlite_file`).
 */
export function configErrorAt(loaded: LoadedConfig, originKey: string, option: string, problem: string, key = originKey): ConfigError {
  const origin = originOf(loaded, originKey);
  const location = originLocation(origin);
  if (location !== undefined) return new ConfigError(problem, { ...location, key });
  if (origin === 'command line') return new ConfigError(problem, { file: 'command line', key: option });
  return new ConfigError(problem, { key });
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
