// The in-memory GreylistStore honours the GreylistStore contract.
import { describe, expect, test } from 'vitest';
import { MemoryGreylistStore } from '../../../src/store/greylist/memory.js';
import type { GreylistEntry } from '../../../src/store/greylist/store.js';

const entry = (address: string, recipient: string, kind: GreylistEntry['kind'], expires: number): GreylistEntry => ({
  address,
  sender: 'a@example.com',
  recipient,
  kind,
  created: 0,
  acceptAfter: 0,
  expires,
  hits: 0,
});

describe('MemoryGreylistStore', () => {
  test('get/put/delete, queries, flush, purge, lazyaw lookup', async () => {
    const s = new MemoryGreylistStore();
    await s.put(entry('192.0.2.0/24', 'x@example.org', 'pending', 100));
    await s.put(entry('192.0.2.0/24', 'y@example.org', 'autowhite', 500));
    await s.put(entry('198.51.100.1', 'x@example.org', 'autowhite', 50));
    expect(await s.count()).toBe(3);
    expect(await s.count({ address: '192.0.2.0/24' })).toBe(2);
    expect(await s.count({ kind: 'autowhite' })).toBe(2);
    expect((await s.get({ address: '192.0.2.0/24', sender: 'a@example.com', recipient: 'x@example.org' }, 100))?.kind).toBe('pending');
    expect(await s.get({ address: '192.0.2.0/24', sender: 'a@example.com', recipient: 'x@example.org' }, 101)).toBeUndefined();
    expect((await s.getAutowhiteForAddress('192.0.2.0/24', 200))?.recipient).toBe('y@example.org');
    expect(await s.getAutowhiteForAddress('198.51.100.1', 200)).toBeUndefined();
    expect(await s.purgeExpired(200)).toBe(2);
    expect(await s.flush({ address: '192.0.2.0/24' })).toBe(1);
    expect(await s.count()).toBe(0);
    await s.put(entry('192.0.2.0/24', 'x@example.org', 'pending', 100));
    await s.delete({ address: '192.0.2.0/24', sender: 'a@example.com', recipient: 'x@example.org' });
    const all = [];
    for await (const e of s.list()) all.push(e);
    expect(all).toEqual([]);
    await s.close();
  });
});
