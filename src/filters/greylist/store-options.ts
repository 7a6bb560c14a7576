/**
 * Where a greylist filter keeps its state, from its options: built here once, for the filter itself
 * and for `mailgate greylist` (admin.ts), so both open the same database.
 */
import type { GreylistOptions } from '../../config/builtins/greylist.js';
import type { OpenGreylistStoreOptions } from '../../store/greylist/open.js';

/** `dataDir`: the manager's data directory, absolute; `now`: the filter's clock (Redis TTLs). */
export function greylistStoreOptions(options: GreylistOptions, dataDir: string, now?: () => number): OpenGreylistStoreOptions {
  return {
    store: options.store,
    dataDir,
    redisUrl: options.redisUrl,
    redisPrefix: options.redisPrefix,
    ...(now !== undefined ? { now } : {}),
    ...(options.sqliteFile !== undefined ? { sqliteFile: options.sqliteFile } : {}),
  };
}
