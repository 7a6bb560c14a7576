import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeCode,
  encodeSpamdRequest,
  parseSpamdResponse,
  parseSpamValue,
  responseLength,
  SpamdProtocolError,
} from '../../../src/filters/spamassassin/protocol.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('encodeSpamdRequest', () => {
  it('writes the command, Content-length (that exact case), User and the message', () => {
    const msg = b('Subject: hi\r\n\r\nbody\r\n');
    expect(encodeSpamdRequest('PROCESS', msg).toString('latin1')).toBe(`PROCESS SPAMC/1.5\r\nContent-length: ${msg.length}\r\n\r\nSubject: hi\r\n\r\nbody\r\n`);
    expect(encodeSpamdRequest('HEADERS', msg, { user: 'mail' }).toString('latin1')).toBe(
      `HEADERS SPAMC/1.5\r\nContent-length: ${msg.length}\r\nUser: mail\r\n\r\nSubject: hi\r\n\r\nbody\r\n`,
    );
  });

  it('counts bytes, not characters', () => {
    const msg = Buffer.from('Subject: é\r\n\r\n€\r\n', 'utf8');
    expect(encodeSpamdRequest('CHECK', msg).toString('latin1')).toContain(`Content-length: ${msg.length}\r\n`);
  });

  it('PING has no Content-length and no body', () => {
    expect(encodeSpamdRequest('PING', b('ignored')).toString('latin1')).toBe('PING SPAMC/1.5\r\n\r\n');
  });

  it('refuses a user name that would inject a header', () => {
    expect(() => encodeSpamdRequest('CHECK', b(''), { user: 'a\r\nUser: root' })).toThrow(RangeError);
    expect(() => encodeSpamdRequest('CHECK', b(''), { user: '' })).toThrow(RangeError);
  });
});

describe('parseSpamdResponse', () => {
  it('parses a CHECK answer (no Content-length, no body)', () => {
    const r = parseSpamdResponse(b('SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1000.0 / 5.0\r\n\r\n'));
    expect(r).toMatchObject({ version: '1.1', code: 0, message: 'EX_OK', contentLength: undefined, spam: { isSpam: true, score: 1000, threshold: 5 } });
    expect(r.body.length).toBe(0);
  });

  it('parses a PROCESS answer with its body', () => {
    const body = 'X-Spam-Flag: YES\r\nSubject: x\r\n\r\nhello\r\n';
    const r = parseSpamdResponse(b(`SPAMD/1.1 0 EX_OK\r\nContent-length: ${body.length}\r\nSpam: True ; 15.0 / 5.0\r\n\r\n${body}`));
    expect(r.spam).toEqual({ isSpam: true, score: 15, threshold: 5 });
    expect(r.contentLength).toBe(body.length);
    expect(r.body.toString('latin1')).toBe(body);
    expect(r.headers).toEqual([
      ['Content-length', String(body.length)],
      ['Spam', 'True ; 15.0 / 5.0'],
    ]);
  });

  it('parses ham, negative scores and REPORT_IFSPAM Yes/No', () => {
    expect(parseSpamdResponse(b('SPAMD/1.1 0 EX_OK\r\nSpam: False ; -0.0 / 5.0\r\n\r\n')).spam).toEqual({ isSpam: false, score: -0, threshold: 5 });
    expect(parseSpamdResponse(b('SPAMD/1.1 0 EX_OK\r\nSpam: No ; -2.5 / 5.0\r\n\r\n')).spam).toEqual({ isSpam: false, score: -2.5, threshold: 5 });
    expect(parseSpamdResponse(b('SPAMD/1.1 0 EX_OK\r\nSpam: Yes ; 7 / 5\r\n\r\n')).spam).toEqual({ isSpam: true, score: 7, threshold: 5 });
  });

  it('parses PONG and error codes ended right after the status line', () => {
    expect(parseSpamdResponse(b('SPAMD/1.5 0 PONG\r\n'))).toMatchObject({ version: '1.5', code: 0, message: 'PONG' });
    const err = parseSpamdResponse(b('SPAMD/1.0 76 Bad header line: Content-Length: 12\r\n'));
    expect(err).toMatchObject({ code: 76, message: 'Bad header line: Content-Length: 12', spam: undefined });
    expect(parseSpamdResponse(b('SPAMD/1.0 75 EX_TEMPFAIL'))).toMatchObject({ code: 75, message: 'EX_TEMPFAIL' });
    expect(describeCode(75)).toBe('75 EX_TEMPFAIL');
    expect(describeCode(76)).toBe('76 EX_PROTOCOL');
    expect(describeCode(99)).toBe('99');
  });

  it.each([
    ['empty', ''],
    ['HTTP', 'HTTP/1.1 200 OK\r\n\r\n'],
    ['no code', 'SPAMD/1.1 EX_OK\r\n\r\n'],
    ['bad header line', 'SPAMD/1.1 0 EX_OK\r\nno colon here\r\n\r\n'],
    ['bad Spam value', 'SPAMD/1.1 0 EX_OK\r\nSpam: maybe\r\n\r\n'],
    ['bad Content-length', 'SPAMD/1.1 0 EX_OK\r\nContent-length: -3\r\n\r\n'],
    ['cut short', 'SPAMD/1.1 0 EX_OK\r\nContent-length: 100\r\nSpam: True ; 1.0 / 5.0\r\n\r\nonly a bit'],
    ['too long', 'SPAMD/1.1 0 EX_OK\r\nContent-length: 2\r\nSpam: True ; 1.0 / 5.0\r\n\r\nmuch more than two'],
  ])('throws SpamdProtocolError for %s', (_what, raw) => {
    expect(() => parseSpamdResponse(b(raw))).toThrow(SpamdProtocolError);
  });

  it('refuses an endless head', () => {
    expect(() => parseSpamdResponse(b(`SPAMD/1.1 0 EX_OK\r\nX: ${'a'.repeat(10_000)}`))).toThrow(/within|longer/);
  });
});

