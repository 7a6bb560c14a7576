import { describe, expect, it } from 'vitest';
import { lazyFilter } from '../../src/filters/lazy-filter.js';
import { createBuiltinFilter, loadBuiltinFilters } from '../../src/filters/registry.js';
import { parseConfig } from '../../src/config/load.js';
import type { BuiltinMilterConfig } from '../../src/config/schema.js';
import type { Filter } from '../../src/mail/filter.js';
import { FULL_OFFER } from '../../src/mail/capabilities.js';
import { silentLogger } from '../../src/mail/logger.js';
import { createDnsResolver } from '../../src/filters/shared/dns.js';
import { createSpfChecker } from '../../src/filters/shared/spf.js';

const stub = (name: string, log: string[]): Filter => ({
  name,
  open: () => ({ negotiate: (offer) => offer }),
  close: () => {
    log.push('closed');
  },
});

describe('lazyFilter', () => {
  it('makes the filter once, at the first open, and closes it', async () => {
    const log: string[] = [];
    let made = 0;
    const f = lazyFilter('x', () => {
      made++;
      return Promise.resolve(stub('x', log));
    });
    expect(made).toBe(0);
    await (await f.open()).negotiate(FULL_OFFER);
    await f.open();
    expect(made).toBe(1);
    await f.close?.();
    expect(log).toEqual(['closed']);
  });

  it('a failed make fails that open and is tried again at the next', async () => {
    let n = 0;
    const f = lazyFilter('x', () => (++n === 1 ? Promise.reject(new Error('not yet')) : Promise.resolve(stub('x', []))));
    await expect(f.open()).rejects.toThrow('not yet');
    await expect(f.open()).resolves.toBeDefined();
    expect(n).toBe(2);
  });

  it('closing a filter never opened makes nothing', async () => {
    let made = 0;
    const f = lazyFilter('x', () => {
      made++;
      return Promise.resolve(stub('x', []));
    });
    await f.close?.();
    expect(made).toBe(0);
  });
});

describe('createBuiltinFilter', () => {
  const rules = (): BuiltinMilterConfig => {
    const m = parseConfig('[[milter]]\nname = "r"\nbuiltin = "rules"\n[[milter.rule]]\nfield = "header"\nheader = "Subject"\npattern = "/x/"\naction = "reject"\n', 'mailgate.toml').config.milters[0];
    if (m === undefined || m.connectionSpec !== undefined) throw new Error('not a built-in');
    return m;
  };
  const ctx = () => {
    const resolver = createDnsResolver([]);
    return { dataDir: '/nonexistent', now: Date.now, resolver, spf: createSpfChecker(resolver), logger: silentLogger };
  };

  it('works before its module is loaded (made at the first session) and after (made at once)', async () => {
    const lazy = createBuiltinFilter(rules(), ctx());
    const s1 = await lazy.open();
    expect((await s1.negotiate(FULL_OFFER)).version).toBeGreaterThan(0);
    await loadBuiltinFilters([rules()]);
    const now = createBuiltinFilter(rules(), ctx());
    const s2 = await now.open();
    expect(await s2.negotiate(FULL_OFFER)).toEqual(await s1.negotiate(FULL_OFFER));
    await lazy.close?.();
    await now.close?.();
  });
});
