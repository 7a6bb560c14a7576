// The Redis greylist store against a real private redis-server: several MX
// hosts (one store instance and ioredis connection each) sharing one greylist,
// Redis expiring tuples itself, prefixes keeping greylists apart, SCAN only,
// and an unreachable or silent Redis failing fast with a clear error.
import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RedisGreylistStore, RedisGreylistStoreError } from '../../src/store/greylist/redis.js';
import { openGreylistStore } from '../../src/store/greylist/open.js';
import type { GreylistEntry } from '../../src/store/greylist/store.js';
import { freePort } from './harness/ports.js';
import { startRedis, type RedisServer } from './harness/redis.js';
import { setupGuard } from './harness/setup-guard.js';
import { Teardown } from './harness/teardown.js';
import { hangGuard } from '../hang-guard.js';

const MIN = 60_000;
const t1 = { address: '192.0.2.0/24', sender: 'alice@example.com', recipient: 'bob@example.org' };
const t2 = { address: '192.0.2.0/24', sender: 'alice@example.com', recipient: 'carol@example.org' };

function entry(t: typeof t1, kind: GreylistEntry['kind'], now: number, life = 60 * MIN): GreylistEntry {
  return { ...t, kind, created: now, acceptAfter: now + 10 * MIN, expires: now + life, hits: kind === 'autowhite' ? 1 : 0 };
}

describe('RedisGreylistStore against a private redis-server', () => {
  const td = new Teardown();
  const setup = setupGuard();
  let redis: RedisServer;
  let admin: Redis;
  let n = 0;
  const prefix = (): string => `it${++n}:`;
  const store = (p: string, now?: () => number): RedisGreylistStore => {
    const s = new RedisGreylistStore({ url: redis.url, prefix: p, now });
    td.defer(() => s.close());
    return s;
  };

  beforeAll(() =>
    setup.run(async () => {
      redis = td.add(await startRedis());
      admin = new Redis(redis.url);
      td.defer(async () => admin.quit());
    }),
  );
  afterAll(() => td.run());

  test('two MX hosts (two connections) share one greylist', async () => {
    setup.check();
    const p = prefix();
    const mx1 = store(p);
    const mx2 = store(p);
    const now = Date.now();
    await mx1.put(entry(t1, 'pending', now));
    expect(await mx2.get(t1, now)).toEqual(entry(t1, 'pending', now));
    // mx2 sees the retry after the delay and whitelists; mx1 then finds the autowhite (lazyaw too).
    await mx2.put(entry(t1, 'autowhite', now));
    expect((await mx1.get(t1, now))?.kind).toBe('autowhite');
    expect(await mx1.getAutowhiteForAddress(t1.address, now)).toEqual(entry(t1, 'autowhite', now));
    await mx1.put(entry(t2, 'pending', now));
    expect(await mx2.count({ address: t1.address })).toBe(2);
    await mx2.delete(t1);
    expect(await mx1.get(t1, now)).toBeUndefined();
    expect(await mx1.getAutowhiteForAddress(t1.address, now)).toBeUndefined();
    expect(await mx2.flush()).toBe(1);
    expect(await mx1.count()).toBe(0);
    expect(await admin.keys(`${p}*`)).toEqual([]); // (the test may use KEYS; the store never does)
  });

  test('Redis expires tuples itself: the hash TTL ends at `expires`', async () => {
    setup.check();
    const p = prefix();
    const s = store(p);
    const now = Date.now();
    await s.put(entry(t1, 'autowhite', now, 7 * 24 * 60 * MIN));
    await s.put(entry(t2, 'pending', now, 300));
    const [key1] = await admin.keys(`${p}t:*bob*`);
    const ttl = await admin.pttl(key1 ?? '');
    expect(ttl).toBeGreaterThan(7 * 24 * 60 * MIN - 5_000);
    expect(ttl).toBeLessThanOrEqual(7 * 24 * 60 * MIN);
    expect(await admin.pttl(`${p}a:${t1.address}`)).toBeGreaterThan(7 * 24 * 60 * MIN - 5_000);
    await new Promise((r) => setTimeout(r, 600));
    expect(await s.get(t2, now)).toBeUndefined();
    expect((await s.get(t1, now))?.kind).toBe('autowhite');
    const listed = [];
    for await (const e of s.list({ address: t1.address })) listed.push(e.recipient);
    expect(listed).toEqual(['bob@example.org']);
    expect(await s.count()).toBe(1);
  });

  test('the TTL follows the injected clock, so a test clock ahead of real time still works', async () => {
    setup.check();
    const fake = Date.now() + 30 * 24 * 60 * MIN;
    const s = store(prefix(), () => fake);
    await s.put(entry(t1, 'pending', fake, 10 * MIN));
    expect(await s.get(t1, fake)).toEqual(entry(t1, 'pending', fake, 10 * MIN));
  });

  test('prefixes keep greylists apart', async () => {
    setup.check();
    const a = store(prefix());
    const b = store(prefix());
    const now = Date.now();
    await a.put(entry(t1, 'pending', now));
    await b.put(entry(t2, 'autowhite', now));
    expect(await a.get(t2, now)).toBeUndefined();
    expect(await a.flush()).toBe(1);
    expect(await b.count()).toBe(1);
    expect(await b.getAutowhiteForAddress(t2.address, now)).not.toBeUndefined();
  });

  test('list, count, flush and purgeExpired use SCAN, never KEYS', async () => {
    setup.check();
    await admin.config('RESETSTAT');
    const s = store(prefix());
    const now = Date.now();
    for (let i = 0; i < 1200; i++) await s.put(entry({ ...t1, sender: `s${i}@example.com` }, i % 2 ? 'pending' : 'autowhite', now));
    let listed = 0;
    for await (const _ of s.list({ kind: 'pending' })) listed++;
    expect(listed).toBe(600);
    expect(await s.count()).toBe(1200);
    expect(await s.purgeExpired(now + 61 * MIN)).toBe(1200);
    expect(await s.flush()).toBe(0);
    const stats = await admin.info('commandstats');
    expect(stats).toMatch(/cmdstat_scan:/);
    expect(stats).not.toMatch(/cmdstat_keys:/);
  });

  test('putMany (bulk load, a server-side script) writes exactly what put writes', async () => {
    setup.check();
    const now = Date.now();
    const es: GreylistEntry[] = [];
    for (let i = 0; i < 60; i++) {
      const t = { address: `198.51.100.${i % 4}`, sender: i % 7 === 0 ? '' : `s${i}@example.com`, recipient: `r${i % 3}@example.org` };
      es.push(entry(t, i % 3 === 0 ? 'autowhite' : 'pending', now, (10 + i) * MIN));
    }
    // The same tuple whitelisted, then pending again: its autowhite index member must go.
    es.push(entry(t1, 'autowhite', now), entry(t1, 'pending', now));
    const one = prefix();
    const bulk = prefix();
    const s1 = store(one);
    for (const e of es) await s1.put(e);
    await store(bulk).putMany(es, 7);
    const keys = (await admin.keys(`${one}*`)).sort();
    expect((await admin.keys(`${bulk}*`)).sort()).toEqual(keys.map((k) => bulk + k.slice(one.length)));
    for (const k of keys) {
      const b = bulk + k.slice(one.length);
      const type = await admin.type(k);
      expect(await admin.type(b)).toBe(type);
      if (type === 'hash') expect(await admin.hgetall(b)).toEqual(await admin.hgetall(k));
      else expect(await admin.zrange(b, 0, -1, 'WITHSCORES')).toEqual(await admin.zrange(k, 0, -1, 'WITHSCORES'));
      expect(Math.abs((await admin.pttl(b)) - (await admin.pttl(k)))).toBeLessThan(5_000);
    }
  });

  test('index sets drop members that have expired, so a busy address does not pile them up', async () => {
    setup.check();
    const p = prefix();
    let clock = Date.now();
    const s = store(p, () => clock);
    for (let i = 0; i < 5; i++) await s.put(entry({ ...t1, sender: `old${i}@example.com` }, 'autowhite', clock, 10 * MIN));
    clock += 11 * MIN; // those five have expired by the store's clock
    await s.put(entry(t2, 'autowhite', clock));
    expect(await admin.zrange(`${p}a:${t1.address}`, 0, -1)).toEqual([JSON.stringify([t2.sender, t2.recipient])]);
    expect(await admin.zrange(`${p}w:${t1.address}`, 0, -1)).toEqual([JSON.stringify([t2.sender, t2.recipient])]);
  });

  test('openGreylistStore("redis") with url and prefix', async () => {
    setup.check();
    const p = prefix();
    const s = openGreylistStore({ store: 'redis', dataDir: '/nonexistent', redisUrl: redis.url, redisPrefix: p });
    td.defer(() => s.close());
    await s.put(entry(t1, 'pending', Date.now()));
    expect(await admin.exists(`${p}a:${t1.address}`)).toBe(1);
  });
});

