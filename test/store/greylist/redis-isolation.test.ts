/** A full flush of one Redis greylist store leaves every other key in the database alone. */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { RedisGreylistStore } from '../../../src/store/greylist/redis.js';
import { setupGuard } from '../../interop/harness/setup-guard.js';
import { startRedis, type RedisServer } from '../../interop/harness/redis.js';

let redis: RedisServer | undefined;
const setup = setupGuard();
beforeAll(() =>
  setup.run(async () => {
    redis = await startRedis();
  }),
);
afterAll(async () => {
  await redis?.stop();
});

const entry = (address: string) => ({ address, sender: 'a@example.com', recipient: 'b@example.org', kind: 'pending' as const, created: 0, acceptAfter: 600_000, expires: 3_600_000, hits: 0 });

test('flush deletes only its own keys: not a longer prefix sharing it, not other data', async () => {
  setup.check();
  const url = redis!.url;
  const mx1 = new RedisGreylistStore({ url, prefix: 'mailgate:greylist:', now: () => 0 });
  const mx2 = new RedisGreylistStore({ url, prefix: 'mailgate:greylist:mx2:', now: () => 0 });
  const other = new Redis(url);
  try {
    await mx1.put(entry('192.0.2.0/24'));
    await mx2.put(entry('198.51.100.0/24'));
    await other.set('mailgate:greylist:unrelated', 'keep me');
    expect(await mx1.flush()).toBe(1);
    expect(await mx2.count()).toBe(1);
    expect(await other.get('mailgate:greylist:unrelated')).toBe('keep me');
  } finally {
    await mx1.close();
    await mx2.close();
    other.disconnect();
  }
});
