/** The client-name cache: hits, the two lifetimes, the bound, one lookup for lookups in flight at once. */
import { describe, expect, it } from 'vitest';
import { confirmingResolver, type NameLookups } from '../../src/smtp/client-name.js';
import { NameCache } from '../../src/smtp/name-cache.js';

function counting(names: Record<string, string | undefined>): { find: (a: string) => Promise<string | undefined>; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    find: (a) => {
      calls.push(a);
      return Promise.resolve(names[a]);
    },
  };
}

describe('client-name cache', () => {
  it('answers from the cache while the entry is fresh, and asks again once a confirmed name is 60 s old', async () => {
    let now = 1_000;
    const cache = new NameCache({ now: () => now });
    const f = counting({ '192.0.2.1': 'mail.example' });
    expect(await cache.lookup('192.0.2.1', f.find)).toBe('mail.example');
    now += 59_999;
    expect(await cache.lookup('192.0.2.1', f.find)).toBe('mail.example');
    expect(f.calls).toEqual(['192.0.2.1']);
    now += 1;
    expect(await cache.lookup('192.0.2.1', f.find)).toBe('mail.example');
    expect(f.calls).toEqual(['192.0.2.1', '192.0.2.1']);
  });

  it('keeps "no confirmed name" for a shorter time (10 s)', async () => {
    let now = 0;
    const cache = new NameCache({ now: () => now });
    const f = counting({});
    expect(await cache.lookup('192.0.2.2', f.find)).toBeUndefined();
    now += 9_999;
    expect(await cache.lookup('192.0.2.2', f.find)).toBeUndefined();
    expect(f.calls).toHaveLength(1);
    now += 1;
    await cache.lookup('192.0.2.2', f.find);
    expect(f.calls).toHaveLength(2);
  });

  it('a failed lookup counts as no name', async () => {
    const cache = new NameCache();
    expect(await cache.lookup('192.0.2.3', () => Promise.reject(new Error('SERVFAIL')))).toBeUndefined();
  });

  it('looks an address up once while its lookup is in flight', async () => {
    const cache = new NameCache();
    let release: (n: string) => void = () => undefined;
    let calls = 0;
    const slow = (): Promise<string> => {
      calls++;
      return new Promise((r) => (release = r));
    };
    const a = cache.lookup('192.0.2.4', slow);
    const b = cache.lookup('192.0.2.4', slow);
    release('slow.example');
    expect(await Promise.all([a, b])).toEqual(['slow.example', 'slow.example']);
    expect(calls).toBe(1);
  });

  it('holds at most maxEntries addresses, dropping the oldest', async () => {
    const cache = new NameCache({ maxEntries: 2 });
    const f = counting({ a: 'a.example', b: 'b.example', c: 'c.example' });
    for (const a of ['a', 'b', 'c']) await cache.lookup(a, f.find);
    expect(cache.size).toBe(2);
    await cache.lookup('b', f.find);
    await cache.lookup('c', f.find);
    expect(f.calls).toEqual(['a', 'b', 'c']);
    await cache.lookup('a', f.find);
    expect(f.calls).toEqual(['a', 'b', 'c', 'a']);
  });

  it('serves smtp-server\'s resolver: the DNS is asked once for two connections of one client', async () => {
    let reverse = 0;
    const lookups: NameLookups = {
      reverse: () => (reverse++, Promise.resolve(['client.example.'])),
      resolve4: () => Promise.resolve(['192.0.2.5']),
      resolve6: () => Promise.resolve([]),
    };
    const resolver = confirmingResolver(lookups, new NameCache());
    const ask = (): Promise<string[] | undefined> => new Promise((r) => resolver.reverse('192.0.2.5', (_e, names) => r(names)));
    expect(await ask()).toEqual(['client.example']);
    expect(await ask()).toEqual(['client.example']);
    expect(reverse).toBe(1);
  });
});
