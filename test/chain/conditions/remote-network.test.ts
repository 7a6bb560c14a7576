import { describe, expect, it } from 'vitest';
import { APPLY, STOP } from '../../../src/chain/condition.js';
import { createRemoteNetwork } from '../../../src/chain/conditions/remote-network.js';
import { connectCtx, ctx, inet, unixClient } from './helpers.js';

const remote = createRemoteNetwork();
const verdict = (address: string, c = remote) => (c.check('connect', connectCtx(inet(address))).stop ? 'local' : 'remote');

describe('Remote Network', () => {
  it('acts at connect only, under its milter-manager name', () => {
    expect(remote.name).toBe('Remote Network');
    expect([...remote.stages]).toEqual(['connect']);
    expect(remote.check('mail', connectCtx(inet('127.0.0.1')))).toBe(APPLY);
  });

  it.each([
    // IPv4 loopback
    ['127.0.0.1', 'local'],
    ['127.255.255.255', 'local'],
    ['126.255.255.255', 'remote'],
    ['128.0.0.0', 'remote'],
    // RFC 1918 and their edges
    ['10.0.0.0', 'local'],
    ['10.255.255.255', 'local'],
    ['9.255.255.255', 'remote'],
    ['11.0.0.0', 'remote'],
    ['172.15.255.255', 'remote'],
    ['172.16.0.0', 'local'],
    ['172.16.0.1', 'local'],
    ['172.31.255.255', 'local'],
    ['172.32.0.0', 'remote'],
    ['192.167.255.255', 'remote'],
    ['192.168.0.0', 'local'],
    ['192.168.255.255', 'local'],
    ['192.169.0.0', 'remote'],
    // Neither loopback nor RFC 1918
    ['192.0.2.1', 'remote'],
    ['100.64.0.1', 'remote'],
    ['169.254.1.1', 'remote'],
    ['0.0.0.0', 'remote'],
    // IPv6 loopback and link-local; ULA is remote
    ['::1', 'local'],
    ['::2', 'remote'],
    ['::', 'remote'],
    ['fe80::1', 'local'],
    ['FE80::1', 'local'],
    ['febf:ffff:ffff:ffff::1', 'local'],
    ['fec0::1', 'remote'],
    ['fe7f:ffff::1', 'remote'],
    ['fe80::1%eth0', 'local'],
    ['fc00::1', 'remote'],
    ['fd12:3456::1', 'remote'],
    ['2001:db8::1', 'remote'],
    // IPv4-mapped IPv6 is judged as IPv4, in both spellings
    ['::ffff:10.0.0.1', 'local'],
    ['::ffff:127.0.0.1', 'local'],
    ['::ffff:7f00:1', 'local'],
    ['0:0:0:0:0:ffff:c0a8:101', 'local'],
    ['::ffff:172.15.255.255', 'remote'],
    ['::ffff:192.0.2.1', 'remote'],
  ])('%s is %s', (address, expected) => {
    expect(verdict(address)).toBe(expected);
  });

  it('treats UNIX-socket clients as local', () => {
    expect(remote.check('connect', connectCtx(unixClient()))).toBe(STOP);
  });

  it.each([
    ['unknown family', { hostname: 'unknown', family: 'unknown' as const }],
    ['inet without address', { hostname: 'x', family: 'inet' as const }],
    ['unparseable address', { hostname: 'x', family: 'inet' as const, address: 'not-an-ip' }],
    ['IPv4 with leading zeros', { hostname: 'x', family: 'inet' as const, address: '010.0.0.1' }],
  ])('does not call an unknown address remote (%s)', (_what, connection) => {
    expect(remote.check('connect', connectCtx(connection))).toBe(STOP);
  });

  it('does not call a session without connection info remote', () => {
    expect(remote.check('connect', ctx())).toBe(STOP);
  });

  describe('user networks', () => {
    const c = createRemoteNetwork({
      localAddresses: ['192.0.2.0/24', '198.51.100.7', '2001:db8:1::/48', 'fd00::/8'],
      remoteAddresses: ['10.1.0.0/16', '127.0.0.2', 'fe80::bad/128'],
    });

    it.each([
      ['192.0.2.200', 'local'],
      ['192.0.3.1', 'remote'],
      ['198.51.100.7', 'local'],
      ['198.51.100.8', 'remote'],
      ['::ffff:192.0.2.9', 'local'],
      ['2001:db8:1:ffff::1', 'local'],
      ['2001:db8:2::1', 'remote'],
      ['fd00::1', 'local'],
      ['fc00::1', 'remote'],
      // remote entries override local ones, default or user
      ['10.1.2.3', 'remote'],
      ['10.2.0.1', 'local'],
      ['127.0.0.2', 'remote'],
      ['127.0.0.1', 'local'],
      ['::ffff:10.1.0.1', 'remote'],
      ['fe80::bad', 'remote'],
      ['fe80::1', 'local'],
    ])('%s is %s', (address, expected) => {
      expect(verdict(address, c)).toBe(expected);
    });

    it('keeps IPv6 entries away from IPv4 clients', () => {
      const all6 = createRemoteNetwork({ localAddresses: ['::/0'] });
      expect(verdict('2001:db8::1', all6)).toBe('local');
      expect(verdict('192.0.2.1', all6)).toBe('remote');
      expect(verdict('::ffff:192.0.2.1', all6)).toBe('remote');
      const all4 = createRemoteNetwork({ localAddresses: ['0.0.0.0/0'] });
      expect(verdict('192.0.2.1', all4)).toBe('local');
      expect(verdict('2001:db8::1', all4)).toBe('remote');
    });

    it('accepts host bits in a CIDR and whitespace around it', () => {
      expect(verdict('203.0.113.99', createRemoteNetwork({ localAddresses: [' 203.0.113.5/24 '] }))).toBe('local');
    });

    it.each(['192.0.2.0/33', '2001:db8::/129', '192.0.2.0/', '192.0.2.0/x', 'example.com', '', '192.0.2.0/24/1', '::ffff:10.0.0.0/104', 'fe80::%eth0/64'])(
      'rejects %j',
      (spec) => {
        expect(() => createRemoteNetwork({ localAddresses: [spec] })).toThrow(/invalid address or CIDR/);
        expect(() => createRemoteNetwork({ remoteAddresses: [spec] })).toThrow(/invalid address or CIDR/);
      },
    );

    it('names the offending entry and explains IPv4-mapped entries', () => {
      expect(() => createRemoteNetwork({ localAddresses: ['10.0.0.0/8', 'bogus'] })).toThrow('"bogus"');
      expect(() => createRemoteNetwork({ localAddresses: ['::ffff:10.0.0.1'] })).toThrow(/write IPv4-mapped addresses as IPv4/);
    });
  });
});
