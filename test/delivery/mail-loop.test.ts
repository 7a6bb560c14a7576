/**
 * A next hop that is one of our own listening addresses is a mail loop (review finding 1, delivery side):
 * relay_host pointing at our own listener, or ourselves as the best MX, fail at once with 5.4.6 "mail for X
 * loops back to myself" (Postfix's words) and nothing is sent; a better MX than ourselves is still used,
 * and one less preferred than ourselves is not. The listener under test is real: without the check, the
 * mail would be delivered to it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ownAddresses } from '../../src/cli/own-addresses.js';
import type { MxResolver } from '../../src/delivery/next-hop.js';
import { hostsBeforeSelf, selfCheck } from '../../src/delivery/own-addresses.js';
import { createTransport } from '../../src/delivery/transport.js';
import { startTestServer, type TestServer } from './peers.js';
import { noAccounts, request } from './request.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** MX records and A records from tables. */
function resolverOf(mx: Record<string, [string, number][]>, a: Record<string, string>): MxResolver {
  const none = (): Promise<never> => Promise.reject(Object.assign(new Error('no data'), { code: 'ENODATA' }));
  return {
    resolveMx: (n) => (mx[n] === undefined ? none() : Promise.resolve(mx[n].map(([exchange, priority]) => ({ exchange, priority })))),
    resolve4: (n) => (a[n] === undefined ? none() : Promise.resolve([a[n]])),
    resolve6: () => none(),
  };
}

async function server(): Promise<TestServer> {
  const s = await startTestServer();
  servers.push(s);
  return s;
}

describe('mail loop at the next hop', () => {
  it('fails relay_host that is our own listener with 5.4.6, without connecting', async () => {
    const us = await server();
    const t = createTransport({ relayHost: `[127.0.0.1]:${us.port}`, ownAddresses: [{ host: '127.0.0.1', port: us.port }], hostname: 'h' }, noAccounts);
    const results = await t.deliver(request(['bob@remote.example']));
    await t.close();
    expect(results).toEqual([
      expect.objectContaining({ address: 'bob@remote.example', status: 'failed', enhanced: '5.4.6', diagnostic: 'mail for 127.0.0.1 loops back to myself' }),
    ]);
    expect(us.connections).toBe(0);
  });

  it('fails a domain whose best MX is ourselves (a backup MX after us is not tried); uses a better MX than us', async () => {
    const other = await server(); // 127.0.0.1
    const port = other.port;
    const resolver = resolverOf(
      { 'self-first.test': [['self.mx.test', 5], ['backup.mx.test', 10]], 'other-first.test': [['backup.mx.test', 5], ['self.mx.test', 10]] },
      { 'self.mx.test': '127.0.0.2', 'backup.mx.test': '127.0.0.1' },
    );
    // We listen on 0.0.0.0 with 127.0.0.2 among our interfaces (the real listener is another MTA's).
    const own = ownAddresses([{ host: '0.0.0.0', port }], { lo: [{ address: '127.0.0.2', family: 'IPv4', netmask: '255.0.0.0', internal: true, mac: '00:00:00:00:00:00', cidr: '127.0.0.2/8' }] });
    const t = createTransport({ resolver, smtpPort: port, ownAddresses: own, hostname: 'h' }, noAccounts);
    const results = await t.deliver(request(['a@self-first.test', 'b@other-first.test']));
    await t.close();
    expect(results.map((r) => [r.address, r.status, r.enhanced, r.diagnostic])).toEqual([
      ['a@self-first.test', 'failed', '5.4.6', 'mail for self-first.test loops back to myself'],
      ['b@other-first.test', 'delivered', '2.0.0', expect.any(String)],
    ]);
    expect(other.received.map((m) => m.to)).toEqual([['b@other-first.test']]);
  });

  it('matches address and port (IPv4-mapped too), and trims the hosts at the first that is ourselves', () => {
    const isSelf = selfCheck([{ host: '127.0.0.1', port: 25 }, { host: '[::1]', port: 25 }, { host: 'mail.example', port: 25 }]);
    expect(isSelf('127.0.0.1', 25)).toBe(true);
    expect(isSelf('::ffff:127.0.0.1', 25)).toBe(true);
    expect(isSelf('::1', 25)).toBe(true);
    expect(isSelf('127.0.0.1', 2525)).toBe(false);
    expect(isSelf('192.0.2.1', 25)).toBe(false);
    const hosts = ['192.0.2.1', '127.0.0.1', '192.0.2.2'].map((address) => ({ name: address, address, port: 25 }));
    expect(hostsBeforeSelf(hosts, isSelf).map((h) => h.address)).toEqual(['192.0.2.1']);
  });

  it('expands wildcard listeners to every interface address, localhost to both loopbacks', () => {
    const ifs = {
      lo: [
        { address: '127.0.0.1', family: 'IPv4' as const, netmask: '255.0.0.0', internal: true, mac: '', cidr: null },
        { address: '::1', family: 'IPv6' as const, netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', internal: true, mac: '', cidr: null, scopeid: 0 },
      ],
      eth0: [{ address: '192.0.2.7', family: 'IPv4' as const, netmask: '255.255.255.0', internal: false, mac: '', cidr: null }],
    };
    expect(ownAddresses([{ host: '0.0.0.0', port: 25 }], ifs)).toEqual([
      { host: '127.0.0.1', port: 25 },
      { host: '192.0.2.7', port: 25 },
    ]);
    expect(ownAddresses([{ host: '::', port: 587 }], ifs).map((a) => a.host)).toEqual(['127.0.0.1', '::1', '192.0.2.7']);
    expect(ownAddresses([{ host: 'localhost', port: 2525 }, { host: '[::1]', port: 26 }], ifs)).toEqual([
      { host: '127.0.0.1', port: 2525 },
      { host: '::1', port: 2525 },
      { host: '::1', port: 26 },
    ]);
  });
});
