import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeEnvelope, encodeEnvelope, QueueFileError, type Envelope } from '../../src/queue/queue-file.js';
import { QUEUE_ID, queueIdGenerator } from '../../src/queue/id.js';

const notify = fc.oneof(
  fc.constant(undefined),
  fc.constant('NEVER' as const),
  fc.uniqueArray(fc.constantFrom('SUCCESS' as const, 'FAILURE' as const, 'DELAY' as const), { maxLength: 3 }),
);
const recipient = fc.record(
  { address: fc.string({ unit: 'grapheme' }), original: fc.string(), orcpt: fc.string(), notify },
  { requiredKeys: ['address', 'original'] },
);
const envelope: fc.Arbitrary<Envelope> = fc
  .record(
    {
      id: fc.stringMatching(/^[0-9A-Z]{10,20}$/),
      sender: fc.string({ unit: 'grapheme' }),
      recipients: fc.array(recipient, { minLength: 1, maxLength: 5 }),
      ret: fc.constantFrom('FULL' as const, 'HDRS' as const),
      envid: fc.string(),
      client: fc.string(),
      arrival: fc.integer({ min: 0, max: 2 ** 45 }),
    },
    { requiredKeys: ['id', 'sender', 'recipients', 'client', 'arrival'] },
  )
  // JSON drops undefined values: compare against what a round trip can keep.
  .map((e) => JSON.parse(JSON.stringify(e)) as Envelope);

describe('queue file codec', () => {
  it('decodes what it encodes, and the message starts right after the envelope', () => {
    fc.assert(
      fc.property(envelope, fc.uint8Array({ maxLength: 300 }), (env, body) => {
        const head = encodeEnvelope(env);
        const file = Buffer.concat([head, Buffer.from(body)]);
        const d = decodeEnvelope(file);
        expect(d.envelope).toEqual(env);
        expect(d.bodyOffset).toBe(head.length);
        expect(file.subarray(d.bodyOffset)).toEqual(Buffer.from(body));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses every truncation of the envelope with a QueueFileError', () => {
    fc.assert(
      fc.property(envelope, fc.nat(), (env, cut) => {
        const head = encodeEnvelope(env);
        const n = cut % head.length;
        expect(() => decodeEnvelope(head.subarray(0, n))).toThrow(QueueFileError);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws anything but a QueueFileError on arbitrary bytes, with or without the magic line', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.uint8Array({ maxLength: 200 }), (magic, bytes) => {
        const buf = Buffer.concat([Buffer.from(magic ? 'MAILGATE-QUEUE 1\n' : ''), Buffer.from(bytes)]);
        try {
          decodeEnvelope(buf);
        } catch (err) {
          expect(err).toBeInstanceOf(QueueFileError);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses well-formed JSON that is not an envelope', () => {
    const bad = (json: string): Buffer => Buffer.from(`MAILGATE-QUEUE 1\n${Buffer.byteLength(json)}\n${json}\n`);
    expect(() => decodeEnvelope(bad('[]'))).toThrow(/not an object/);
    expect(() => decodeEnvelope(bad('{"id":"abc"}'))).toThrow(/queue id/);
    expect(() => decodeEnvelope(bad('{"id":"ABCDEFGHIJ","arrival":1,"recipients":[],"sender":"","client":""}'))).toThrow(/no recipients/);
    expect(() =>
      decodeEnvelope(bad('{"id":"ABCDEFGHIJ","arrival":1,"recipients":[{"address":"a","original":"a","notify":["NOPE"]}],"sender":"","client":""}')),
    ).toThrow(/NOTIFY/);
  });
});

describe('queue ids', () => {
  it('are [0-9A-Z]{10,}, unique, and ordered by time even within one millisecond', () => {
    const next = queueIdGenerator(() => 1_700_000_000_000);
    const ids = Array.from({ length: 5000 }, next);
    for (const id of ids) expect(id).toMatch(QUEUE_ID);
    expect(new Set(ids).size).toBe(ids.length);
    const prefixes = ids.map((id) => id.slice(0, 11));
    expect([...prefixes].sort()).toEqual(prefixes);
  });
});
