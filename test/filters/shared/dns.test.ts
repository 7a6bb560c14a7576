import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsResolver } from '../../../src/filters/shared/dns.js';
import { startDnsStub, type DnsStub } from '../../interop/harness/dns-stub.js';

let stub: DnsStub;
beforeAll(async () => {
  stub = await startDnsStub({
    'txt.example.com': { TXT: ['v=spf1 -all', ['part one ', 'part two']], A: ['192.0.2.1'], AAAA: ['2001:db8::1'], MX: [{ exchange: 'mx.example.com', priority: 10 }] },
    'long.example.com': { TXT: ['x'.repeat(3000)] },
    '1.2.0.192.in-addr.arpa': { PTR: ['host.example.com'] },
    'silent.example.com': { behaviour: 'silent' },
    'servfail.example.com': { behaviour: 'servfail' },
    'refused.example.com': { behaviour: 'refused' },
    'garbage.example.com': { behaviour: 'garbage' },
  });
});
afterAll(async () => stub.close());

describe('createDnsResolver against the loopback DNS stub', () => {
  it('answers TXT (character-strings kept apart), A, AAAA, MX and PTR as dns.promises.resolve does', async () => {
    const r = createDnsResolver([stub.server], 1000);
    expect(await r('txt.example.com', 'TXT')).toEqual([['v=spf1 -all'], ['part one ', 'part two']]);
    expect(await r('txt.example.com', 'A')).toEqual(['192.0.2.1']);
    expect(await r('txt.example.com', 'AAAA')).toEqual(['2001:db8::1']);
    // Node 24's resolve() adds type: 'MX' (Node 20's does not); mailauth reads exchange and priority.
    expect(await r('txt.example.com', 'MX')).toEqual([expect.objectContaining({ exchange: 'mx.example.com', priority: 10 })]);
    expect(await r('1.2.0.192.in-addr.arpa', 'PTR')).toEqual(['host.example.com']);
  });

  it('serves a record too large for UDP over TCP after a truncated answer', async () => {
    const r = createDnsResolver([stub.server], 1000);
    const before = stub.queries.filter((q) => q === 'long.example.com TXT').length;
    const answer = (await r('long.example.com', 'TXT')) as string[][];
    expect(answer[0]!.join('')).toBe('x'.repeat(3000));
    expect(stub.queries.filter((q) => q === 'long.example.com TXT').length - before).toBe(2);
  });

  it('gives the error codes mailauth tells apart', async () => {
    const r = createDnsResolver([stub.server], 200);
    const code = (name: string, type = 'TXT') => r(name, type).then(() => 'answered', (e: NodeJS.ErrnoException) => e.code);
    expect(await code('nowhere.example.com')).toBe('ENOTFOUND');
    expect(await code('txt.example.com', 'PTR')).toBe('ENODATA');
    expect(await code('servfail.example.com')).toBe('ESERVFAIL');
    expect(await code('refused.example.com')).toBe('EREFUSED');
    expect(await code('garbage.example.com')).toBe('EBADRESP');
    expect(await code('silent.example.com')).toBe('ETIMEOUT');
  });

  it('turns a bad record type into a rejection, not a throw', async () => {
    const r = createDnsResolver([stub.server], 200);
    await expect(r('txt.example.com', 'NOPE')).rejects.toThrow();
  });
});
