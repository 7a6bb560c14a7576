/** The GreylistStore contract against each implementation: memory, SQLite, and a real private Redis. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { MemoryGreylistStore } from '../../../src/store/greylist/memory.js';
import { RedisGreylistStore } from '../../../src/store/greylist/redis.js';
import { SqliteGreylistStore } from '../../../src/store/greylist/sqlite.js';
import { setupGuard } from '../../interop/harness/setup-guard.js';
import { startRedis, type RedisServer } from '../../interop/harness/redis.js';
import { greylistStoreContract } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'mailgate-greylist-contract-'));
let files = 0;
let prefixes = 0;
let redis: RedisServer | undefined;
const redisSetup = setupGuard();

beforeAll(() =>
  redisSetup.run(async () => {
    redis = await startRedis();
  }),
);
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

greylistStoreContract({ name: 'memory', open: async () => new MemoryGreylistStore() });

greylistStoreContract({ name: 'sqlite', open: async () => new SqliteGreylistStore(join(dir, `g${++files}.sqlite`)) });

greylistStoreContract({
  name: 'redis',
  slow: true,
  shortestLife: 60_000,
  check: () => redisSetup.check(),
  open: async (now) => new RedisGreylistStore({ url: redis?.url ?? 'redis://127.0.0.1:1', prefix: `contract:${++prefixes}:`, now: () => now }),
});
