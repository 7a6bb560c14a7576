/**
 * The relay decision: a table of every classic relay trick (each refused for an unauthenticated client
 * outside mynetworks, with 554 5.7.1 or, when the syntax itself is bad, 501 5.1.3) and of legitimate
 * addresses (accepted), and fast-check properties checking the decision against an independent model:
 * a destination whose routing (source route, "%", "!", "@" in the local part, final domain) reaches
 * anything but a local domain is never accepted from such a client.
 */
import fc from 'fast-check';
import { domainToASCII } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isPathError, parsePath } from '../../src/smtp/address.js';
import { relayDecision, type RelayClient, type RelayDecision } from '../../src/smtp/relay-policy.js';
import { TRICKS } from './relay-tricks.js';

const SEED = 20261204;
const LOCAL = ['local.example', 'localhost', 'bücher.example'];
const localSet = new Set(LOCAL.map((d) => d.toLowerCase()));
/** As Accounts.isLocalDomain: case-insensitive, no trailing-dot stripping. */
const isLocalDomain = (d: string): boolean => localSet.has(d.toLowerCase());

const STRANGER: RelayClient = { authenticated: false, trusted: false };
const USER: RelayClient = { authenticated: true, trusted: false };
const MYNETWORKS: RelayClient = { authenticated: false, trusted: true };

type Outcome = { code: number; enhancedCode: string; text: string } | 'local' | 'relay';

function decide(text: string, client: RelayClient, smtputf8 = false, localIpLiterals: string[] = []): Outcome {
  const p = parsePath(text, { smtputf8 });
  if (isPathError(p)) return { code: p.reply.code ?? 0, enhancedCode: p.reply.enhancedCode ?? '', text: String(p.reply.text) };
  const d: RelayDecision = relayDecision(p, client, isLocalDomain, { shownAddress: text.replace(/^<|>$/g, ''), localIpLiterals });
  if (d.allowed) return d.kind;
  return { code: d.reply.code ?? 0, enhancedCode: d.reply.enhancedCode ?? '', text: String(d.reply.text) };
}

const denied = (addr: string): Outcome => ({ code: 554, enhancedCode: '5.7.1', text: `<${addr}>: Relay access denied` });
const badSyntax: Outcome = { code: 501, enhancedCode: '5.1.3', text: 'Bad recipient address syntax' };

describe('relay tricks from an unauthenticated client outside mynetworks', () => {
  it.each(TRICKS)('%j is refused (%s)', (addr, how) => {
    // the bare form is what smtp-server hands to onRcptTo; both must get the same answer
    for (const text of [`<${addr}>`, addr]) expect(decide(text, STRANGER, true)).toEqual(how === 'denied' ? denied(addr) : badSyntax);
  });
});

