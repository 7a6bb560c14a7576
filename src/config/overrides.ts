/** Command-line options that override the file; their values are recorded with origin 'command line'. */
import { ConfigError } from './errors.js';
import type { LoadedConfig, Origin } from './origin.js';
import { checkConnectionSpec, checkGroup, checkMode } from './sections/manager.js';
import type { ManagerConfig } from './schema.js';

// The manager command checks the socket directory right after applying the overrides.
export { checkManagerSocket, checkSocketDirectory, configErrorAt } from './socket-dir.js';

export interface ConfigOverrides {
  /** --connection-spec */
  readonly connectionSpec?: string;
  /** --unix-socket-group */
  readonly unixSocketGroup?: string;
  /** --unix-socket-mode, e.g. "0660" */
  readonly unixSocketMode?: string;
}

const COMMAND_LINE: Origin = 'command line';

/** A new LoadedConfig with the given options applied; throws ConfigError (file "command line") on a bad value. */
export function applyOverrides(loaded: LoadedConfig, overrides: ConfigOverrides): LoadedConfig {
  const fail = (option: string) => (message: string) => new ConfigError(message, { file: 'command line', key: option });
  let manager: ManagerConfig = loaded.config.manager;
  const origins = new Map(loaded.origins);
  if (overrides.connectionSpec !== undefined) {
    checkConnectionSpec(overrides.connectionSpec, fail('--connection-spec'));
    manager = { ...manager, connectionSpec: overrides.connectionSpec };
    origins.set('manager.connection_spec', COMMAND_LINE);
  }
  if (overrides.unixSocketGroup !== undefined) {
    manager = { ...manager, unixSocketGroup: checkGroup(overrides.unixSocketGroup, fail('--unix-socket-group')) };
    origins.set('manager.unix_socket_group', COMMAND_LINE);
  }
  if (overrides.unixSocketMode !== undefined) {
    manager = { ...manager, unixSocketMode: checkMode(overrides.unixSocketMode, fail('--unix-socket-mode')) };
    origins.set('manager.unix_socket_mode', COMMAND_LINE);
  }
  return { ...loaded, config: { ...loaded.config, manager }, origins };
}
