import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeInstream,
  encodeInstream,
  MAX_REPLY_LENGTH,
  parsePing,
  parseScanReply,
  parseVersion,
  takeReply,
  ZINSTREAM,
  ZPING,
  ZVERSION,
} from '../../../src/filters/clamav/protocol.js';

describe('zINSTREAM framing', () => {
  it('is the command, <uint32 BE length><bytes> chunks across part boundaries, then a zero length', () => {
    const frames = encodeInstream([Buffer.from('abc'), Buffer.from('defgh'), Buffer.from('ij')], 4);
    expect(Buffer.concat(frames).toString('hex')).toBe(
      Buffer.concat([
        Buffer.from('zINSTREAM\0'),
        Buffer.from([0, 0, 0, 4]),
        Buffer.from('abcd'),
        Buffer.from([0, 0, 0, 4]),
        Buffer.from('efgh'),
        Buffer.from([0, 0, 0, 2]),
        Buffer.from('ij'),
        Buffer.from([0, 0, 0, 0]),
      ]).toString('hex'),
    );
  });

  it('a small message in several parts is one chunk, the parts not copied', () => {
    const parts = [Buffer.from('From x\n'), Buffer.from('H: v\r\n\r\n'), Buffer.from('body')];
    const frames = encodeInstream(parts);
    expect(frames).toHaveLength(6);
    expect(frames[1]!.readUInt32BE(0)).toBe(parts.reduce((n, p) => n + p.length, 0));
    expect(frames.slice(2, 5)).toEqual(parts);
    expect(frames[2]).toBe(parts[0]);
  });

  it('sends no empty chunk (a zero length would end the stream early)', () => {
    const frames = encodeInstream([Buffer.alloc(0), Buffer.from('x'), Buffer.alloc(0)]);
    expect(Buffer.concat(frames)).toEqual(Buffer.concat([ZINSTREAM, Buffer.from([0, 0, 0, 1, 0x78, 0, 0, 0, 0])]));
    expect(Buffer.concat(encodeInstream([]))).toEqual(Buffer.concat([ZINSTREAM, Buffer.alloc(4)]));
  });

  it('refuses a chunk size that does not fit the length field', () => {
    expect(() => encodeInstream([Buffer.from('x')], 0)).toThrow(RangeError);
    expect(() => encodeInstream([Buffer.from('x')], 2 ** 32)).toThrow(RangeError);
  });

  it('z commands end with NUL', () => {
    expect(ZPING.toString('latin1')).toBe('zPING\0');
    expect(ZVERSION.toString('latin1')).toBe('zVERSION\0');
  });

  it('property: decoding the frames gives back the parts joined, whatever the chunk size', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }), fc.integer({ min: 1, max: 64 }), (arrays, size) => {
        const parts = arrays.map((a) => Buffer.from(a));
        const wire = Buffer.concat(encodeInstream(parts, size));
        const decoded = decodeInstream(wire);
        expect(decoded?.data).toEqual(Buffer.concat(parts));
        expect(decoded?.length).toBe(wire.length);
        // Any strict prefix is incomplete, never wrong.
        const cut = Math.max(ZINSTREAM.length, wire.length - 1);
        expect(decodeInstream(wire.subarray(0, cut))).toBeUndefined();
      }),
    );
  });
});

describe('reading a reply', () => {
  it('waits for the NUL, then gives the text before it', () => {
    expect(takeReply(Buffer.from('stream: O'))).toBeUndefined();
    expect(takeReply(Buffer.from('stream: OK\0'))).toBe('stream: OK');
    expect(takeReply(Buffer.from('PONG\0trailing'))).toBe('PONG');
  });

  it('gives up on bytes that cannot be a clamd reply', () => {
    expect(() => takeReply(Buffer.alloc(MAX_REPLY_LENGTH + 1, 0x41))).toThrow(/no reply end/);
    expect(() => takeReply(Buffer.concat([Buffer.alloc(MAX_REPLY_LENGTH + 1, 0x41), Buffer.from([0])]))).toThrow(/longer/);
  });

  it('property: any bytes either wait, give a reply of at most the limit, or throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: MAX_REPLY_LENGTH + 50 }), (bytes) => {
        const buf = Buffer.from(bytes);
        let reply: string | undefined;
        try {
          reply = takeReply(buf);
        } catch (err) {
          expect((err as Error).message).toMatch(/reply/);
          return;
        }
        if (reply === undefined) expect(buf.includes(0)).toBe(false);
        else expect(reply.length).toBeLessThanOrEqual(MAX_REPLY_LENGTH);
      }),
    );
  });
});

