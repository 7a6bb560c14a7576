/** The per-destination limiter: never more than the limit at once, waiters served in order, keys apart. */
import { describe, expect, it } from 'vitest';
import { DestinationLimiter } from '../../src/delivery/connection-pool.js';

describe('DestinationLimiter', () => {
  it('holds the limit per destination and hands slots on in order', async () => {
    const limiter = new DestinationLimiter(2);
    const order: number[] = [];
    let active = 0;
    let most = 0;
    const job = async (i: number, key: string): Promise<void> => {
      const release = await limiter.acquire(key);
      active++;
      most = Math.max(most, active);
      order.push(i);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      release();
      release(); // twice is harmless
    };
    await Promise.all([0, 1, 2, 3, 4, 5].map((i) => job(i, 'a')));
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(limiter.inUse('a')).toBe(0);
    // another destination is not held up by a full one
    const held = await Promise.all([limiter.acquire('a'), limiter.acquire('a')]);
    const other = await limiter.acquire('b');
    expect(limiter.inUse('b')).toBe(1);
    other();
    held.forEach((r) => r());
  });
});
