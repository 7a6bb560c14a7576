import { describe, expect, it } from 'vitest';
import { describeSpamdAddress, parseSpamdAddress } from '../../../src/filters/spamassassin/address.js';

describe('parseSpamdAddress', () => {
  it('reads milter-style specs; without a host, spamd is on this machine', () => {
    expect(parseSpamdAddress('unix:/run/spamd.sock')).toEqual({ path: '/run/spamd.sock' });
    expect(parseSpamdAddress('inet:783@127.0.0.1')).toEqual({ host: '127.0.0.1', port: 783 });
    expect(parseSpamdAddress('inet:783@spamd.example.org')).toEqual({ host: 'spamd.example.org', port: 783 });
    expect(parseSpamdAddress('inet:783')).toEqual({ host: '127.0.0.1', port: 783 });
    expect(parseSpamdAddress('inet6:783@[::1]')).toEqual({ host: '::1', port: 783 });
    expect(parseSpamdAddress('inet6:783')).toEqual({ host: '::1', port: 783 });
  });

  it('names the spec in its errors', () => {
    expect(() => parseSpamdAddress('783')).toThrow(/"783"/);
    expect(() => parseSpamdAddress('inet:0@127.0.0.1')).toThrow(/port cannot be 0/);
    expect(() => parseSpamdAddress('inet:99999')).toThrow(/port/);
  });

  it('describes addresses for log lines', () => {
    expect(describeSpamdAddress({ host: '::1', port: 783 })).toBe('[::1]:783');
    expect(describeSpamdAddress({ host: '127.0.0.1', port: 783 })).toBe('127.0.0.1:783');
    expect(describeSpamdAddress({ path: '/run/spamd.sock' })).toBe('unix:/run/spamd.sock');
  });
});
