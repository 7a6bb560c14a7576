/** RFC 5321 §5.1 routing with a resolver of our own: MX order, implicit MX, null MX, DNS errors. */
import { describe, expect, it } from 'vitest';
import { resolveRoute, type MxResolver } from '../../src/delivery/next-hop.js';

type Zone = Record<string, { MX?: { exchange: string; priority: number }[]; A?: string[]; AAAA?: string[]; fail?: string }>;

/** node:dns's behaviour: unknown name ENOTFOUND, no records of the type ENODATA, `fail` that code. */
function resolverOf(zone: Zone): MxResolver {
  const get = async <K extends 'MX' | 'A' | 'AAAA'>(name: string, type: K) => {
    const entry = zone[name];
    if (entry === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    if (entry.fail !== undefined) throw Object.assign(new Error(entry.fail), { code: entry.fail });
    const records = entry[type];
    if (records === undefined || records.length === 0) throw Object.assign(new Error('no data'), { code: 'ENODATA' });
    return records as NonNullable<Zone[string][K]>;
  };
  return { resolveMx: (n) => get(n, 'MX'), resolve4: (n) => get(n, 'A'), resolve6: (n) => get(n, 'AAAA') };
}

describe('resolveRoute', () => {
  it('orders MX hosts by preference, A before AAAA', async () => {
    const zone: Zone = {
      'example.org': { MX: [{ exchange: 'mx2.example.org', priority: 20 }, { exchange: 'mx1.example.org', priority: 10 }] },
      'mx1.example.org': { A: ['192.0.2.1'], AAAA: ['2001:db8::1'] },
      'mx2.example.org': { A: ['192.0.2.2'] },
    };
    const route = await resolveRoute({ host: 'example.org', mx: true }, 25, resolverOf(zone));
    expect(route).toEqual({
      kind: 'hosts',
      hosts: [
        { name: 'mx1.example.org', address: '192.0.2.1', port: 25 },
        { name: 'mx1.example.org', address: '2001:db8::1', port: 25 },
        { name: 'mx2.example.org', address: '192.0.2.2', port: 25 },
      ],
    });
  });

  it('shuffles equal preferences', async () => {
    const zone: Zone = {
      'example.org': { MX: [{ exchange: 'a.example.org', priority: 10 }, { exchange: 'b.example.org', priority: 10 }] },
      'a.example.org': { A: ['192.0.2.1'] },
      'b.example.org': { A: ['192.0.2.2'] },
    };
    const first = new Set<string>();
    for (const r of [0.1, 0.9]) {
      let n = 0;
      const route = await resolveRoute({ host: 'example.org', mx: true }, 25, resolverOf(zone), () => (n++ === 0 ? r : 0.5));
      if (route.kind === 'hosts') first.add(route.hosts[0]?.name ?? '');
    }
    expect(first).toEqual(new Set(['a.example.org', 'b.example.org']));
  });

  it('falls back to A/AAAA without MX records, fails on a null MX and on names that do not exist', async () => {
    const zone: Zone = {
      'plain.example': { A: ['192.0.2.9'] },
      'null.example': { MX: [{ exchange: '', priority: 0 }] },
      'servfail.example': { fail: 'ESERVFAIL' },
      'deadmx.example': { MX: [{ exchange: 'gone.example', priority: 10 }] },
    };
    const r = resolverOf(zone);
    expect(await resolveRoute({ host: 'plain.example', mx: true }, 25, r)).toEqual({ kind: 'hosts', hosts: [{ name: 'plain.example', address: '192.0.2.9', port: 25 }] });
    expect(await resolveRoute({ host: 'null.example', mx: true }, 25, r)).toMatchObject({ kind: 'error', status: 'failed', enhanced: '5.1.10' });
    expect(await resolveRoute({ host: 'nowhere.example', mx: true }, 25, r)).toMatchObject({ kind: 'error', status: 'failed', enhanced: '5.4.4' });
    expect(await resolveRoute({ host: 'servfail.example', mx: true }, 25, r)).toMatchObject({ kind: 'error', status: 'deferred', enhanced: '4.4.3' });
    expect(await resolveRoute({ host: 'deadmx.example', mx: true }, 25, r)).toMatchObject({ kind: 'error', status: 'failed', enhanced: '5.4.4' });
  });

  it('goes straight to an address, and resolves a bracketed name without MX', async () => {
    const r = resolverOf({ 'relay.example': { A: ['192.0.2.7'], MX: [{ exchange: 'other.example', priority: 1 }] } });
    expect(await resolveRoute({ host: '192.0.2.5', mx: false, port: 587 }, 25, r)).toEqual({ kind: 'hosts', hosts: [{ name: '192.0.2.5', address: '192.0.2.5', port: 587 }] });
    expect(await resolveRoute({ host: 'relay.example', mx: false }, 25, r)).toEqual({ kind: 'hosts', hosts: [{ name: 'relay.example', address: '192.0.2.7', port: 25 }] });
  });

  it('tries at most five addresses (Postfix smtp_mx_address_limit)', async () => {
    const zone: Zone = { 'big.example': { MX: [{ exchange: 'mx.big.example', priority: 1 }] }, 'mx.big.example': { A: ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5', '192.0.2.6'] } };
    const route = await resolveRoute({ host: 'big.example', mx: true }, 25, resolverOf(zone));
    expect(route.kind === 'hosts' && route.hosts.length).toBe(5);
  });
});
