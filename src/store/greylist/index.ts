/** Greylist state: the store interface and its implementations (memory, SQLite, Redis). */
export type { GreylistEntry, GreylistEntryKind, GreylistQuery, GreylistStore, GreylistTuple } from './store.js';
export { MemoryGreylistStore } from './memory.js';
export { SqliteGreylistStore, SQLITE_SCHEMA_VERSION, type SqliteGreylistStoreOptions } from './sqlite.js';
export { RedisGreylistStore, RedisGreylistStoreError, type RedisGreylistStoreOptions } from './redis.js';
export { DEFAULT_SQLITE_FILE, openGreylistStore, sqliteFilePath, type OpenGreylistStoreOptions } from './open.js';
