/**
 * Before the manager starts, and at each reload: can data_dir, and the directory of each enabled greylist
 * filter's SQLite file, be used or created? A path that cannot (under /proc, where mkdir would loop
 * forever; under a dangling link; under a regular file) fails with the config file's line and key.
 */
import { dirname, isAbsolute, join } from 'node:path';
import { GREYLIST_SQLITE_FILE } from './builtins/shown-defaults.js';
import { checkDirectory } from './directory-check.js';
import type { ConfigError } from './errors.js';
import { milterOriginKey, type LoadedConfig } from './origin.js';
import { configErrorAt } from './socket-dir.js';

/** The first unusable data directory as a ConfigError located where its path came from, or undefined. */
export function checkDataDirectories(loaded: LoadedConfig): ConfigError | undefined {
  const { dataDir, milters } = loaded.config;
  // Nothing may be written there yet (a manager with no store needs none): not checked for writing.
  const problem = checkDirectory(dataDir, { noun: 'data directory', holds: 'files', writable: false });
  if (problem !== undefined) return configErrorAt(loaded, 'data_dir', 'data_dir', problem);
  for (const m of milters) {
    if (!m.enabled || m.builtin !== 'greylist' || m.options.store !== 'sqlite') continue;
    const written = m.options.sqliteFile;
    const file = written === undefined ? GREYLIST_SQLITE_FILE : written;
    const dir = dirname(isAbsolute(file) ? file : join(dataDir, file));
    // The database and its WAL files are created there at start.
    const why = checkDirectory(dir, { noun: 'greylist database directory', holds: 'a database', writable: true });
    if (why === undefined) continue;
    if (written === undefined) return configErrorAt(loaded, 'data_dir', 'data_dir', `milter "${m.name}": ${why}`);
    return configErrorAt(loaded, milterOriginKey(m.name, 'sqlite_file'), 'sqlite_file', why, `milter ${JSON.stringify(m.name)}.sqlite_file`);
  }
  return undefined;
}