describe('legitimate recipients', () => {
  it.each([
    'user@local.example',
    'USER@LOCAL.EXAMPLE',
    'User@Local.Example.',
    'first.last+tag@local.example',
    "o'brien@local.example",
    'user@localhost',
    'user@bücher.example',
    'user@xn--bcher-kva.example',
    'user@XN--BCHER-KVA.EXAMPLE',
    '"user"@local.example',
    '"us\\er"@local.example',
    'Postmaster',
  ])('%j is local for anyone', (addr) => {
    for (const client of [STRANGER, USER, MYNETWORKS]) {
      expect(decide(`<${addr}>`, client)).toBe('local');
      expect(decide(addr, client)).toBe('local');
    }
  });

  it('takes a UTF-8 local part at a local domain under SMTPUTF8', () => {
    expect(decide('<josé@bücher.example>', STRANGER, true)).toBe('local');
  });

  it('relays anything that parses for an authenticated client or one in mynetworks', () => {
    for (const [addr, how] of TRICKS) {
      if (how !== 'denied') continue;
      for (const client of [USER, MYNETWORKS]) expect(['local', 'relay']).toContain(decide(`<${addr}>`, client, true));
    }
    expect(decide('<user@other.example>', USER)).toBe('relay');
    expect(decide('<user@other.example>', MYNETWORKS)).toBe('relay');
    expect(decide('<user%other.example@local.example>', USER)).toBe('local');
  });

  it('treats an address literal as local only when configured, in any spelling', () => {
    expect(decide('<user@[192.0.2.1]>', STRANGER, false, ['[192.0.2.1]'])).toBe('local');
    expect(decide('<user@[192.0.2.2]>', STRANGER, false, ['[192.0.2.1]'])).toEqual(denied('user@[192.0.2.2]'));
    expect(decide('<user@[IPv6:2001:DB8:0:0::1]>', STRANGER, false, ['[ipv6:2001:db8::1]'])).toBe('local');
    expect(decide('<user@[IPv6:::ffff:192.0.2.1]>', STRANGER, false, ['[192.0.2.1]'])).toEqual(denied('user@[IPv6:::ffff:192.0.2.1]'));
    expect(decide('<user%other.example@[192.0.2.1]>', STRANGER, false, ['[192.0.2.1]'])).toEqual(denied('user%other.example@[192.0.2.1]'));
  });

  it('never takes a null path as a recipient', () => {
    const p = parsePath('<>', { smtputf8: false, role: 'sender' });
    if (isPathError(p)) throw new Error('null path refused');
    for (const client of [STRANGER, USER, MYNETWORKS]) expect(relayDecision(p, client, isLocalDomain).allowed).toBe(false);
  });

  it('echoes the address without control characters', () => {
    const p = parsePath('user@other.example', { smtputf8: false });
    if (isPathError(p)) throw new Error('refused');
    const d = relayDecision(p, STRANGER, isLocalDomain, { shownAddress: 'user@other.example\r\n250 ok' });
    expect(!d.allowed && d.reply.text).toBe('<user@other.example250 ok>: Relay access denied');
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties. The model below knows nothing of the parser: it reads the generator's structure (or the raw
// text) and says where the mail would be routed if every routing convention were honoured.

const localDomain = fc.constantFrom(...LOCAL, 'xn--bcher-kva.example');
const remoteDomain = fc.constantFrom('other.example', 'local.example.net', 'sub.local.example', 'localhost.localdomain', 'bücher.other', 'example');
const caseVariant = (d: string): fc.Arbitrary<string> =>
  fc.array(fc.boolean(), { minLength: d.length, maxLength: d.length }).map((ups) => [...d].map((c, i) => (ups[i] ? c.toUpperCase() : c)).join(''));
const anyDomain = fc.oneof(localDomain, remoteDomain).chain((d) => fc.tuple(caseVariant(d), fc.boolean()).map(([v, dot]) => ({ text: dot ? `${v}.` : v, base: d })));
const ipLiteral = fc.constantFrom('[127.0.0.1]', '[192.0.2.1]', '[IPv6:::1]', '[IPv6:2001:db8::1]', '[0.0.0.0]');

type Token = { text: string; routesTo?: string };
const localToken: fc.Arbitrary<Token> = fc.oneof(
  fc.constantFrom('user', 'a.b', 'x+y', 'postmaster', "o'k", '', '.', '"', '\\', ' ', '(c)', ':', ',').map((text) => ({ text })),
  fc.tuple(fc.constantFrom('%', '!', '@'), anyDomain).map(([sep, d]) => ({ text: sep === '!' ? `${d.text}!` : `${sep}${d.text}`, routesTo: d.base })),
  ipLiteral.map((lit) => ({ text: `%${lit}`, routesTo: lit })),
);
const structured = fc.record({
  route: fc.array(anyDomain, { maxLength: 2 }),
  local: fc.array(localToken, { minLength: 1, maxLength: 4 }),
  quote: fc.constantFrom('none', 'quote', 'quote-escaped'),
  final: fc.oneof({ weight: 4, arbitrary: anyDomain }, { weight: 1, arbitrary: ipLiteral.map((l) => ({ text: l, base: l })) }),
  brackets: fc.boolean(),
  smtputf8: fc.boolean(),
});

type Structured = typeof structured extends fc.Arbitrary<infer T> ? T : never;

/** Local only when nothing routes anywhere and the final domain is one of ours (any case, one trailing dot). */
function modelIsLocal(s: Structured): boolean {
  const routed = s.route.length > 0 || s.local.some((t) => t.routesTo !== undefined);
  return !routed && (LOCAL.includes(s.final.base) || s.final.base === 'xn--bcher-kva.example');
}

function renderStructured(s: Structured): string {
  let local = s.local.map((t) => t.text).join('');
  if (s.quote === 'quote') local = `"${local}"`;
  if (s.quote === 'quote-escaped') local = `"${local.replace(/["\\@%!]/g, (c) => `\\${c}`)}"`;
  const route = s.route.length > 0 ? `${s.route.map((d) => `@${d.text}`).join(',')}:` : '';
  const path = `${route}${local}@${s.final.text}`;
  return s.brackets ? `<${path}>` : path;
}

/** The raw-text model: after the last "@" one of our domains, before it no routing character and no route. */
function rawModelIsLocal(text: string): boolean {
  const bare = text.startsWith('<') && text.endsWith('>') ? text.slice(1, -1) : text;
  if (bare.toLowerCase() === 'postmaster') return true;
  const at = bare.lastIndexOf('@');
  if (at < 0) return false;
  const before = bare.slice(0, at);
  if (/[@%!:]/.test(before)) return false;
  let domain = bare.slice(at + 1).toLowerCase();
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  const ascii = domainToASCII(domain);
  return localSet.has(domain) || [...localSet].some((d) => domainToASCII(d) === ascii && ascii !== '');
}

describe('relay decision: properties', () => {
  it('never accepts what the structural model routes away, for 30,000 generated addresses', () => {
    let allowedCount = 0;
    fc.assert(
      fc.property(structured, (s) => {
        const text = renderStructured(s);
        const p = parsePath(text, { smtputf8: s.smtputf8 });
        if (isPathError(p)) return;
        const d = relayDecision(p, STRANGER, isLocalDomain);
        if (d.allowed) {
          allowedCount++;
          expect(modelIsLocal(s), text).toBe(true);
          expect(rawModelIsLocal(text), text).toBe(true);
        } else {
          expect(d.reply).toMatchObject({ code: 554, enhancedCode: '5.7.1' });
        }
        // the same path from a client allowed to relay is always accepted
        expect(relayDecision(p, USER, isLocalDomain).allowed).toBe(true);
      }),
      { seed: SEED, numRuns: 30_000 },
    );
    // the generator must reach both sides, or the property proves nothing
    expect(allowedCount).toBeGreaterThan(100);
  });

  it('accepts every plain local address, in any case and with one trailing dot, for 10,000 addresses', () => {
    const plain = fc.tuple(
      fc.stringMatching(/^[A-Za-z0-9+_=-]{1,10}(\.[A-Za-z0-9+_=-]{1,10}){0,2}$/),
      localDomain.chain(caseVariant),
      fc.boolean(),
      fc.boolean(),
    );
    fc.assert(
      fc.property(plain, ([local, domain, dot, brackets]) => {
        const path = `${local}@${domain}${dot ? '.' : ''}`;
        const text = brackets ? `<${path}>` : path;
        const p = parsePath(text, { smtputf8: false });
        expect(isPathError(p), text).toBe(false);
        if (!isPathError(p)) expect(relayDecision(p, STRANGER, isLocalDomain)).toEqual({ allowed: true, kind: 'local' });
      }),
      { seed: SEED + 1, numRuns: 10_000 },
    );
  });

  it('never accepts from a stranger what the raw-text model routes away, for 30,000 arbitrary strings', () => {
    const pieces = ['user', 'a', '.', '%', '!', '@', ':', ',', '"', '\\', ' ', '(', ')', '[', ']', '<', '>', '\u0000', '\r\n', 'é', 'ｌ', '\u200b', ...LOCAL, 'LOCAL.EXAMPLE', 'other.example', '192.0.2.1', 'IPv6:::1', 'xn--bcher-kva'];
    const joined = fc.array(fc.constantFrom(...pieces), { maxLength: 12 }).map((a) => a.join(''));
    const text = fc.oneof(
      joined,
      // most inputs end in one of our domains, so that what comes before is what decides
      fc.tuple(joined, localDomain.chain(caseVariant), fc.constantFrom('', '.', '>')).map(([j, d, end]) => `${j}@${d}${end}`),
      fc.tuple(joined, localDomain).map(([j, d]) => `<${j}@${d}>`),
      fc.string({ unit: 'binary', maxLength: 80 }).map((s) => `${s}@local.example`),
      fc.string({ unit: 'binary', maxLength: 80 }),
    );
    fc.assert(
      fc.property(text, fc.boolean(), (t, smtputf8) => {
        const p = parsePath(t, { smtputf8 });
        if (isPathError(p)) return;
        if (relayDecision(p, STRANGER, isLocalDomain).allowed) expect(rawModelIsLocal(t), JSON.stringify(t)).toBe(true);
      }),
      { seed: SEED + 2, numRuns: 30_000 },
    );
  });
});
