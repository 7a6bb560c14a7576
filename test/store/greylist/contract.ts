/**
 * The GreylistStore contract, run against every implementation (contract.test.ts). Times are
 * relative to T, a fixed "now" the stores are built with (Redis turns expires into a TTL with it).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { GreylistEntry, GreylistQuery, GreylistStore, GreylistTuple } from '../../../src/store/greylist/store.js';

export interface StoreFactory {
  readonly name: string;
  /** A fresh, empty store whose clock reads `now`. */
  open(now: number): Promise<GreylistStore>;
  /** Whether to run the slower model-based property test with fewer runs. */
  readonly slow?: boolean;
  /** A guard's check(), called first in every test (a failed setup fails every test). */
  readonly check?: () => void;
  /**
   * The shortest life (expires - T, ms) the model-based test gives an entry; default 1. Redis needs a
   * minute: it ends a tuple's TTL in real time while the store's clock is held at T, so a life of 1 ms
   * vanished before the check. Memory and SQLite keep the short lives, and the purges among them.
   */
  readonly shortestLife?: number;
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** A fixed clock near the real one (so Redis TTLs are sane), on a whole second plus 123 ms. */
export const T = Math.floor(Date.now() / 1000) * 1000 + 123;

export function pending(t: GreylistTuple, created = T, delay = 10 * MIN): GreylistEntry {
  return { ...t, kind: 'pending', created, acceptAfter: created + delay, expires: created + delay + 5 * DAY, hits: 0 };
}

export function autowhite(t: GreylistTuple, at = T, period = 7 * DAY, hits = 1): GreylistEntry {
  return { ...t, kind: 'autowhite', created: at - 15 * MIN, acceptAfter: at, expires: at + period, hits };
}

const A = '192.0.2.0/24';
const B = '198.51.100.7';
const V6 = '2001:db8::/64';
const t1: GreylistTuple = { address: A, sender: 'alice@example.com', recipient: 'bob@example.org' };
const t2: GreylistTuple = { address: A, sender: 'alice@example.com', recipient: 'carol@example.org' };
const t3: GreylistTuple = { address: A, sender: '', recipient: 'bob@example.org' };
const t4: GreylistTuple = { address: B, sender: 'alice@example.com', recipient: 'bob@example.org' };
const t5: GreylistTuple = { address: V6, sender: 'dave@example.net', recipient: 'bob@example.org' };

const key = (e: GreylistTuple): string => JSON.stringify([e.address, e.sender, e.recipient]);
const sorted = (es: readonly GreylistEntry[]): GreylistEntry[] => [...es].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

async function all(store: GreylistStore, query?: GreylistQuery): Promise<GreylistEntry[]> {
  const out: GreylistEntry[] = [];
  for await (const e of store.list(query)) out.push(e);
  return sorted(out);
}

