import { describe, expect, it } from 'vitest';
import { cidrError } from '../../src/config/cidr.js';
import { NetworkList } from '../../src/mail/network-list.js';

describe('NetworkList', () => {
  const list = new NetworkList(['192.0.2.0/24', '198.51.100.7', '2001:db8::/32', ' 203.0.113.5/28 ']);

  it.each([
    ['192.0.2.200', true],
    ['192.0.3.1', false],
    ['198.51.100.7', true],
    ['198.51.100.8', false],
    ['203.0.113.1', true], // host bits in an entry, and whitespace around it, are fine
    ['203.0.113.16', false],
    ['2001:db8:ffff::1', true],
    ['2001:db9::1', false],
    // an IPv4-mapped client is the IPv4 address it is, in every spelling
    ['::ffff:192.0.2.9', true],
    ['::ffff:c000:209', true],
    ['0:0:0:0:0:ffff:c000:209', true],
    ['::ffff:192.0.3.1', false],
    // as MTAs and SMTP write addresses
    ['[192.0.2.1]', true],
    ['IPv6:2001:db8::1', true],
    ['[IPv6:2001:db8::1]', true],
    ['2001:db8::1%eth0', true],
    [' 192.0.2.1 ', true],
    ['not an ip', false],
    ['010.0.0.1', false],
    ['', false],
    [undefined, false],
  ])('%j: %s', (address, expected) => {
    expect(list.has(address)).toBe(expected);
  });

  it('keeps IPv6 entries away from IPv4 clients and IPv4 entries away from IPv6 ones', () => {
    const all6 = new NetworkList(['::/0']);
    expect(all6.has('2001:db8::1')).toBe(true);
    expect(all6.has('192.0.2.1')).toBe(false);
    expect(all6.has('::ffff:192.0.2.1')).toBe(false);
    const all4 = new NetworkList(['0.0.0.0/0']);
    expect(all4.has('192.0.2.1')).toBe(true);
    expect(all4.has('::ffff:c000:201')).toBe(true);
    expect(all4.has('2001:db8::1')).toBe(false);
  });

  it('an empty list holds nothing', () => {
    expect(new NetworkList([]).has('127.0.0.1')).toBe(false);
    expect(new NetworkList([]).size).toBe(0);
  });

  it.each([
    ['bogus', 'not an IP address or CIDR'],
    ['192.0.2.0/33', 'prefix length "33" is not a number from 0 to 32'],
    ['2001:db8::/129', 'prefix length "129" is not a number from 0 to 128'],
    ['192.0.2.0/', 'prefix length ""'],
    ['192.0.2.0/24/1', 'prefix length "24/1"'],
    ['::ffff:10.0.0.0/104', 'write IPv4-mapped addresses as IPv4'],
    ['fe80::1%eth0', 'a zone id'],
  ])('refuses %j as the configuration reader does', (spec, why) => {
    expect(() => new NetworkList(['10.0.0.0/8', spec])).toThrow(`invalid address or CIDR ${JSON.stringify(spec)}: ${why}`);
    expect(cidrError(spec)).toContain(why);
  });
});
