import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { authenticationResults, formatRow, propValue } from '../../../src/filters/sender-auth/auth-results.js';
import { dmarcAction } from '../../../src/filters/sender-auth/dmarc-action.js';
import { authservIdOf, envelopeAddress, fromDomains, stripComments } from '../../../src/filters/sender-auth/header-syntax.js';
import { NetworkList } from '../../../src/mail/network-list.js';
import { rawMessage } from '../../../src/filters/sender-auth/raw-message.js';
import { expModifier } from '../../../src/filters/sender-auth/spf-explanation.js';

const domain = fc
  .array(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/), { minLength: 2, maxLength: 4 })
  .map((labels) => labels.join('.'));

describe('authservIdOf', () => {
  it.each([
    ['mx.example.com; spf=pass', 'mx.example.com'],
    ['  MX.Example.COM 1; dkim=pass', 'mx.example.com'],
    ['(comment (nested)) mx.example.com;', 'mx.example.com'],
    ['"mx.example.com"; none', 'mx.example.com'],
    ['mx.example.com;', 'mx.example.com'],
    ['; spf=pass', undefined],
    ['', undefined],
    ['"unterminated', undefined],
  ])('%j → %j', (value, id) => {
    expect(authservIdOf(value)).toBe(id);
  });

  it('property: finds the id behind any comments and whitespace, never throws on anything', () => {
    fc.assert(
      fc.property(domain, fc.string(), fc.constantFrom('', ' ', '\n\t', ' (x) ', '(a(b)c)'), (id, rest, lead) => {
        expect(authservIdOf(`${lead}${id}; ${rest}`)).toBe(id);
      }),
    );
    fc.assert(fc.property(fc.string(), (s) => void authservIdOf(s)));
  });
});

describe('fromDomains', () => {
  it.each([
    ['Alice <alice@Example.COM>', ['example.com']],
    ['alice@example.com', ['example.com']],
    ['"Doe, John <x@evil.example>" <john@example.org>', ['example.org']],
    ['a@example.com, B <b@example.org>', ['example.org', 'example.com']],
    ['alice@example.com (Alice <x@evil.example>)', ['example.com']],
    ['undisclosed-recipients:;', []],
    ['', []],
    ['<>', []],
    ['no address at all', []],
  ])('%j → %j', (value, domains) => {
    expect(fromDomains(value).sort()).toEqual([...domains].sort());
  });

  it('property: a well-formed address is found whatever the display name and comments; output is always lower-case domain-ish', () => {
    fc.assert(
      fc.property(domain, fc.string().map((s) => s.replace(/["\\]/g, '')), (d, name) => {
        expect(fromDomains(`"${name}" <user@${d}>`)).toEqual([d]);
      }),
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        for (const d of fromDomains(s)) expect(d).toMatch(/^([a-z0-9.-]+|\[[^\]]*\])$/);
      }),
    );
  });

  it('stripComments never throws and leaves no unquoted parentheses of a closed comment', () => {
    fc.assert(fc.property(fc.string(), (s) => void stripComments(s)));
    expect(stripComments('a (b (c) d) e')).toBe('a   e');
    expect(stripComments('"(kept)" x')).toBe('"(kept)" x');
  });
});

describe('envelopeAddress', () => {
  it.each([
    ['<a@b.example>', 'a@b.example'],
    ['<>', ''],
    ['<@relay.example:a@b.example>', 'a@b.example'],
    ['a@b.example', 'a@b.example'],
  ])('%j → %j', (raw, address) => {
    expect(envelopeAddress(raw)).toBe(address);
  });
});

describe('Authentication-Results formatting', () => {
  it('formats rows, folding with LF + tab', () => {
    expect(
      authenticationResults('mx.example', [
        { method: 'spf', result: 'pass', comment: 'ok', props: [['smtp.mailfrom', 'a@example.com']] },
        { method: 'dkim', result: 'none' },
      ]),
    ).toBe('mx.example;\n\tspf=pass (ok) smtp.mailfrom=a@example.com;\n\tdkim=none');
    expect(authenticationResults('mx.example', [])).toBe('mx.example; none');
  });

  it('property: hostile values never break out of their row (no ; or newline outside quotes/comments) and stay short', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (value, comment) => {
        const row = formatRow({ method: 'dkim', result: 'fail', comment, props: [['header.s', value]] });
        expect(row).not.toMatch(/[\r\n]/);
        expect(row.length).toBeLessThan(400);
        // Removing the comment and the quoted string leaves no ';'.
        const pv = propValue(value);
        expect(pv.startsWith('"') || !/[;\s"()]/.test(pv)).toBe(true);
        expect(stripComments(row).replace(/"(?:[^"\\]|\\.)*"/g, '')).not.toContain(';');
      }),
    );
  });
});

describe('exp= and DMARC action', () => {
  it('reads exp= from an SPF record', () => {
    expect(expModifier('v=spf1 -all exp=explain.%{d}')).toBe('explain.%{d}');
    expect(expModifier('v=spf1 -all')).toBeUndefined();
    fc.assert(fc.property(fc.string(), (s) => void expModifier(s)));
  });

  it('applies p= with pct= sampling', () => {
    const fail = { result: 'fail', fromDomain: 'example.com' } as const;
    expect(dmarcAction({ ...fail, policy: 'reject' }).kind).toBe('reject');
    expect(dmarcAction({ ...fail, policy: 'quarantine' }).kind).toBe('quarantine');
    expect(dmarcAction({ ...fail, policy: 'none' }).kind).toBe('none');
    expect(dmarcAction({ result: 'pass', fromDomain: 'example.com', policy: 'reject' }).kind).toBe('none');
    expect(dmarcAction({ ...fail, policy: 'reject', pct: 0 }, () => 0.5).kind).toBe('quarantine');
    expect(dmarcAction({ ...fail, policy: 'quarantine', pct: 10 }, () => 0.5).kind).toBe('none');
    expect(dmarcAction(undefined).kind).toBe('none');
  });
});

describe('NetworkList and rawMessage', () => {
  it('matches IPv4, IPv6 and IPv4-mapped addresses; garbage is no match', () => {
    const n = new NetworkList(['127.0.0.0/8', '::1/128', '192.0.2.5']);
    expect(n.has('127.1.2.3')).toBe(true);
    expect(n.has('::1')).toBe(true);
    expect(n.has('::ffff:127.0.0.1')).toBe(true);
    expect(n.has('192.0.2.5')).toBe(true);
    expect(n.has('192.0.2.6')).toBe(false);
    expect(n.has('not an ip')).toBe(false);
    expect(n.has(undefined)).toBe(false);
  });

  it('rebuilds CRLF bytes, keeps leading whitespace exactly, and caps DKIM-Signature fields', () => {
    const raw = rawMessage(
      [
        { name: 'DKIM-Signature', value: ' a' },
        { name: 'DKIM-Signature', value: ' b' },
        { name: 'Subject', value: '  folded\n\tline' },
      ],
      Buffer.from('body\r\n'),
      true,
      1,
    );
    expect(raw.toString()).toBe('DKIM-Signature: a\r\nSubject:  folded\r\n\tline\r\n\r\nbody\r\n');
  });
});
