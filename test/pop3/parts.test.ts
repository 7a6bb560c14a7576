// The session's pure parts: AUTH PLAIN responses, the CAPA list per state, the maildrop view (numbers, DELE
// marks, RSET, what UPDATE applies) and the RETR/TOP body writer with back-pressure.
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capabilityLines } from '../../src/pop3/capabilities.js';
import { Maildrop } from '../../src/pop3/maildrop.js';
import { writeMessageBody } from '../../src/pop3/message-stream.js';
import { decodePlainResponse } from '../../src/pop3/sasl-plain.js';
import { DotStuffer, TopCutter, unstuff } from '../../src/pop3/wire.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('decodePlainResponse', () => {
  it('takes [authzid] NUL authcid NUL password, = and *', () => {
    expect(decodePlainResponse(b64('\0alice\0pw d'))).toEqual({ kind: 'credentials', login: 'alice', password: 'pw d' });
    expect(decodePlainResponse(b64('alice\0alice\0p\u00e4ss'))).toEqual({ kind: 'credentials', login: 'alice', password: 'p\u00e4ss' });
    expect(decodePlainResponse('*')).toEqual({ kind: 'cancel' });
    expect(decodePlainResponse('=')).toMatchObject({ kind: 'bad', problem: 'Invalid PLAIN response.' });
  });

  it('refuses another authorization identity, bad base64 and any other shape', () => {
    expect(decodePlainResponse(b64('bob\0alice\0pw'))).toMatchObject({ kind: 'bad', login: 'alice' });
    for (const bad of ['abc', 'a b=', '!!!!', b64('alice\0pw'), b64('a\0b\0c\0d')]) expect(decodePlainResponse(bad).kind).toBe('bad');
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => void decodePlainResponse(s)));
  });
});

describe('capabilityLines', () => {
  const base = { implementation: 'Mailgate', secure: false, startTlsAvailable: true, loginAllowed: true };
  it('lists STLS, USER and SASL only before login and where usable', () => {
    expect(capabilityLines({ ...base, authorization: true })).toEqual(['CAPA', 'TOP', 'UIDL', 'RESP-CODES', 'PIPELINING', 'AUTH-RESP-CODE', 'STLS', 'USER', 'SASL PLAIN', 'IMPLEMENTATION Mailgate']);
    expect(capabilityLines({ ...base, authorization: true, loginAllowed: false })).not.toContain('USER');
    expect(capabilityLines({ ...base, authorization: true, secure: true })).not.toContain('STLS');
    expect(capabilityLines({ ...base, authorization: true, startTlsAvailable: false })).not.toContain('STLS');
    expect(capabilityLines({ ...base, authorization: false })).toEqual(['CAPA', 'TOP', 'UIDL', 'RESP-CODES', 'PIPELINING', 'AUTH-RESP-CODE', 'IMPLEMENTATION Mailgate']);
  });
});

describe('Maildrop', () => {
  const records = [
    { uid: 7, flags: [], modseq: 1, vsize: 70 },
    { uid: 3, flags: ['\\Deleted'], modseq: 1, vsize: 30 },
    { uid: 9, flags: ['\\Seen'], modseq: 1, vsize: 90 },
  ];
  it('numbers by UID, counts deleted marks out of STAT, and RSET forgets marks and retrievals', () => {
    const d = new Maildrop(records, 5);
    expect(d.live().map((m) => [m.number, m.uid, m.size])).toEqual([
      [1, 3, 30],
      [2, 7, 70],
      [3, 9, 90],
    ]);
    expect(d.stat()).toEqual({ count: 3, size: 190 });
    const two = d.get(2);
    if (!('message' in two)) throw new Error('message 2');
    d.delete(two.message);
    d.retrieved(two.message);
    expect(d.get(2)).toEqual({ problem: 'Message is deleted.' });
    expect(d.get(4)).toEqual({ problem: "There's no message 4." });
    expect(d.get(0)).toEqual({ problem: "There's no message 0." });
    expect(d.stat()).toEqual({ count: 2, size: 120 });
    expect(d.deletedUids()).toEqual([7]);
    expect(d.deletedSize).toBe(70);
    // Deleted messages are not flagged \Seen at UPDATE: they are gone.
    expect(d.seenUids()).toEqual([]);
    const one = d.get(1);
    if ('message' in one) d.retrieved(one.message);
    expect(d.seenUids()).toEqual([3]);
    d.reset();
    expect(d.deletedUids()).toEqual([]);
    expect(d.seenUids()).toEqual([]);
    expect(d.uidl(d.live()[0]!)).toBe('0000000300000005');
  });
});

describe('writeMessageBody', () => {
  it('writes what the codec writes for the whole message, waiting for drain whenever the sink is full', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ maxLength: 30 }), { maxLength: 20 }),
        fc.option(fc.nat({ max: 5 }), { nil: undefined }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }),
        async (parts, top, fullPattern) => {
          const chunks = parts.map((p) => Buffer.from(p.replace(/\r/g, '')));
          const out: Buffer[] = [];
          let writes = 0;
          let drains = 0;
          const octets = await writeMessageBody(Readable.from(chunks), top, {
            write: (b) => {
              out.push(b);
              return !fullPattern[writes++ % fullPattern.length];
            },
            drained: () => {
              drains++;
              return Promise.resolve();
            },
            gone: () => false,
          });
          const whole = Buffer.concat(chunks);
          const s = new DotStuffer();
          const cut = top === undefined ? whole : new TopCutter(top).push(whole);
          const expected = Buffer.concat([s.push(cut), s.end()]);
          expect(Buffer.concat(out).equals(expected)).toBe(true);
          expect(octets).toBe(s.octets);
          expect(unstuff(Buffer.concat(out)).complete).toBe(true);
          expect(drains).toBeLessThanOrEqual(writes);
        },
      ),
      { numRuns: 300 },
    );
  });
});
