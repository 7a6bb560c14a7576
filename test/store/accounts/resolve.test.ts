/** Alias expansion over in-memory lookups: examples of every Resolution kind and a fast-check property. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ownsSender, resolveAddress, type AccountLookups } from '../../../src/store/accounts/resolve.js';

function lookups(users: string[], aliases: Record<string, string[]>, domains = ['example.org', 'example.net']): AccountLookups {
  return {
    isLocalDomain: (d) => domains.includes(d.toLowerCase()),
    isUser: (a) => users.includes(a),
    aliasTargets: (a) => aliases[a] ?? [],
  };
}

const L = lookups(['alice@example.org', 'bob@example.org', 'carol@example.net'], {
  'postmaster@example.org': ['alice@example.org'],
  'team@example.org': ['alice@example.org', 'bob@example.org', 'Friend@Remote.example', 'postmaster@example.org'],
  'all@example.org': ['team@example.org', 'carol@example.net'],
  'alice@example.org': ['alice@example.org', 'alice.copy@elsewhere.example'],
  'fwd@example.org': ['Someone@Remote.example'],
  'loop1@example.org': ['loop2@example.org'],
  'loop2@example.org': ['loop1@example.org'],
  'gone@example.org': ['nobody@example.org'],
});

describe('resolveAddress', () => {
  test('a remote domain', () => {
    expect(resolveAddress('x@remote.example', L)).toEqual({ kind: 'remote' });
  });
  test('a user, case-insensitively; an alias to itself keeps the copy', () => {
    expect(resolveAddress('Bob@EXAMPLE.org', L)).toEqual({ kind: 'local', targets: [{ type: 'mailbox', user: 'bob@example.org' }] });
    expect(resolveAddress('alice@example.org', L)).toEqual({
      kind: 'local',
      targets: [{ type: 'mailbox', user: 'alice@example.org' }, { type: 'remote', address: 'alice.copy@elsewhere.example' }],
    });
  });
  test('nested aliases, local and remote targets, each once, remote local parts as stored', () => {
    expect(resolveAddress('all@example.org', L)).toEqual({
      kind: 'local',
      targets: [
        { type: 'mailbox', user: 'alice@example.org' },
        { type: 'remote', address: 'alice.copy@elsewhere.example' },
        { type: 'mailbox', user: 'bob@example.org' },
        { type: 'remote', address: 'Friend@Remote.example' },
        { type: 'mailbox', user: 'carol@example.net' },
      ],
    });
    expect(resolveAddress('fwd@example.org', L)).toEqual({ kind: 'local', targets: [{ type: 'remote', address: 'Someone@Remote.example' }] });
  });
  test('unknown: no such user, an unusable name, an alias whose targets are gone', () => {
    expect(resolveAddress('nobody@example.org', L)).toEqual({ kind: 'unknown' });
    expect(resolveAddress('a%b@example.org', L)).toEqual({ kind: 'unknown' });
    expect(resolveAddress('gone@example.org', L)).toEqual({ kind: 'unknown' });
  });
  test('a loop', () => {
    expect(resolveAddress('loop1@example.org', L)).toEqual({ kind: 'loop', detail: 'alias loop: loop1@example.org -> loop2@example.org -> loop1@example.org' });
  });
  test('too deep', () => {
    const chain: Record<string, string[]> = {};
    for (let i = 0; i < 30; i++) chain[`a${i}@example.org`] = [`a${i + 1}@example.org`];
    const r = resolveAddress('a0@example.org', lookups(['a30@example.org'], chain), { depth: 20, addresses: 1000 });
    expect(r).toMatchObject({ kind: 'loop', detail: expect.stringMatching(/^alias nesting deeper than 20/) as unknown });
    expect(resolveAddress('a0@example.org', lookups(['a30@example.org'], chain), { depth: 40, addresses: 1000 })).toMatchObject({ kind: 'local' });
  });
  test('too wide: a diamond lattice that would visit 2^20 addresses stops at the expansion limit', () => {
    const lattice: Record<string, string[]> = {};
    for (let i = 0; i < 20; i++) lattice[`l${i}@example.org`] = [`l${i + 1}@example.org`, `r${i + 1}@example.org`];
    for (let i = 1; i < 20; i++) lattice[`r${i}@example.org`] = [`l${i + 1}@example.org`];
    const r = resolveAddress('l0@example.org', lookups(['l20@example.org', 'r20@example.org'], lattice));
    expect(r).toMatchObject({ kind: 'loop', detail: 'expansion of l0@example.org exceeds 1000 addresses' });
  });

  test('property: any alias graph resolves (no throw, no hang); targets are unique and mailboxes are users', () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => `${n}@example.org`);
    const target = fc.oneof(fc.constantFrom(...names), fc.constant('x@remote.example'));
    fc.assert(
      fc.property(fc.subarray(names), fc.dictionary(fc.constantFrom(...names), fc.array(target, { maxLength: 4 })), fc.constantFrom(...names), (users, aliases, start) => {
        const look = lookups(users, aliases);
        const r = resolveAddress(start, look, { depth: 10, addresses: 200 });
        if (r.kind === 'local') {
          const keys = r.targets.map((t) => (t.type === 'mailbox' ? t.user : t.address));
          expect(new Set(keys).size).toBe(keys.length);
          for (const t of r.targets) if (t.type === 'mailbox') expect(users).toContain(t.user);
        } else {
          expect(['unknown', 'loop']).toContain(r.kind);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('ownsSender', () => {
  test.each([
    ['alice@example.org', 'alice@example.org', true],
    ['alice@example.org', 'ALICE@Example.ORG', true],
    ['alice@example.org', 'postmaster@example.org', true],
    ['alice@example.org', 'team@example.org', true],
    ['alice@example.org', 'all@example.org', true],
    ['alice@example.org', 'bob@example.org', false],
    ['bob@example.org', 'postmaster@example.org', false],
    ['alice@example.org', 'alice@remote.example', false],
    ['alice@example.org', 'loop1@example.org', false],
    ['alice@example.org', 'not an address', false],
    ['alice@example.org', '', true],
  ])('%s may use %j: %s', (user, sender, ok) => {
    expect(ownsSender(user, sender, L)).toBe(ok);
  });
});
