/** Opens the greylist store a greylist filter (or `mailgate greylist`) is configured with. */
import { isAbsolute, join, resolve } from 'node:path';
import { DEFAULT_GREYLIST_REDIS_URL } from '../../config/builtins/greylist.js';
import { MemoryGreylistStore } from './memory.js';
import { RedisGreylistStore } from './redis.js';
import { SqliteGreylistStore } from './sqlite.js';
import type { GreylistStore } from './store.js';

export const DEFAULT_SQLITE_FILE = 'greylist.sqlite';

export interface OpenGreylistStoreOptions {
  readonly store: 'sqlite' | 'redis' | 'memory';
  /** The manager's data directory; the SQLite file lives there unless `sqliteFile` is absolute. */
  readonly dataDir: string;
  /** Defaults: the configuration's (config/builtins/greylist.ts), the only ones. */
  readonly redisUrl?: string;
  readonly redisPrefix?: string;
  /** Relative: to dataDir. Default `<dataDir>/greylist.sqlite`. */
  readonly sqliteFile?: string;
  /** The filter's clock; Redis turns `expires` into a TTL with it. Default Date.now. */
  readonly now?: () => number;
}

export function openGreylistStore(options: OpenGreylistStoreOptions): GreylistStore {
  switch (options.store) {
    case 'memory':
      return new MemoryGreylistStore();
    case 'redis':
      return new RedisGreylistStore({ url: options.redisUrl ?? DEFAULT_GREYLIST_REDIS_URL, prefix: options.redisPrefix, now: options.now });
    case 'sqlite':
      return new SqliteGreylistStore(sqliteFilePath(options.dataDir, options.sqliteFile));
  }
}

export function sqliteFilePath(dataDir: string, sqliteFile: string | undefined): string {
  const file = sqliteFile ?? DEFAULT_SQLITE_FILE;
  return isAbsolute(file) ? file : join(resolve(dataDir), file);
}
