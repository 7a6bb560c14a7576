/** parseListenAddress and parseRelayHost: pure parsers, fuzzed (never throw; what they accept prints back the same). */
import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatListenAddress, parseListenAddress } from '../../src/config/listen-address.js';
import { parseRelayHost } from '../../src/config/relay-host.js';

const NEAR = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...'[]:.0123456789abcdef-ipv6%@ '.split('')), maxLength: 30 }),
);

describe('parseListenAddress', () => {
  it('never throws; an accepted address has a port 1..65535 and formats back to an equivalent text', () => {
    fc.assert(
      fc.property(NEAR, (text) => {
        const parsed = parseListenAddress(text);
        if ('problem' in parsed) return;
        expect(parsed.port).toBeGreaterThanOrEqual(1);
        expect(parsed.port).toBeLessThanOrEqual(65535);
        expect(parseListenAddress(formatListenAddress(parsed))).toStrictEqual(parsed);
      }),
      { numRuns: 20_000 },
    );
  });

  it('takes IPv4, bracketed IPv6 and host names; refuses the rest', () => {
    expect(parseListenAddress('0.0.0.0:25')).toStrictEqual({ host: '0.0.0.0', port: 25 });
    expect(parseListenAddress('[::]:587')).toStrictEqual({ host: '::', port: 587 });
    expect(parseListenAddress('localhost:2525')).toStrictEqual({ host: 'localhost', port: 2525 });
    for (const bad of ['25', ':25', '127.0.0.1', '::1:25', '[::1]', '[fe80::1%eth0]:25', 'a b:25', '127.0.0.1:65536', '127.0.0.1:+1']) {
      expect('problem' in parseListenAddress(bad), bad).toBe(true);
    }
  });
});

describe('parseRelayHost', () => {
  it('never throws; an accepted host is a name or (bracketed) address, MX lookup exactly when unbracketed', () => {
    fc.assert(
      fc.property(NEAR, (text) => {
        const parsed = parseRelayHost(text);
        if ('problem' in parsed) return;
        expect(parsed.text).toBe(text);
        expect(parsed.mx).toBe(!text.startsWith('['));
        if (parsed.mx) expect(isIP(parsed.host)).toBe(0);
        expect(parsed.port).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 20_000 },
    );
  });
});
