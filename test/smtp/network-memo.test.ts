/** The memoised network lists: the same answers as the list, each address asked of it once, bounded. */
import { describe, expect, it, vi } from 'vitest';
import { NetworkList } from '../../src/mail/network-list.js';
import { MemoisedNetworks } from '../../src/smtp/network-memo.js';

describe('MemoisedNetworks', () => {
  it("answers as the list does, asking the list once per address", () => {
    const list = new NetworkList(['192.0.2.0/24', '2001:db8::/32']);
    const has = vi.spyOn(list, 'has');
    const memo = new MemoisedNetworks(list);
    for (let i = 0; i < 3; i++) {
      expect(memo.has('192.0.2.7')).toBe(true);
      expect(memo.has('::ffff:192.0.2.7')).toBe(true);
      expect(memo.has('198.51.100.1')).toBe(false);
      expect(memo.has('2001:db8::1')).toBe(true);
      expect(memo.has(undefined)).toBe(false);
    }
    expect(has).toHaveBeenCalledTimes(4);
  });

  it('keeps at most maxEntries addresses, dropping the oldest', () => {
    const list = new NetworkList(['192.0.2.0/24']);
    const has = vi.spyOn(list, 'has');
    const memo = new MemoisedNetworks(list, 2);
    for (const a of ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.2', '192.0.2.3']) memo.has(a);
    expect(has).toHaveBeenCalledTimes(3);
    memo.has('192.0.2.1');
    expect(has).toHaveBeenCalledTimes(4);
  });

  it('an empty list answers no without asking', () => {
    const list = new NetworkList([]);
    const has = vi.spyOn(list, 'has');
    expect(new MemoisedNetworks(list).has('127.0.0.1')).toBe(false);
    expect(has).not.toHaveBeenCalled();
  });
});
