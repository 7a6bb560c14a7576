/**
 * The SMTP server's pure parts without sockets: line-end normalisation (property-based), the Received
 * field, the mapping of the chain's verdicts to SMTP replies, the log lines, the per-client limits.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reject, tempfail, REJECT, TEMPFAIL } from '../../src/mail/reply.js';
import { AuthFailures, ConnectionCounter } from '../../src/mail/client-limits.js';
import { MessageRate } from '../../src/smtp/client-limits.js';
import { LineEndNormalizer, normalizeLineEnds } from '../../src/smtp/line-ends.js';
import { CommandCounts, clientText, rejectLine } from '../../src/smtp/log-lines.js';
import { confirmedName } from '../../src/smtp/client-name.js';
import { receivedValue, rfc5322Date } from '../../src/smtp/received.js';
import { chainRefusal } from '../../src/smtp/replies.js';

describe('line ends', () => {
  const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a.map((b) => [0x0a, 0x0d, 0x41, b][b % 4]!)));

  it('leaves no bare LF, and taking out the CRs it added gives the input back', () => {
    fc.assert(
      fc.property(bytes, (input) => {
        const out = normalizeLineEnds(input);
        for (let i = 0; i < out.length; i++) if (out[i] === 0x0a) expect(out[i - 1]).toBe(0x0d);
        const crlfIn = input.toString('latin1').split('\r\n').join('\n');
        const crlfOut = out.toString('latin1').split('\r\n').join('\n');
        expect(crlfOut).toBe(crlfIn);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the same bytes however the input is cut into chunks', () => {
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(300), { maxLength: 6 }), (input, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
        const n = new LineEndNormalizer();
        const parts: Buffer[] = [];
        let at = 0;
        for (const p of [...points, input.length]) {
          parts.push(n.push(input.subarray(at, p)));
          at = p;
        }
        expect(Buffer.concat(parts).equals(normalizeLineEnds(input))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps a CRLF and a bare CR as they are', () => {
    expect(normalizeLineEnds(Buffer.from('a\r\nb\rc\nd')).toString()).toBe('a\r\nb\rc\r\nd');
  });
});

describe('Received', () => {
  const date = new Date(Date.UTC(2026, 11, 3, 9, 5, 7));

  it("is Postfix's form, with our name in Postfix's place", () => {
    expect(
      receivedValue({ helo: 'client.example', clientName: 'mail.client.example', clientAddress: '192.0.2.1', hostname: 'mx.example.org', protocol: 'ESMTPS', id: 'ABCDEF1234', recipient: 'a@example.org', tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', bits: 256 }, date }),
    ).toBe(
      ' from client.example (mail.client.example [192.0.2.1])\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n\tby mx.example.org (Mailgate) with ESMTPS id ABCDEF1234\n\tfor <a@example.org>; Thu, 3 Dec 2026 09:05:07 +0000 (UTC)',
    );
  });

  it('says unknown for a client without a name, IPv6: for an IPv6 address, and no "for" with several recipients', () => {
    expect(receivedValue({ clientAddress: '2001:db8::1', hostname: 'mx', protocol: 'SMTP', id: 'X', date })).toBe(
      ' from unknown (unknown [IPv6:2001:db8::1])\n\tby mx (Mailgate) with SMTP id X; Thu, 3 Dec 2026 09:05:07 +0000 (UTC)',
    );
  });

  it('never lets a client-chosen value break the field', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (helo, rcpt) => {
        const v = receivedValue({ helo, clientAddress: '192.0.2.1', hostname: 'mx', protocol: 'ESMTP', id: 'X', recipient: rcpt, date });
        // Only our own folds: LF followed by a tab.
        expect(v.replace(/\n\t/g, '')).not.toMatch(/[\r\n]/);
      }),
    );
  });

  it('dates as RFC 5322 in UTC', () => {
    expect(rfc5322Date(new Date(Date.UTC(2027, 0, 1, 0, 0, 0)))).toBe('Fri, 1 Jan 2027 00:00:00 +0000 (UTC)');
  });
});

describe('chain verdicts to SMTP replies', () => {
  it("uses Postfix's defaults for a bare reject or tempfail", () => {
    expect(chainRefusal(REJECT)).toEqual({ code: 550, enhancedCode: '5.7.1', text: 'Command rejected' });
    expect(chainRefusal(TEMPFAIL)).toEqual({ code: 451, enhancedCode: '4.7.1', text: 'Service unavailable - try again later' });
  });

  it("keeps a filter's own code, enhanced code and text; joins several lines", () => {
    expect(chainRefusal(reject(554, '5.7.0', ['Spam', 'score 12']))).toEqual({ code: 554, enhancedCode: '5.7.0', text: 'Spam score 12' });
    expect(chainRefusal(tempfail(421, '4.3.2', 'later'))).toEqual({ code: 421, enhancedCode: '4.3.2', text: 'later' });
  });

  it('never sends a code of the wrong class, a bad enhanced code or a control character', () => {
    expect(chainRefusal({ status: 'reject', code: 451, text: 'x' })).toEqual({ code: 550, enhancedCode: '5.7.1', text: 'x' });
    expect(chainRefusal({ status: 'tempfail', code: 452, enhancedCode: '5.1.1', text: 'a\r\nb' })).toEqual({ code: 452, enhancedCode: '4.0.0', text: 'a  b' });
    fc.assert(
      fc.property(fc.constantFrom('reject' as const, 'tempfail' as const), fc.option(fc.integer({ min: 0, max: 999 })), fc.option(fc.string()), fc.array(fc.string()), (status, code, enh, text) => {
        const r = chainRefusal({ status, ...(code !== null ? { code } : {}), ...(enh !== null ? { enhancedCode: enh } : {}), text });
        const klass = status === 'reject' ? 5 : 4;
        expect(Math.floor(r.code / 100)).toBe(klass);
        expect(r.enhancedCode).toMatch(new RegExp(`^${klass}\\.\\d{1,3}\\.\\d{1,3}$`));
        // eslint-disable-next-line no-control-regex
        expect(r.text).not.toMatch(/[\x00-\x1f\x7f]/);
      }),
    );
  });
});

describe('log lines', () => {
  it("writes a refused command as Postfix's reject line", () => {
    expect(
      rejectLine({ command: 'RCPT', client: clientText(undefined, '192.0.2.1'), reply: '554 5.7.1 <v@other.example>: Relay access denied', from: 'x@a.example', to: 'v@other.example', proto: 'ESMTP', helo: 'h' }),
    ).toBe('NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 <v@other.example>: Relay access denied; from=<x@a.example> to=<v@other.example> proto=ESMTP helo=<h>');
    expect(clientText('mail.example', '192.0.2.1')).toBe('mail.example[192.0.2.1]');
  });

  it('counts commands as the disconnect line gives them', () => {
    const c = new CommandCounts();
    c.count('mail', true);
    c.count('rcpt', true);
    c.count('rcpt', false);
    c.count('data', true);
    expect(c.text()).toBe('mail=1 rcpt=1/2 data=1 commands=3/4');
  });
});

describe('per-client limits', () => {
  it('counts connections per address up to the limit', () => {
    const c = new ConnectionCounter();
    expect(c.open('a', 2)).toBe(true);
    expect(c.open('a', 2)).toBe(true);
    expect(c.open('a', 2)).toBe(false);
    expect(c.open('b', 2)).toBe(true);
    c.close('a');
    expect(c.open('a', 2)).toBe(true);
    expect(c.open('x', 0)).toBe(true);
  });

  it('takes messages per address within the window, and again once it moved on', () => {
    let now = 0;
    const r = new MessageRate(2, 60_000, () => now);
    expect([r.take('a'), r.take('a'), r.take('a'), r.take('b')]).toEqual([true, true, false, true]);
    now = 60_001;
    expect(r.take('a')).toBe(true);
    expect(new MessageRate(0).take('a')).toBe(true);
  });

  it('slows an address down a step per failed AUTH, capped, and forgets it later', () => {
    let now = 0;
    const f = new AuthFailures(1000, 2500, 60_000, () => now);
    expect(f.delayMs('a')).toBe(0);
    f.fail('a');
    f.fail('a');
    expect(f.delayMs('a')).toBe(2000);
    f.fail('a');
    expect(f.delayMs('a')).toBe(2500);
    expect(f.delayMs('b')).toBe(0);
    now = 60_000;
    expect(f.delayMs('a')).toBe(0);
  });
});

describe('client name (forward-confirmed reverse DNS)', () => {
  const lookups = (ptr: Record<string, string[]>, a: Record<string, string[]>, aaaa: Record<string, string[]> = {}) => ({
    reverse: (ip: string) => (ptr[ip] ? Promise.resolve(ptr[ip]) : Promise.reject(new Error('ENOTFOUND'))),
    resolve4: (n: string) => Promise.resolve(a[n] ?? []),
    resolve6: (n: string) => Promise.resolve(aaaa[n] ?? []),
  });

  it('takes the first PTR name that resolves back, without its trailing dot', async () => {
    const l = lookups({ '192.0.2.1': ['fake.example', 'real.example.'] }, { 'fake.example': ['192.0.2.99'], 'real.example.': ['192.0.2.1'] });
    expect(await confirmedName('192.0.2.1', l)).toBe('real.example');
    expect(await confirmedName('::ffff:192.0.2.1', l)).toBe('real.example');
  });

  it('compares IPv6 addresses whatever their spelling', async () => {
    const l = lookups({ '2001:db8::1': ['v6.example'] }, {}, { 'v6.example': ['2001:0DB8:0:0:0:0:0:0001'] });
    expect(await confirmedName('2001:db8::1', l)).toBe('v6.example');
  });

  it('gives no name when there is no PTR, no match, or no address', async () => {
    const l = lookups({ '192.0.2.1': ['x.example'] }, { 'x.example': ['192.0.2.2'] });
    expect(await confirmedName('192.0.2.1', l)).toBeUndefined();
    expect(await confirmedName('192.0.2.7', l)).toBeUndefined();
    expect(await confirmedName('not-an-ip', l)).toBeUndefined();
  });
});
