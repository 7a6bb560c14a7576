import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { APPLY, STOP } from '../../../src/chain/condition.js';
import { createS25r, DEFAULT_S25R_BLACKLIST, DEFAULT_S25R_WHITELIST } from '../../../src/chain/conditions/s25r.js';
import { connectCtx, ctx, inet, unixClient } from './helpers.js';

const v4 = (hostname: string) => connectCtx(inet('192.0.2.10', hostname));

/** Which default blacklist entries match: 0 = "unknown", 1 = "[...]", 2..7 = S25R rules 1..6. */
const blacklistHits = (host: string) =>
  DEFAULT_S25R_BLACKLIST.flatMap((p, i) => ((typeof p === 'string' ? p === host.toLowerCase() : p.test(host)) ? [i] : []));

describe('S25R', () => {
  const s25r = createS25r();

  it('acts at connect only, under its milter-manager name', () => {
    expect(s25r.name).toBe('S25R');
    expect(s25r.description).toBe('Selective SMTP Rejection');
    expect([...s25r.stages]).toEqual(['connect']);
    expect(s25r.check('mail', v4('dhcp123.example.com'))).toBe(APPLY);
  });

  // Each example is matched by exactly the rule it is meant to show, so a broken rule cannot hide behind another.
  it.each([
    ['p1234-ipbf12.example.ne.jp', 2, 'rule 1: digit, non-digits, digit in the first label, then a dot'],
    ['192-0-2-1.example.net', 2, 'rule 1: address spelt with dashes'],
    ['host12345.example.com', 3, 'rule 2: five digits in a row in the first label'],
    ['softbank060123456789.bbtec.net', 3, 'rule 2: long digit run'],
    ['client.1host.isp.example.com', 4, 'rule 3: second label starts with a digit, four more labels'],
    ['123.45.example.com', 4, 'rule 3: first label starts with a digit'],
    ['host1.pool2-3.example.com', 5, 'rule 4: first label ends in a digit, digit-dash-digit in the second'],
    ['mail1.pool2.isp.example.com', 6, 'rule 5: first two labels end in digits, five labels'],
    ['dhcp123.example.com', 7, 'rule 6: dhcp prefix'],
    ['dhcp-host7.example.com', 7, 'rule 6: dhcp prefix, digit later in the label'],
    ['ADSL-pool9.example.net', 7, 'rule 6: case-insensitive adsl prefix'],
    ['dialup9.example.net', 7, 'rule 6: dialup'],
    ['ppp-a5.example.net', 7, 'rule 6: ppp'],
    ['xdsl3.example.net', 7, 'rule 6: [achrsvx]?dsl'],
    ['[192.0.2.1]', 1, 'no reverse DNS (Postfix)'],
    ['unknown', 0, 'no reverse DNS (Sendmail-style "unknown")'],
  ])('applies to %s (%s)', (host, entry, _why) => {
    expect(blacklistHits(host)).toEqual([entry]);
    expect(s25r.check('connect', v4(host))).toBe(APPLY);
  });

  it('matches the "unknown" string exactly but case-insensitively', () => {
    expect(s25r.check('connect', v4('UNKNOWN'))).toBe(APPLY);
    expect(s25r.check('connect', v4('unknown.example.com'))).toBe(STOP);
  });

  it.each([
    ['mail.example.com', 'static-looking name'],
    ['smtp.example.org', 'static-looking name'],
    ['mx01.example.com', 'one short digit run'],
    ['server1.dc2.example.com', 'digits at the ends of two labels but only four labels and no dash'],
    ['mail2.example.co.jp', 'a digit in the first label only'],
    ['ppp.example.com', 'ppp prefix but no digit'],
    // The brief's example p1234-ipbf.example.ne.jp has no digit after the non-digit run, so rule 1 does not
    // match; none of the others does either. (The real S25R example is p1234-ipbf12aobadori.miyagi.ocn.ne.jp.)
    ['p1234-ipbf.example.ne.jp', 'four digits, no second digit run'],
    ['mx1.google.com', 'whitelisted and not dynamic anyway'],
    ['[mail].example.com', 'brackets must span the whole name'],
  ])('does not apply to %s (%s)', (host) => {
    expect(s25r.check('connect', v4(host))).toBe(STOP);
  });

  it.each([
    'mail-yw1-f123.google.com',
    'a1-b2.obsmtp.com',
    'a1-b2.smtp-out.amazonses.com',
    'mail-a1-b2.slack.com',
    'mail-a1-b2.mg.gitlab.com',
    'o1-b2.sendgrid.net',
  ])('whitelists %s although it looks dynamic', (host) => {
    expect(blacklistHits(host).length).toBeGreaterThan(0);
    expect(s25r.check('connect', v4(host))).toBe(STOP);
  });

  it('anchors the default whitelist at the end and keeps it case-sensitive, as milter-manager does', () => {
    expect(s25r.check('connect', v4('mail-yw1-f123.google.com.evil.example'))).toBe(APPLY);
    expect(s25r.check('connect', v4('mail-yw1-f123.GOOGLE.COM'))).toBe(APPLY);
    expect(DEFAULT_S25R_WHITELIST).toHaveLength(6);
  });

  describe('non-IPv4 clients', () => {
    it.each([
      ['IPv6', inet('2001:db8::1', 'dhcp123.example.com')],
      ['IPv6 without reverse DNS', inet('2001:db8::1', '[IPv6:2001:db8::1]')],
      ['UNIX socket', { ...unixClient(), hostname: 'unknown' }],
      ['unknown family', { hostname: 'unknown', family: 'unknown' as const }],
    ])('are not applied while checkOnlyIpv4 is on (%s)', (_what, connection) => {
      expect(s25r.check('connect', connectCtx(connection))).toBe(STOP);
    });

    it('are judged by host name when checkOnlyIpv4 is off', () => {
      const all = createS25r({ checkOnlyIpv4: false });
      expect(all.check('connect', connectCtx(inet('2001:db8::1', 'dhcp123.example.com')))).toBe(APPLY);
      expect(all.check('connect', connectCtx(inet('2001:db8::1', '[IPv6:2001:db8::1]')))).toBe(APPLY);
      expect(all.check('connect', connectCtx(inet('2001:db8::1', 'mail.example.com')))).toBe(STOP);
    });

    it('treat an IPv4-mapped IPv6 client as IPv4', () => {
      expect(s25r.check('connect', connectCtx(inet('::ffff:192.0.2.1', '[192.0.2.1]')))).toBe(APPLY);
    });

    it('treat an inet client with no address as IPv4, and no connection at all as not applicable', () => {
      expect(s25r.check('connect', connectCtx({ hostname: 'unknown', family: 'inet' }))).toBe(APPLY);
      expect(s25r.check('connect', ctx())).toBe(STOP);
      expect(createS25r({ checkOnlyIpv4: false }).check('connect', ctx())).toBe(STOP);
    });
  });

  describe('user lists', () => {
    it('adds blacklist strings (exact, case-insensitive) and regexps', () => {
      const c = createS25r({ blacklist: ['Relay.Example.com', /\.dyn\.example\.net$/] });
      expect(c.check('connect', v4('relay.example.COM'))).toBe(APPLY);
      expect(c.check('connect', v4('x.relay.example.com'))).toBe(STOP);
      expect(c.check('connect', v4('home.dyn.example.net'))).toBe(APPLY);
    });

    it('adds whitelist entries that beat both default and user blacklists', () => {
      const c = createS25r({ whitelist: ['[192.0.2.1]', /\.partner\.example$/], blacklist: ['[192.0.2.1]'] });
      expect(c.check('connect', v4('[192.0.2.1]'))).toBe(STOP);
      expect(c.check('connect', v4('[192.0.2.2]'))).toBe(APPLY);
      expect(c.check('connect', v4('dhcp123.partner.example'))).toBe(STOP);
    });

    it('gives the same answer every time for g/y regexps', () => {
      const c = createS25r({ blacklist: [/^static\d/g], whitelist: [/^good\d/y] });
      for (let i = 0; i < 3; i++) {
        expect(c.check('connect', v4('static1.example.com'))).toBe(APPLY);
        expect(c.check('connect', v4('good1-2a.example.com'))).toBe(STOP);
      }
    });
  });

  describe('properties', () => {
    const hostname = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.domain(),
      fc.ipV4().map((a) => `[${a}]`),
      fc.array(fc.stringMatching(/^[a-z0-9-]{1,12}$/), { minLength: 1, maxLength: 6 }).map((l) => l.join('.')),
    );

    it('never throws and only answers apply or stop', () => {
      fc.assert(
        fc.property(hostname, fc.boolean(), fc.constantFrom('inet', 'inet6', 'unix', 'unknown'), (host, only4, family) => {
          const c = createS25r({ checkOnlyIpv4: only4 });
          const v = c.check('connect', connectCtx({ hostname: host, family, address: family === 'inet6' ? '2001:db8::1' : '192.0.2.1' }));
          expect([APPLY, STOP]).toContain(v);
        }),
      );
    });

    it('lets a user whitelist entry win over any blacklist entry for the same name', () => {
      fc.assert(
        fc.property(hostname, fc.boolean(), (host, asRegExp) => {
          const entry = asRegExp ? new RegExp(`^${host.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`) : host;
          const c = createS25r({ whitelist: [entry], blacklist: [host, /.*/] });
          expect(c.check('connect', v4(host))).toBe(STOP);
        }),
      );
    });

    it('applies a user blacklist entry unless the default whitelist claims the name', () => {
      fc.assert(
        fc.property(hostname, (host) => {
          const whitelisted = DEFAULT_S25R_WHITELIST.some((re) => re.test(host));
          expect(createS25r({ blacklist: [host] }).check('connect', v4(host))).toBe(whitelisted ? STOP : APPLY);
        }),
      );
    });
  });
});
