/** The pure parsers of delivery: lmtp, SMTP replies, DSN parameters; each fuzzed (relay_host is config's, tested there). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLmtpEndpoint } from '../../src/delivery/lmtp-endpoint.js';
import { parseReply, resultFromReply, statusOfCode } from '../../src/delivery/smtp-reply.js';
import { encodeXtext, rcptDsnArgs } from '../../src/delivery/dsn-args.js';

describe('lmtp endpoint', () => {
  it('reads inet: and unix:', () => {
    expect(parseLmtpEndpoint('inet:127.0.0.1:24')).toEqual({ kind: 'inet', host: '127.0.0.1', port: 24 });
    expect(parseLmtpEndpoint('inet:[::1]:24')).toEqual({ kind: 'inet', host: '::1', port: 24 });
    expect(parseLmtpEndpoint('inet:24@127.0.0.1')).toEqual({ kind: 'inet', host: '127.0.0.1', port: 24 });
    expect(parseLmtpEndpoint('unix:/run/dovecot/lmtp')).toEqual({ kind: 'unix', path: '/run/dovecot/lmtp' });
    for (const bad of ['127.0.0.1:24', 'inet:host', 'unix:relative', 'inet:h:0', 'lmtp:x']) expect(parseLmtpEndpoint(bad), bad).toBeInstanceOf(Error);
  });

  it('never throws (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (s) => parseLmtpEndpoint(s) !== undefined), { numRuns: 10_000 });
  });
});

describe('SMTP replies as results', () => {
  it('takes the enhanced code when its class agrees, X.0.0 otherwise', () => {
    expect(parseReply('550 5.1.1 <a@b>: Recipient address rejected')).toEqual({ code: 550, enhanced: '5.1.1', text: '550 5.1.1 <a@b>: Recipient address rejected' });
    expect(parseReply('550 4.1.1 odd')?.enhanced).toBe('5.0.0');
    expect(parseReply('451 try later')?.enhanced).toBe('4.0.0');
    expect(parseReply('250-first\n250 2.0.0 second')).toEqual({ code: 250, enhanced: '2.0.0', text: '250-first 250 2.0.0 second' });
    expect(parseReply('hello')).toBeUndefined();
  });

  it('maps classes: 2xx delivered, 4xx deferred, 5xx failed, else deferred', () => {
    expect(statusOfCode(250)).toBe('delivered');
    expect(statusOfCode(450)).toBe('deferred');
    expect(statusOfCode(554)).toBe('failed');
    expect(statusOfCode(354)).toBe('deferred');
    const r = resultFromReply('a@b', '550 5.1.1 no such user', 'mx.b[192.0.2.1]', 'mx.b[192.0.2.1]:25', 'RCPT TO');
    expect(r).toEqual({
      address: 'a@b',
      status: 'failed',
      enhanced: '5.1.1',
      diagnostic: 'host mx.b[192.0.2.1] said: 550 5.1.1 no such user (in reply to RCPT TO command)',
      remoteReply: '550 5.1.1 no such user',
      relay: 'mx.b[192.0.2.1]:25',
    });
  });

  it('any reply gives a result with a matching class and one line (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 100 }), fc.tuple(fc.integer({ min: 100, max: 699 }), fc.string()).map(([c, t]) => `${c} ${t}`)), (reply) => {
        const r = resultFromReply('x@y', reply, 'h', 'h:25', 'RCPT TO');
        const cls = { delivered: '2', deferred: '4', failed: '5' }[r.status];
        return r.enhanced.startsWith(cls) && !/[\r\n]/.test(r.diagnostic) && /^[245]\.\d{1,3}\.\d{1,3}$/.test(r.enhanced);
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('DSN parameters per recipient', () => {
  it('passes NOTIFY and ORCPT, encoding ORCPT as xtext when it is not', () => {
    expect(rcptDsnArgs({ address: 'a@b', original: 'a@b' })).toBe('');
    expect(rcptDsnArgs({ address: 'a@b', original: 'a@b', notify: ['SUCCESS', 'DELAY'], orcpt: 'rfc822;a@b' })).toBe(' NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a@b');
    expect(rcptDsnArgs({ address: 'a@b', original: 'a@b', notify: 'NEVER' })).toBe(' NOTIFY=NEVER');
    expect(rcptDsnArgs({ address: 'a@b', original: 'a@b', orcpt: 'rfc822;a+b=c@d' })).toBe(' ORCPT=rfc822;a+2Bb+3Dc@d');
    expect(rcptDsnArgs({ address: 'a@b', original: 'a@b', orcpt: 'rfc822;a+2Bb@d' })).toBe(' ORCPT=rfc822;a+2Bb@d');
    expect(encodeXtext('é ')).toBe('+C3+A9+20');
  });

  it('never puts a space or control character inside a parameter (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (orcpt) => {
        const args = rcptDsnArgs({ address: 'a@b', original: 'a@b', orcpt: `rfc822;${orcpt}` });
        return args.split(' ').slice(1).every((p) => /^[!-~]+$/.test(p));
      }),
      { numRuns: 20_000 },
    );
  });
});
