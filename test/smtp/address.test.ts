/**
 * The RFC 5321 path parser: tables of legitimate and malformed paths (in the bracketed form and in the
 * bare form smtp-server hands to onRcptTo), and fast-check properties over arbitrary strings: it never
 * throws, always returns one of its two shapes, stays fast on long input, and what it accepts re-parses
 * to the same value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDotString, isPathError, parsePath, quoteLocalPart, type ParsedPath } from '../../src/smtp/address.js';

const SEED = 20261203;
const RCPT = { smtputf8: false } as const;
const RCPT8 = { smtputf8: true } as const;
const SENDER = { smtputf8: false, role: 'sender' } as const;

function ok(text: string, opts: Parameters<typeof parsePath>[1] = RCPT): ParsedPath {
  const r = parsePath(text, opts);
  if (isPathError(r)) throw new Error(`${JSON.stringify(text)} refused: ${r.error}`);
  return r;
}

describe('parsePath: legitimate paths', () => {
  it.each([
    ['<user@example.com>', 'user', 'example.com', 'user@example.com'],
    ['user@example.com', 'user', 'example.com', 'user@example.com'],
    ['<First.Last+tag@Example.COM>', 'First.Last+tag', 'example.com', 'First.Last+tag@example.com'],
    ["o'brien@example.com", "o'brien", 'example.com', "o'brien@example.com"],
    ['user@example.com.', 'user', 'example.com', 'user@example.com'],
    ['<"john smith"@example.com>', 'john smith', 'example.com', '"john smith"@example.com'],
    ['<"user"@example.com>', 'user', 'example.com', 'user@example.com'],
    ['<"a\\"b"@example.com>', 'a"b', 'example.com', '"a\\"b"@example.com'],
    ['<"a\\\\b"@example.com>', 'a\\b', 'example.com', '"a\\\\b"@example.com'],
    ['<""@example.com>', '', 'example.com', '""@example.com'],
    ['user@[192.0.2.1]', 'user', '[192.0.2.1]', 'user@[192.0.2.1]'],
    ['user@[IPv6:2001:DB8:0::1]', 'user', '[ipv6:2001:db8::1]', 'user@[ipv6:2001:db8::1]'],
    ['user@xn--bcher-kva.example', 'user', 'xn--bcher-kva.example', 'user@xn--bcher-kva.example'],
    // smtp-server hands the domain over in Unicode even without SMTPUTF8
    ['user@Bücher.example', 'user', 'xn--bcher-kva.example', 'user@xn--bcher-kva.example'],
    ['user%other.example@local.example', 'user%other.example', 'local.example', 'user%other.example@local.example'],
    ['other.example!user@local.example', 'other.example!user', 'local.example', 'other.example!user@local.example'],
  ])('%s', (text, localPart, domain, address) => {
    const p = ok(text);
    expect(p).toMatchObject({ kind: 'mailbox', localPart, domain, address });
  });

  it('keeps the source route, lower-cased', () => {
    const p = ok('<@Relay1.example,@relay2.example:user@other.example>');
    expect(p.sourceRoute).toEqual(['relay1.example', 'relay2.example']);
    expect(p.domain).toBe('other.example');
    expect(ok('<user@other.example>').sourceRoute).toBeUndefined();
  });

  it('marks a trailing dot and the Unicode form of an IDN', () => {
    expect(ok('u@Example.com.')).toMatchObject({ trailingDot: true, domain: 'example.com' });
    expect(ok('u@xn--bcher-kva.example')).toMatchObject({ domainUnicode: 'bücher.example', trailingDot: false });
  });

  it('describes address literals', () => {
    expect(ok('u@[192.0.2.1]').ipLiteral).toEqual({ family: 4, address: '192.0.2.1' });
    expect(ok('u@[ipv6:::FFFF:192.0.2.1]').ipLiteral).toEqual({ family: 6, address: '::ffff:c000:201' });
  });

  it('takes <> as the null sender and the domainless postmaster as a recipient', () => {
    expect(ok('<>', SENDER).kind).toBe('null');
    expect(ok('', SENDER).kind).toBe('null');
    expect(ok('<Postmaster>').kind).toBe('postmaster');
    expect(ok('postmaster').kind).toBe('postmaster');
  });

  it('takes a UTF-8 local part only under SMTPUTF8', () => {
    expect(ok('<josé@example.com>', RCPT8).localPart).toBe('josé');
    expect(ok('<"jo sé"@example.com>', RCPT8).localPart).toBe('jo sé');
    for (const t of ['<josé@example.com>', '<"josé"@example.com>']) {
      const r = parsePath(t, RCPT);
      expect(isPathError(r) && r.reply).toMatchObject({ code: 553, enhancedCode: '5.6.7' });
    }
  });
});

describe('parsePath: refused with Postfix 501 replies', () => {
  it.each([
    '',
    '<>',
    '<',
    '<user@example.com',
    'user@example.com>',
    '<<user@example.com>>',
    'user',
    'user@',
    '@example.com',
    'user@@example.com',
    'a@b@example.com',
    '"user@other.example"@local.example x',
    '<"user@other.example"@local.example',
    'us er@example.com',
    'user @example.com',
    'user@ example.com',
    ' user@example.com',
    'user(comment)@example.com',
    'user@example.com(comment)',
    '(comment)user@example.com',
    'user\\@other.example@local.example',
    'us\\er@example.com',
    '.user@example.com',
    'user.@example.com',
    'us..er@example.com',
    'user@example..com',
    'user@example.com..',
    'user@.example.com',
    'user@-example.com',
    'user@example-.com',
    'user@exa_mple.com',
    'user@example.com:25',
    'user@192.0.2.1',
    'user@[192.0.2.1',
    'user@[010.0.2.1]',
    'user@[256.0.0.1]',
    'user@[192.0.2.1]x',
    'user@[IPv6:fe80::1%eth0]',
    'user@[IPv6:192.0.2.1]',
    'user@[tag:content]',
    'user@[ 192.0.2.1]',
    '"unterminated@example.com',
    '"a"b@example.com',
    '"a"."b"@example.com',
    '"a\\',
    '<@relay.example user@other.example>',
    '<@relay.example:>',
    '<@:user@other.example>',
    '<@relay.example,user@other.example>',
    '<@relay.example:@other.example:user@local.example>',
    '<@[192.0.2.1]:user@other.example>',
    'user@ｌｏｃａｌ.example',
    'user@xn--zz.example',
    'user@xn--a.example',
    'user@xn--.example',
    'user@www.xn--zz',
    'user@XN--BCHER-KVA.example-with-Ü',
    'user@exam\u200bple.com',
    'us\u200ber@example.com',
    'user\u0000@example.com',
    'user@example.com\r\nRCPT TO:<x@other.example>',
    'user@example.com\n',
    'user\r@example.com',
    'user@example.com\u0085',
    'us\ufffder@example.com',
    `${'a'.repeat(250)}@example.com`,
    `user@${'a.'.repeat(130)}com`,
    `user@${'a'.repeat(64)}.com`,
  ])('%j', (text) => {
    const r = parsePath(text, RCPT8);
    expect(isPathError(r), JSON.stringify(r)).toBe(true);
    if (isPathError(r)) expect(r.reply).toEqual({ status: 'reject', code: 501, enhancedCode: '5.1.3', text: 'Bad recipient address syntax' });
  });

  it('answers a bad sender with 5.1.7', () => {
    const r = parsePath('<a b@example.com>', SENDER);
    expect(isPathError(r) && r.reply).toEqual({ status: 'reject', code: 501, enhancedCode: '5.1.7', text: 'Bad sender address syntax' });
  });

  it('refuses a domainless postmaster as a sender', () => {
    expect(isPathError(parsePath('<postmaster>', SENDER))).toBe(true);
  });
});

describe('quoting', () => {
  it('quotes only what is not a Dot-string', () => {
    expect(quoteLocalPart('a.b+c')).toBe('a.b+c');
    expect(quoteLocalPart('a b')).toBe('"a b"');
    expect(quoteLocalPart('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(isDotString('')).toBe(false);
  });
});

/** Strings made of the characters that matter to address syntax, so that many inputs come near the grammar. */
const TRICKY = [
  ...'aZ09._-+%!@:,"\\[]<>() \t\r\n\u0000\u00ff\u00e9é\u200b\ufffd.',
  'local.example',
  'other.example',
  'IPv6:',
  '192.0.2.1',
  'xn--',
  '@',
  '"',
  '\\"',
];
const trickyString = fc.array(fc.constantFrom(...TRICKY), { maxLength: 40 }).map((a) => a.join(''));
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: fc.constantFrom('\u0000', '\r', '\n', '\u0080', '\u00ff', '\ud800', '\udc00', '<', '>', '@'), maxLength: 50 }),
  trickyString,
  trickyString.map((s) => `<${s}>`),
);
const opts = fc.record({ smtputf8: fc.boolean(), role: fc.constantFrom('sender' as const, 'recipient' as const) });

