/**
 * Failed-login slow-down (review finding, issue 11): counted per client address, per /48 for IPv6 (an IPv6
 * host could rotate through its /64 and never be slowed; Dovecot masks to 48 bits), shared between services
 * with their own step, and bounded in memory however many addresses fail.
 */
import { describe, expect, it } from 'vitest';
import { AuthFailures } from '../../src/mail/client-limits.js';
import { penaltyKey } from '../../src/mail/penalty-key.js';

describe('penaltyKey', () => {
  it('keeps an IPv4 address, maps ::ffff:a.b.c.d to it, and takes an IPv6 address to its /48', () => {
    expect(penaltyKey('192.0.2.7')).toBe('192.0.2.7');
    expect(penaltyKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(penaltyKey('::ffff:c000:207')).toBe('192.0.2.7');
    expect(penaltyKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1::/48');
    expect(penaltyKey('2001:DB8:1:ffff::1')).toBe('2001:db8:1::/48');
    expect(penaltyKey('[2001:db8:1::9]')).toBe('2001:db8:1::/48');
    expect(penaltyKey('fe80::1%eth0')).toBe('fe80:0:0::/48');
    expect(penaltyKey('::1')).toBe('0:0:0::/48');
    expect(penaltyKey('2001:db8::1.2.3.4')).toBe('2001:db8:0::/48');
    expect(penaltyKey('unknown')).toBe('unknown');
  });
});

describe('AuthFailures', () => {
  it('slows down a whole IPv6 /48: a new address in it does not start from zero', () => {
    const f = new AuthFailures(1000);
    for (let i = 1; i <= 5; i++) f.fail(`2001:db8:1:${i}::${i}`);
    expect(f.delayMs('2001:db8:1:ff::77')).toBe(5000);
    expect(f.delayMs('2001:db8:2::1')).toBe(0);
  });

  it('shares the counts with withStep, each service keeping its own delay per failure', () => {
    const imap = new AuthFailures(2000);
    const pop3 = imap.withStep(1000);
    imap.fail('192.0.2.1');
    pop3.fail('192.0.2.1');
    expect(imap.delayMs('192.0.2.1')).toBe(4000);
    expect(pop3.delayMs('192.0.2.1')).toBe(2000);
  });

  it('remembers at most maxTracked clients, forgetting the least recently failed first', () => {
    let now = 0;
    const f = new AuthFailures(1000, 30_000, 600_000, () => now, 100);
    f.fail('198.51.100.1');
    for (let i = 0; i < 10_000; i++) {
      now++;
      f.fail(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      if (i % 50 === 0) f.fail('198.51.100.1'); // keeps failing: stays remembered
    }
    expect(f.tracked).toBeLessThanOrEqual(100);
    expect(f.delayMs('198.51.100.1')).toBeGreaterThan(0);
    expect(f.delayMs('10.0.0.0')).toBe(0);
  });

  it('forgets a client forgetMs after its last failure, and drops it from memory', () => {
    let now = 0;
    const f = new AuthFailures(1000, 30_000, 1000, () => now);
    f.fail('192.0.2.1');
    now = 2000;
    f.fail('192.0.2.2');
    expect(f.tracked).toBe(1);
    expect(f.delayMs('192.0.2.1')).toBe(0);
  });
});
