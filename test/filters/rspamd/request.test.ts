import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkEndpoint } from '../../../src/filters/rspamd/client.js';
import { headerSafe, requestHeaders } from '../../../src/filters/rspamd/request.js';

describe('requestHeaders: the envelope as rspamd\'s milter sends it', () => {
  it('sends every field it has', () => {
    expect(
      requestHeaders(
        {
          connection: { hostname: 'mail.example.net', family: 'inet', address: '192.0.2.10', port: 1 },
          helo: 'mail.example.net',
          sender: '<alice@example.net>',
          recipients: ['<bob@example.org>', '<carol@example.org>'],
          queueId: 'QID123',
          user: 'alice',
          mtaName: 'mx.example.org',
        },
        { passAll: true, password: 'secret' },
      ),
    ).toEqual({
      IP: '192.0.2.10',
      Hostname: 'mail.example.net',
      Helo: 'mail.example.net',
      From: '<alice@example.net>',
      Rcpt: ['<bob@example.org>', '<carol@example.org>'],
      'Queue-Id': 'QID123',
      User: 'alice',
      'MTA-Name': 'mx.example.org',
      Pass: 'all',
      Password: 'secret',
    });
  });

  it('leaves out what it does not know: unix clients, unresolved host names, no recipients', () => {
    expect(requestHeaders({ connection: { hostname: 'localhost', family: 'unix', path: '/x' }, recipients: [] }, { passAll: false })).toEqual({ Hostname: 'localhost' });
    expect(requestHeaders({ connection: { hostname: '[192.0.2.1]', family: 'inet', address: '192.0.2.1' }, recipients: [] }, { passAll: false })).toEqual({ IP: '192.0.2.1' });
    expect(requestHeaders({ connection: { hostname: 'unknown', family: 'inet6', address: '2001:db8::1' }, recipients: [] }, { passAll: false })).toEqual({ IP: '2001:db8::1' });
  });

  it('keeps the null sender', () => {
    expect(requestHeaders({ sender: '<>', recipients: ['<b@example.org>'] }, { passAll: false }).From).toBe('<>');
  });

  it('header values are always sendable: no CR, LF or NUL, nothing above U+00FF', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        const v = headerSafe(s);
        expect(v).not.toMatch(/[\r\n\0]/);
        expect([...v].every((c) => c.charCodeAt(0) <= 0xff)).toBe(true);
      }),
    );
    // UTF-8 bytes go as they are (rspamd reads bytes).
    expect(Buffer.from(headerSafe('<jörg@exämple.org>'), 'latin1').toString('utf8')).toBe('<jörg@exämple.org>');
  });
});

describe('checkEndpoint', () => {
  it('appends /checkv2 to the URL path', () => {
    expect(checkEndpoint({ url: 'http://127.0.0.1:11333' })).toEqual({ host: '127.0.0.1', port: 11333, path: '/checkv2' });
    expect(checkEndpoint({ url: 'http://rspamd.example:8080/rspamd/' })).toEqual({ host: 'rspamd.example', port: 8080, path: '/rspamd/checkv2' });
    expect(checkEndpoint({ url: 'http://[::1]' })).toEqual({ host: '::1', port: 80, path: '/checkv2' });
  });
});