describe('parsePath: fuzz', () => {
  it('never throws and always returns a path or a 5xx error, for 40,000 arbitrary strings', () => {
    fc.assert(
      fc.property(anyString, opts, (text, o) => {
        const r = parsePath(text, o);
        if (isPathError(r)) {
          expect([501, 553]).toContain(r.reply.code);
          expect(r.reply.status).toBe('reject');
        } else {
          expect(['mailbox', 'null', 'postmaster']).toContain(r.kind);
          // what is accepted carries no control character, and its canonical form reads back the same
          // eslint-disable-next-line no-control-regex
          expect(r.address).not.toMatch(/[\u0000-\u001f\u007f]/);
          if (r.kind === 'mailbox') {
            const again = parsePath(r.address, { smtputf8: true, role: o.role });
            expect(again).toMatchObject({ localPart: r.localPart, domain: r.domain, address: r.address });
          }
        }
      }),
      { seed: SEED, numRuns: 40_000 },
    );
  });

  it('answers very long input at once, whatever it holds', () => {
    for (const filler of ['a', '@', '"', '\\', '.', '<', '\u0000', 'é', '@a,']) {
      const text = `<${filler.repeat(1_000_000)}@example.com>`;
      expect(isPathError(parsePath(text, RCPT8))).toBe(true);
    }
  });
});

