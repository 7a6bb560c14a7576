import { afterEach, describe, expect, it } from 'vitest';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { FULL_OFFER } from '../../src/mail/capabilities.js';
import { defineFilter } from '../../src/mail/define-filter.js';
import { silentLogger } from '../../src/mail/logger.js';
import { MilterClient } from '../../src/milter/client.js';
import { cachedLookup, type LookupFunction } from '../../src/milter/lookup-cache.js';
import { MilterServer } from '../../src/milter/server.js';

type Answer = string | LookupAddress[];

/** A resolver that counts its calls and answers `answer` (or fails with `fail`). */
function fakeResolver(answer: Answer, fail?: NodeJS.ErrnoException) {
  const calls: { host: string; options: LookupOptions }[] = [];
  const lookup: LookupFunction = (host, options, cb) => {
    calls.push({ host, options });
    setImmediate(() => (fail ? cb(fail, '', undefined) : cb(null, answer, typeof answer === 'string' ? 4 : undefined)));
  };
  return { calls, lookup };
}

function ask(lookup: LookupFunction, host: string, options: LookupOptions): Promise<{ err: Error | null; address: Answer; family?: number }> {
  return new Promise((resolve) => lookup(host, options, (err, address, family) => resolve({ err, address, ...(family !== undefined ? { family } : {}) })));
}

describe('cachedLookup', () => {
  it('asks the resolver once per name and options within the TTL, answering the same each time', async () => {
    let now = 0;
    const r = fakeResolver([{ address: '127.0.0.1', family: 4 }]);
    const lookup = cachedLookup(r.lookup, 1000, () => now);
    const opts: LookupOptions = { hints: 32, all: true };
    const first = await ask(lookup, 'localhost', opts);
    now = 999;
    const second = await ask(lookup, 'localhost', opts);
    expect(first.address).toEqual([{ address: '127.0.0.1', family: 4 }]);
    expect(second.address).toEqual(first.address);
    expect(r.calls).toHaveLength(1);
    // Other options are another question.
    await ask(lookup, 'localhost', { family: 4 });
    expect(r.calls).toHaveLength(2);
    // Past the TTL the name is looked up again.
    now = 1001;
    await ask(lookup, 'localhost', opts);
    expect(r.calls).toHaveLength(3);
  });

  it('keeps no failure: the next connect asks again', async () => {
    const err = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND' });
    const r = fakeResolver('', err);
    const lookup = cachedLookup(r.lookup, 60_000);
    expect((await ask(lookup, 'nowhere.invalid', {})).err).toBe(err);
    expect((await ask(lookup, 'nowhere.invalid', {})).err).toBe(err);
    expect(r.calls).toHaveLength(2);
  });

  it('answers a kept name asynchronously, as dns.lookup does', async () => {
    const r = fakeResolver('127.0.0.1');
    const lookup = cachedLookup(r.lookup);
    await ask(lookup, 'localhost', { family: 4 });
    let answered = false;
    lookup('localhost', { family: 4 }, () => (answered = true));
    expect(answered).toBe(false);
    await new Promise((res) => process.nextTick(res));
    expect(answered).toBe(true);
  });
});

describe('MilterClient to a child named by host name', () => {
  let server: MilterServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('connects session after session to inet:PORT@localhost', async () => {
    server = new MilterServer(defineFilter('pass', {}, () => ({})), { logger: silentLogger, drainTimeout: 1 });
    const spec = await server.listen('inet:0@127.0.0.1');
    if (spec.type !== 'inet') throw new Error('expected an inet spec');
    const client = new MilterClient({ spec: `inet:${spec.port}@localhost` });
    for (let i = 0; i < 3; i++) {
      const s = client.open();
      const caps = await s.negotiate(FULL_OFFER);
      expect(caps.stages.has('endOfMessage')).toBe(true);
      s.close();
    }
  });
});