describe('RedisGreylistStore when Redis is not there', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    // Accepts TCP connections and never answers: a hung Redis.
    silent = createServer((sock) => sockets.push(sock));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  test('nothing listening: fails with ECONNREFUSED, naming the server, hiding the password', async () => {
    const port = await freePort();
    const s = new RedisGreylistStore({ url: `redis://:s3cret@127.0.0.1:${port}`, prefix: 'x:' });
    const noHang = hangGuard(1_000); // the default connect timeout; a refusal should end it at once
    const t0 = Date.now();
    const err = await s.put(entry(t1, 'pending', t0)).catch((e: unknown) => e);
    noHang();
    expect(err).toBeInstanceOf(RedisGreylistStoreError);
    expect((err as Error).message).toMatch(new RegExp(`greylist store: Redis redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
    expect((err as Error).message).not.toMatch(/s3cret/);
    await expect(s.get(t1, t0)).rejects.toThrow(RedisGreylistStoreError);
    await s.close();
  });

  test('a server that never answers: each command times out', async () => {
    const address = silent.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const s = new RedisGreylistStore({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 500, connectTimeoutMs: 500 });
    const noHang = hangGuard(500);
    await expect(s.get(t1, Date.now())).rejects.toThrow(/greylist store: Redis redis:\/\/127\.0\.0\.1:\d+\/?: .*timed out/i);
    noHang();
    await s.close();
  });
});