describe('the ASCII fast paths', () => {
  // The definitions the table and the printable-ASCII shortcut stand for.
  const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]$/;
  const reference = (s: string): boolean => {
    if (s === '' || s.startsWith('.') || s.endsWith('.') || s.includes('..')) return false;
    for (const ch of s) if (ch !== '.' && !ATEXT.test(ch) && ch.charCodeAt(0) <= 0x7f) return false;
    return true;
  };
  const chars = fc.constantFrom(...'aZ09.!#%@"\\ \t\u0000\u007f\u00e9\u00a0\u200b\u3000\ud83d\ude00'.split(''), '\ud83d\ude00');
  const text = fc.array(chars, { maxLength: 12 }).map((a) => a.join(''));

  it('isDotString agrees with the per-character definition', () => {
    fc.assert(fc.property(text, (s) => isDotString(s) === reference(s)));
  });

  it('parsePath refuses control, invisible and non-ASCII space characters wherever they are', () => {
    for (const bad of ['\u0000', '\u007f', '\u00a0', '\u200b', '\u3000', '\u0085']) {
      expect(isPathError(parsePath(`<a${bad}b@example.com>`, RCPT8))).toBe(true);
      expect(isPathError(parsePath(`<"a${bad}b"@example.com>`, RCPT8))).toBe(true);
    }
    expect(isPathError(parsePath('<"a b"@example.com>', RCPT8))).toBe(false);
  });
});