describe('responseLength', () => {
  it('is known once the head with Content-length arrived', () => {
    const whole = b('SPAMD/1.1 0 EX_OK\r\nContent-length: 5\r\nSpam: False ; 0.0 / 5.0\r\n\r\nabcde');
    expect(responseLength(whole.subarray(0, 10))).toBeUndefined();
    expect(responseLength(whole.subarray(0, whole.length - 3))).toBe(whole.length);
    expect(responseLength(b('SPAMD/1.1 0 EX_OK\r\nSpam: False ; 0.0 / 5.0\r\n\r\n'))).toBeUndefined();
  });

  it('rejects at once what is not SPAMD', () => {
    expect(() => responseLength(b('220 smtp.example ESMTP'))).toThrow(SpamdProtocolError);
    expect(responseLength(b('SPA'))).toBeUndefined();
  });
});

describe('parseSpamValue', () => {
  it('accepts spacing variants', () => {
    expect(parseSpamValue('True;15.0/5.0')).toEqual({ isSpam: true, score: 15, threshold: 5 });
    expect(parseSpamValue(' false  ;  1  /  5 ')).toEqual({ isSpam: false, score: 1, threshold: 5 });
    expect(parseSpamValue('True ; 1e9 / 5')).toBeUndefined();
  });
});

describe('properties', () => {
  const anyBytes = fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a));
  const spamdLike = fc
    .tuple(fc.constantFrom('SPAMD/1.1 0 EX_OK\r\n', 'SPAMD/1.5 ', 'SPAMD/', 'SPAMD/1.0 76 '), fc.string({ maxLength: 200 }), anyBytes)
    .map(([p, s, tail]) => Buffer.concat([b(p), Buffer.from(s, 'utf8'), tail]));

  it('garbage never throws anything but SpamdProtocolError', () => {
    fc.assert(
      fc.property(fc.oneof(anyBytes, spamdLike), (bytes) => {
        for (const f of [() => parseSpamdResponse(bytes), () => responseLength(bytes)]) {
          try {
            f();
          } catch (err) {
            if (!(err instanceof SpamdProtocolError)) throw err;
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  const fieldValue = fc.string({ maxLength: 40 }).filter((s) => !/[\r\n]/.test(s) && s.trim() === s);
  it('a well-formed response round-trips, and responseLength finds its end in any prefix', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 78 }),
        fc.boolean(),
        fc.double({ min: -1000, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.array(fc.tuple(fc.constantFrom('X-Extra', 'DidSet', 'Other'), fieldValue), { maxLength: 3 }),
        anyBytes,
        fc.nat(),
        (code, isSpam, score, threshold, extra, body, cut) => {
          const s = score.toFixed(1);
          const t = threshold.toFixed(1);
          const head = [`SPAMD/1.1 ${code} EX`, `Content-length: ${body.length}`, `Spam: ${isSpam ? 'True' : 'False'} ; ${s} / ${t}`, ...extra.map(([n, v]) => `${n}: ${v}`)];
          const raw = Buffer.concat([b(`${head.join('\r\n')}\r\n\r\n`), body]);
          const r = parseSpamdResponse(raw);
          expect(r.code).toBe(code);
          expect(r.spam).toEqual({ isSpam, score: Number(s), threshold: Number(t) });
          expect(r.body.equals(body)).toBe(true);
          expect(r.headers.slice(2)).toEqual(extra.map(([n, v]) => [n, v]));
          const prefix = raw.subarray(0, cut % (raw.length + 1));
          const len = responseLength(prefix);
          expect(len === undefined || len === raw.length).toBe(true);
          expect(responseLength(raw)).toBe(raw.length);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('any request parses back to its command, length and message', () => {
    fc.assert(
      fc.property(fc.constantFrom('CHECK', 'PROCESS', 'HEADERS', 'SYMBOLS', 'REPORT') , anyBytes, (command, msg) => {
        const req = encodeSpamdRequest(command, msg);
        const end = req.indexOf('\r\n\r\n');
        expect(req.subarray(0, end).toString('latin1')).toBe(`${command} SPAMC/1.5\r\nContent-length: ${msg.length}`);
        expect(req.subarray(end + 4).equals(msg)).toBe(true);
      }),
    );
  });
});