describe('parseScanReply', () => {
  it.each([
    ['stream: OK', { kind: 'clean' }],
    ['stream: Eicar-Signature FOUND', { kind: 'infected', virus: 'Eicar-Signature' }],
    ['stream: Eicar-Test-Signature.UNOFFICIAL FOUND', { kind: 'infected', virus: 'Eicar-Test-Signature.UNOFFICIAL' }],
    ['3: stream: Win.Test.EICAR_HDB-1 FOUND', { kind: 'infected', virus: 'Win.Test.EICAR_HDB-1' }],
    ['stream: OK\n', { kind: 'clean' }],
    ['INSTREAM size limit exceeded. ERROR', { kind: 'error', message: 'INSTREAM size limit exceeded.', sizeLimit: true }],
    ["stream: Can't allocate memory ERROR", { kind: 'error', message: "Can't allocate memory", sizeLimit: false }],
    ['UNKNOWN COMMAND', { kind: 'unknown', text: 'UNKNOWN COMMAND' }],
    ['stream: FOUND', { kind: 'unknown', text: 'stream: FOUND' }],
    ['', { kind: 'unknown', text: '' }],
    ['stream: \u0001 FOUND', { kind: 'unknown', text: 'stream: \u0001 FOUND' }],
  ])('%j', (text, expected) => {
    expect(parseScanReply(text)).toEqual(expected);
  });

  it('property: never throws; infected names are one printable word; clean only for exactly OK', () => {
    const replyish = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.tuple(fc.constantFrom('', '1: ', '42: '), fc.constantFrom('stream: ', ''), fc.string({ maxLength: 40 }), fc.constantFrom(' FOUND', ' ERROR', '', ' OK')).map((p) => p.join('')),
    );
    fc.assert(
      fc.property(replyish, (text) => {
        const r = parseScanReply(text);
        if (r.kind === 'infected') {
          expect(r.virus).toMatch(/^[\x21-\x7e]+$/);
          expect(text).toContain(`${r.virus} FOUND`);
        }
        if (r.kind === 'clean') expect(text.replace(/^\d+: /, '').trim()).toBe('stream: OK');
        if (r.kind === 'error') expect(text.trimEnd().endsWith('ERROR')).toBe(true);
      }),
    );
  });

  it('property: a FOUND reply for any signature name gives that name back', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9._-]{1,60}$/), (name) => {
        expect(parseScanReply(`stream: ${name} FOUND`)).toEqual({ kind: 'infected', virus: name });
      }),
    );
  });
});

describe('PING and VERSION replies', () => {
  it('PONG', () => {
    expect(parsePing('PONG')).toBe(true);
    expect(parsePing('PONG\n')).toBe(true);
    expect(parsePing('PANG')).toBe(false);
  });

  it('VERSION with and without a database', () => {
    expect(parseVersion('ClamAV 1.4.6/27345/Mon Jul 21 08:00:00 2025')).toEqual({
      engine: '1.4.6',
      database: '27345',
      raw: 'ClamAV 1.4.6/27345/Mon Jul 21 08:00:00 2025',
    });
    expect(parseVersion('ClamAV 1.4.6')).toEqual({ engine: '1.4.6', raw: 'ClamAV 1.4.6' });
    expect(parseVersion('ClamAV')).toBeUndefined();
    expect(parseVersion('garbage')).toBeUndefined();
  });

  it('property: the VERSION parser never throws and only accepts what starts with "ClamAV "', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), (text) => {
        const v = parseVersion(text);
        if (v) expect(v.raw.startsWith('ClamAV ')).toBe(true);
      }),
    );
  });
});