export function greylistStoreContract(f: StoreFactory): void {
  describe(`GreylistStore contract: ${f.name}`, () => {
    /** Runs `body` with a fresh store, closed afterwards. */
    const withStore = (body: (s: GreylistStore) => Promise<void>) => async () => {
      f.check?.();
      const s = await f.open(T);
      try {
        await body(s);
      } finally {
        await s.close();
      }
    };
    const fill = async (s: GreylistStore): Promise<GreylistEntry[]> => {
      const es = [pending(t1), autowhite(t2), pending(t3), autowhite(t4), pending(t5)];
      for (const e of es) await s.put(e);
      return es;
    };

    test('an unknown tuple is undefined; a stored one comes back field for field', withStore(async (s) => {
      expect(await s.get(t1, T)).toBeUndefined();
      const e = { ...pending(t1), created: T + 1, acceptAfter: T + 600_001, expires: 2 ** 45 + 7, hits: 0 };
      await s.put(e);
      expect(await s.get(t1, T)).toEqual(e);
      expect(await s.get(t2, T)).toBeUndefined();
      expect(await s.count()).toBe(1);
    }));

    test('put replaces the entry of its tuple (pending → autowhite)', withStore(async (s) => {
      await s.put(pending(t1));
      const w = autowhite(t1, T + 20 * MIN, 7 * DAY, 3);
      await s.put(w);
      expect(await s.get(t1, T)).toEqual(w);
      expect(await s.count()).toBe(1);
    }));

    test('each part of the tuple matters; the null sender and odd characters round-trip', withStore(async (s) => {
      const odd: GreylistTuple[] = [
        { address: A, sender: 'a|b:c"d\\e f@example.com', recipient: 'bob@example.org' },
        { address: A, sender: 'a|b:c"d\\e f@example.com', recipient: 'bob@example.org ' },
        { address: A, sender: 'ü@exämple.de', recipient: '*[x]?@example.org' },
        { address: '192.0.2.1', sender: '', recipient: '' },
      ];
      const es = [...(await fill(s)), ...odd.map((t) => pending(t))];
      for (const e of odd.map((t) => pending(t))) await s.put(e);
      expect(await s.count()).toBe(es.length);
      for (const e of es) expect(await s.get(e, T)).toEqual(e);
      expect(await all(s)).toEqual(sorted(es));
    }));

    test('delete removes only its tuple; deleting an unknown tuple is fine', withStore(async (s) => {
      const es = await fill(s);
      await s.delete(t1);
      await s.delete({ address: '203.0.113.0/24', sender: 'x', recipient: 'y' });
      expect(await s.get(t1, T)).toBeUndefined();
      expect(await all(s)).toEqual(sorted(es.slice(1)));
    }));

    test('list and count: all, by address, by kind, by both', withStore(async (s) => {
      const es = await fill(s);
      const queries: GreylistQuery[] = [
        {},
        { address: A },
        { address: B },
        { address: V6 },
        { address: '203.0.113.0/24' },
        { kind: 'pending' },
        { kind: 'autowhite' },
        { address: A, kind: 'pending' },
        { address: A, kind: 'autowhite' },
        { address: B, kind: 'pending' },
      ];
      for (const q of queries) {
        const want = sorted(es.filter((e) => (q.address === undefined || e.address === q.address) && (q.kind === undefined || e.kind === q.kind)));
        expect(await all(s, q), JSON.stringify(q)).toEqual(want);
        expect(await s.count(q), JSON.stringify(q)).toBe(want.length);
      }
    }));

    test('flush by address, by kind, by both, then everything; each returns how many', withStore(async (s) => {
      await fill(s);
      expect(await s.flush({ address: A, kind: 'autowhite' })).toBe(1); // t2
      expect(await s.flush({ address: A })).toBe(2); // t1, t3
      expect(await s.flush({ address: A })).toBe(0);
      expect(await s.flush({ kind: 'pending' })).toBe(1); // t5
      expect(await all(s)).toEqual([autowhite(t4)]);
      await s.put(pending(t1));
      expect(await s.flush()).toBe(2);
      expect(await s.count()).toBe(0);
      expect(await all(s)).toEqual([]);
      expect(await s.getAutowhiteForAddress(B, T)).toBeUndefined();
    }));

    test('getAutowhiteForAddress: autowhite entries of that address only, not yet expired at now', withStore(async (s) => {
      await s.put(pending(t1));
      expect(await s.getAutowhiteForAddress(A, T)).toBeUndefined();
      const w = autowhite(t2, T, 1 * DAY);
      await s.put(w);
      expect(await s.getAutowhiteForAddress(A, T)).toEqual(w);
      expect(await s.getAutowhiteForAddress(A, T + DAY - 1)).toEqual(w);
      expect(await s.getAutowhiteForAddress(A, T + DAY + 1)).toBeUndefined();
      expect(await s.getAutowhiteForAddress(B, T)).toBeUndefined();
      expect(await s.getAutowhiteForAddress('192.0.2.0/25', T)).toBeUndefined();
    }));

    // milter-greylist drops an autowhite entry when its expiry < now (autowhite_timeout), and
    // purgeExpired keeps expires == now: the entry is still valid at that very millisecond.
    test('an entry whose expires equals now is still valid (as purgeExpired keeps it)', withStore(async (s) => {
      const w = autowhite(t2, T, 1 * DAY);
      const p = pending(t1);
      await s.put(w);
      await s.put(p);
      expect(await s.getAutowhiteForAddress(A, T + DAY)).toEqual(w);
      expect(await s.get(t2, T + DAY)).toEqual(w);
      expect(await s.get(t1, p.expires)).toEqual(p);
      expect(await s.purgeExpired(T + DAY)).toBe(0);
    }));

    test('get never returns an entry expired at now, purged or not: autowhite or pending', withStore(async (s) => {
      const w = autowhite(t2, T, 1 * DAY);
      const p = pending(t1);
      await s.put(w);
      await s.put(p);
      expect(await s.get(t2, T + DAY + 1)).toBeUndefined();
      expect(await s.get(t1, p.expires + 1)).toBeUndefined();
      // Still there for the admin until a purge; still valid for a caller whose clock is earlier.
      expect(await s.count()).toBe(2);
      expect(await s.get(t2, T + DAY - 1)).toEqual(w);
      expect(await s.get(t1, T)).toEqual(p);
    }));

    test('an autowhite entry that expires just after a purge is refused once it has expired', withStore(async (s) => {
      // The filter purges every 10 minutes; an entry expiring a millisecond after a purge outlives
      // it and stays stored until the next one, expired in between.
      const purgeAt = T + DAY;
      const w = autowhite(t2, T, DAY + 1); // expires at purgeAt + 1
      await s.put(w);
      expect(await s.purgeExpired(purgeAt)).toBe(0);
      expect(await s.get(t2, purgeAt + 1)).toEqual(w);
      expect(await s.getAutowhiteForAddress(A, purgeAt + 1)).toEqual(w);
      expect(await s.get(t2, purgeAt + 2)).toBeUndefined();
      expect(await s.getAutowhiteForAddress(A, purgeAt + 2)).toBeUndefined();
      expect(await s.get(t2, purgeAt + 10 * MIN - 1)).toBeUndefined();
      expect(await s.purgeExpired(purgeAt + 10 * MIN)).toBe(1);
      expect(await s.get(t2, purgeAt + 10 * MIN)).toBeUndefined();
    }));

    test('getAutowhiteForAddress picks a valid entry when some have expired, and forgets one turned pending', withStore(async (s) => {
      const short = autowhite(t1, T, 1 * HOUR);
      const long = autowhite(t2, T, 7 * DAY);
      await s.put(short);
      await s.put(long);
      expect([short, long]).toContainEqual(await s.getAutowhiteForAddress(A, T));
      expect(await s.getAutowhiteForAddress(A, T + 2 * HOUR)).toEqual(long);
      await s.put(pending(t2, T + 2 * HOUR));
      expect(await s.getAutowhiteForAddress(A, T + 2 * HOUR)).toBeUndefined();
      await s.delete(t1);
      expect(await s.getAutowhiteForAddress(A, T)).toBeUndefined();
    }));

    test('purgeExpired deletes entries whose expires is before now, keeps the rest', withStore(async (s) => {
      const a = { ...pending(t1), expires: T + HOUR };
      const b = { ...autowhite(t2), expires: T + 2 * HOUR };
      const c = { ...pending(t4), expires: T + 3 * HOUR };
      for (const e of [a, b, c]) await s.put(e);
      expect(await s.purgeExpired(T)).toBe(0);
      expect(await s.purgeExpired(T + 2 * HOUR)).toBe(1); // a; b expires exactly now: kept
      expect(await all(s)).toEqual(sorted([b, c]));
      expect(await s.purgeExpired(T + 3 * HOUR + 1)).toBe(2);
      expect(await s.count()).toBe(0);
      expect(await s.getAutowhiteForAddress(A, T)).toBeUndefined();
    }));

    test('list returns every entry exactly once past the page size (2500 entries)', withStore(async (s) => {
      const es: GreylistEntry[] = [];
      for (let i = 0; i < 2500; i++) {
        es.push(pending({ address: `10.${i % 7}.0.0/24`, sender: `s${i}@example.com`, recipient: `r${i % 13}@example.org` }, T + i));
      }
      const bulk = s as GreylistStore & { putMany?: (es: GreylistEntry[]) => unknown };
      if (bulk.putMany) await bulk.putMany(es);
      else for (const e of es) await s.put(e);
      const listed = await all(s);
      expect(listed.length).toBe(2500);
      expect(listed).toEqual(sorted(es));
      expect(await s.count({ address: '10.3.0.0/24' })).toBe(es.filter((e) => e.address === '10.3.0.0/24').length);
      // Writing while listing (a flush-as-you-go consumer) neither throws nor loses entries.
      let seen = 0;
      for await (const e of s.list({ address: '10.3.0.0/24' })) {
        await s.put({ ...e, hits: 5 });
        seen++;
      }
      expect(seen).toBe(es.filter((e) => e.address === '10.3.0.0/24').length);
      expect(await s.flush()).toBe(2500);
    }));

    test('behaves like a map of tuples under any sequence of operations (model-based)', async () => {
      f.check?.();
      const shortestLife = f.shortestLife ?? 1;
      let shortLived = 0; // puts of an entry living less than a minute: the coverage Redis cannot have
      const tuple = fc.record({
        address: fc.constantFrom(A, B, V6),
        sender: fc.constantFrom('', 'a@x', 'b@x'),
        recipient: fc.constantFrom('r@y', 'S@y'),
      });
      const entry = fc.record({
        tuple,
        kind: fc.constantFrom('pending' as const, 'autowhite' as const),
        created: fc.integer({ min: 0, max: 1000 }),
        life: fc.integer({ min: shortestLife, max: 10 * DAY }),
        hits: fc.nat(5),
      });
      const op = fc.oneof(
        entry.map((e) => ({ op: 'put' as const, e })),
        tuple.map((t) => ({ op: 'delete' as const, t })),
        fc.record({ address: fc.option(fc.constantFrom(A, B), { nil: undefined }), kind: fc.option(fc.constantFrom('pending' as const, 'autowhite' as const), { nil: undefined }) }).map((q) => ({ op: 'flush' as const, q })),
        fc.integer({ min: 0, max: 10 * DAY }).map((dt) => ({ op: 'purge' as const, now: T + dt })),
      );
      type Op = typeof op extends fc.Arbitrary<infer O> ? O : never;
      const shortPut = (life: number, sender: '' | 'a@x' | 'b@x' = '', kind: 'pending' | 'autowhite' = 'pending'): Op => ({
        op: 'put' as const,
        e: { tuple: { address: A, sender, recipient: 'r@y' }, kind, created: 0, life, hits: 0 },
      });
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 12 }), async (ops) => {
          const s = await f.open(T);
          const model = new Map<string, GreylistEntry>();
          try {
            for (const o of ops) {
              if (o.op === 'put') {
                if (o.e.life < MIN) shortLived++;
                const e: GreylistEntry = { ...o.e.tuple, kind: o.e.kind, created: T + o.e.created, acceptAfter: T + o.e.created + 1, expires: T + o.e.life, hits: o.e.hits };
                model.set(key(e), e);
                await s.put(e);
              } else if (o.op === 'delete') {
                model.delete(key(o.t));
                await s.delete(o.t);
              } else {
                const doomed = [...model.values()].filter((e) =>
                  o.op === 'flush'
                    ? (o.q.address === undefined || e.address === o.q.address) && (o.q.kind === undefined || e.kind === o.q.kind)
                    : e.expires < o.now,
                );
                for (const e of doomed) model.delete(key(e));
                expect(o.op === 'flush' ? await s.flush(o.q) : await s.purgeExpired(o.now)).toBe(doomed.length);
              }
            }
            expect(await all(s)).toEqual(sorted([...model.values()]));
            // Off the exact-expiry millisecond (covered above): entries on either side of it.
            const at = T + DAY + 0.5;
            for (const address of [A, B, V6]) {
              const aw = await s.getAutowhiteForAddress(address, at);
              const valid = [...model.values()].filter((e) => e.address === address && e.kind === 'autowhite' && e.expires >= at);
              if (valid.length === 0) expect(aw).toBeUndefined();
              else expect(valid).toContainEqual(aw);
            }
            for (const e of model.values()) expect(await s.get(e, at)).toEqual(e.expires >= at ? e : undefined);
          } finally {
            await s.flush();
            await s.close();
          }
        }),
        {
          numRuns: f.slow === true ? 40 : 150,
          // Always run once: entries of a few ms, purged among their expiries (for a store that allows them).
          examples: shortestLife > 1 ? [] : [[[shortPut(2), shortPut(5, 'b@x'), { op: 'purge' as const, now: T + 3 }, shortPut(1, 'a@x', 'autowhite'), { op: 'purge' as const, now: T + 5 }]]],
        },
      );
      if (shortestLife < MIN) expect(shortLived).toBeGreaterThan(0);
    });
  });
}
