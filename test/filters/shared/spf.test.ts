import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsResolver } from '../../../src/filters/shared/dns.js';
import { createSpfChecker, escapeComment, receivedSpfValue, type SpfResult } from '../../../src/filters/shared/spf.js';
import { startDnsStub, type DnsStub } from '../../interop/harness/dns-stub.js';
import { hangGuard } from '../../hang-guard.js';

let stub: DnsStub;
beforeAll(async () => {
  stub = await startDnsStub({
    'pass.example.com': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
    'fail.example.com': { TXT: ['v=spf1 ip4:198.51.100.1 -all'] },
    'soft.example.com': { TXT: ['v=spf1 ip4:198.51.100.1 ~all'] },
    'neutral.example.com': { TXT: ['v=spf1 ?all'] },
    'none.example.com': { A: ['192.0.2.99'] },
    'perm.example.com': { TXT: ['v=spf1 -all', 'v=spf1 +all'] },
    'bad-syntax.example.com': { TXT: ['v=spf1 ip4:192.0.2.0/99 -all'] },
    'include.example.com': { TXT: ['v=spf1 include:pass.example.com -all'] },
    'mx.example.com': { TXT: ['v=spf1 mx -all'], MX: [{ exchange: 'mail.mx.example.com', priority: 10 }] },
    'mail.mx.example.com': { A: ['192.0.2.10'] },
    'helo.example.net': { TXT: ['v=spf1 a -all'], A: ['192.0.2.10'] },
    'slow.example.com': { behaviour: 'silent' },
    'servfail.example.com': { behaviour: 'servfail' },
    'garbage.example.com': { behaviour: 'garbage' },
  });
});
afterAll(async () => stub.close());

const checker = () => createSpfChecker(createDnsResolver([stub.server], 1000), { mta: 'mx.test.example' });
const q = (sender: string, ip = '192.0.2.10', helo = 'helo.example.net') => ({ ip, helo, sender });

describe('createSpfChecker through the real resolver and the DNS stub', () => {
  it.each<[string, SpfResult]>([
    ['a@pass.example.com', 'pass'],
    ['a@fail.example.com', 'fail'],
    ['a@soft.example.com', 'softfail'],
    ['a@neutral.example.com', 'neutral'],
    ['a@none.example.com', 'none'],
    ['a@nowhere.example.com', 'none'],
    ['a@perm.example.com', 'permerror'],
    ['a@bad-syntax.example.com', 'permerror'],
    ['a@include.example.com', 'pass'],
    ['a@mx.example.com', 'pass'],
    ['a@servfail.example.com', 'temperror'],
    ['a@garbage.example.com', 'temperror'],
  ])('%s → %s', async (sender, result) => {
    const o = await checker()(q(sender));
    expect(o.result).toBe(result);
    expect(o.domain).toBe(sender.split('@')[1]);
    expect(o.mailFrom).toBe(sender);
    expect(o.receivedSpf).toMatch(new RegExp(`^${result} \\(`));
    expect(o.receivedSpf).toContain('client-ip=192.0.2.10;');
    expect(o.receivedSpf).toContain(`envelope-from="${sender}";`);
    expect(o.receivedSpf).toContain('receiver=mx.test.example;');
  });

  it('a DNS server that never answers gives temperror (resolver timeout), not a hang', async () => {
    const noHang = hangGuard(1000);
    const o = await checker()(q('a@slow.example.com'));
    expect(o.result).toBe('temperror');
    noHang();
  });

  it('the overall time limit gives temperror even if the resolver would wait longer', async () => {
    const slowResolver = () => new Promise<never>(() => undefined);
    const o = await createSpfChecker(slowResolver, { timeoutMs: 50 })(q('a@pass.example.com'));
    expect(o.result).toBe('temperror');
    expect(o.comment).toContain('no answer within 50 ms');
  });

  it('checks postmaster@HELO for the null sender', async () => {
    const o = await checker()(q(''));
    expect(o.result).toBe('pass');
    expect(o.mailFrom).toBe('postmaster@helo.example.net');
  });

  it('keeps the SPF record (for exp=) and reuses answers, but not temporary errors', async () => {
    const c = checker();
    const first = await c(q('a@fail.example.com'));
    expect(first.record).toBe('v=spf1 ip4:198.51.100.1 -all');
    const before = stub.queries.length;
    await c(q('a@fail.example.com'));
    expect(stub.queries.length).toBe(before);
    await c(q('a@servfail.example.com'));
    const afterError = stub.queries.length;
    await c(q('a@servfail.example.com'));
    expect(stub.queries.length).toBeGreaterThan(afterError);
  });

  it('a resolver that throws or returns garbage gives a result, never a rejection', async () => {
    const throwing = () => {
      throw new Error('boom');
    };
    expect((await createSpfChecker(throwing as never)(q('a@pass.example.com'))).result).toBe('temperror');
    const garbage = async () => [[42], null, { x: 1 }];
    expect(['permerror', 'temperror', 'neutral', 'none']).toContain((await createSpfChecker(garbage as never)(q('a@pass.example.com'))).result);
  });
});

describe('Received-SPF value', () => {
  it('is RFC 7208 §9.1 shaped, quoting what is not a dot-atom', () => {
    const v = receivedSpfValue('fail', 'x (y) \\ z', { ip: '2001:db8::1', helo: 'odd helo', sender: 'a b@c' }, 'a b@c', 'mx');
    expect(v).toBe('fail (x \\(y\\) \\\\ z)\n\tclient-ip=2001:db8::1; envelope-from="a b@c"; helo="odd helo"; receiver=mx;');
  });

  it('property: any comment stays inside one balanced comment, on one line', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const c = escapeComment(s);
        expect(c).not.toMatch(/[\r\n]/);
        // Unescaped parentheses would end the comment early.
        expect(c.replace(/\\./g, '')).not.toMatch(/[()]/);
      }),
    );
  });
});
