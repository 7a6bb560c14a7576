/**
 * Fuzzing (fast-check, fixed seeds): random and mutated packet streams against the pure decoder and
 * against a live MilterServer. Only FrameError / PayloadError may come out of the codec; the server
 * must survive every stream, close every session exactly once and still serve a normal session.
 */
import fc from 'fast-check';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULL_OFFER } from '../../src/mail/capabilities.js';
import { defineFilter } from '../../src/mail/define-filter.js';
import { ALL_ACTIONS } from '../../src/mail/filter.js';
import { CONTINUE, DISCARD, reject, SKIP, tempfail, type Reply } from '../../src/mail/reply.js';
import { MilterClient } from '../../src/milter/client.js';
import { encodeCommand } from '../../src/milter/commands.js';
import { decodeCommand } from '../../src/milter/commands.js';
import { Command } from '../../src/milter/constants.js';
import { encodePacket, FrameError, PacketDecoder } from '../../src/milter/packet.js';
import { decodeResponse, encodeResponse, type MilterResponse } from '../../src/milter/responses.js';
import { PayloadError } from '../../src/milter/text.js';
import { context } from './helpers.js';
import { captureLogger, POSTFIX_OPTNEG, postfixSession, startServer, until } from './wire-helpers.js';

const SEED = 20240611;

/** Packets of a valid Postfix-like session, OPTNEG first. */
const SESSION_PACKETS: Buffer[] = [POSTFIX_OPTNEG, ...postfixSession()].map(encodeCommand);

/** Packets of a valid filter answer stream (what an MTA reads). */
const RESPONSE_PACKETS: Buffer[] = (
  [
    { type: 'optneg', version: 6, actions: 0x1ff, protocol: 0x1742, macroLists: new Map([[0, 'j {client_addr}'], [5, 'i']]) },
    { type: 'continue' },
    { type: 'progress' },
    { type: 'replycode', text: '550-5.7.1 a\r\n550 5.7.1 b' },
    { type: 'skip' },
    { type: 'addHeader', name: 'X-A', value: 'v' },
    { type: 'insertHeader', index: 0, name: 'DKIM-Signature', value: ' v=1' },
    { type: 'changeHeader', index: 1, name: 'Subject', value: '' },
    { type: 'replaceBody', chunk: Buffer.from('new body\r\n') },
    { type: 'addRecipient', recipient: '<n@x>' },
    { type: 'addRecipientPar', recipient: '<n@x>', args: 'NOTIFY=NEVER' },
    { type: 'deleteRecipient', recipient: '<o@x>' },
    { type: 'changeSender', sender: '<f@x>', args: 'RET=HDRS' },
    { type: 'quarantine', reason: 'held' },
    { type: 'accept' },
  ] satisfies MilterResponse[]
).map(encodeResponse);

const INTERESTING_LENGTHS = [0, 1, 2, 3, 4, 5, 12, 13, 255, 256, 65535, 65536, 65537, 0x7fffffff, 0x80000000, 0xffffffff];

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'length'; packet: number; value: number }
  | { kind: 'code'; packet: number; value: number }
  | { kind: 'insert'; at: number; data: Uint8Array }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'dupPacket'; packet: number; to: number }
  | { kind: 'dropPacket'; packet: number };

const position = fc.nat({ max: 1_000_000 });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('set' as const), at: position, value: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: position }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('length' as const),
      packet: position,
      value: fc.oneof(fc.constantFrom(...INTERESTING_LENGTHS), fc.integer({ min: 0, max: 70000 })),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('code' as const),
      packet: position,
      value: fc.oneof(fc.constantFrom(...Object.values(Command)), fc.integer({ min: 0, max: 255 })),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: position, data: fc.uint8Array({ minLength: 1, maxLength: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: position, len: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('dupPacket' as const), packet: position, to: position }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('dropPacket' as const), packet: position }) },
);

/** Applies packet-level mutations to the packet list, then byte-level ones to the joined stream. */
function mutate(base: readonly Buffer[], mutations: readonly Mutation[]): Buffer {
  const packets = base.map((b) => Buffer.from(b));
  for (const m of mutations) {
    if (packets.length === 0) break;
    if (m.kind === 'length') packets[m.packet % packets.length]!.writeUInt32BE(m.value >>> 0, 0);
    else if (m.kind === 'code') packets[m.packet % packets.length]![4] = m.value;
    else if (m.kind === 'dupPacket') packets.splice(m.to % (packets.length + 1), 0, Buffer.from(packets[m.packet % packets.length]!));
    else if (m.kind === 'dropPacket') packets.splice(m.packet % packets.length, 1);
  }
  let s = Buffer.concat(packets);
  for (const m of mutations) {
    if (s.length === 0) break;
    switch (m.kind) {
      case 'flip':
        s[m.at % s.length]! ^= 1 << m.bit;
        break;
      case 'set':
        s[m.at % s.length] = m.value;
        break;
      case 'truncate':
        s = s.subarray(0, m.at % s.length);
        break;
      case 'insert': {
        const at = m.at % (s.length + 1);
        s = Buffer.concat([s.subarray(0, at), m.data, s.subarray(at)]);
        break;
      }
      case 'delete': {
        const at = m.at % s.length;
        s = Buffer.concat([s.subarray(0, at), s.subarray(at + m.len)]);
        break;
      }
      default:
        break;
    }
  }
  return s;
}

const mutatedSession = (base: readonly Buffer[]) =>
  fc.array(mutation, { minLength: 0, maxLength: 5 }).map((ms) => mutate(base, ms));

/** Streams of well-framed packets with random codes (weighted to real ones) and random payloads. */
const randomPackets = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...Object.values(Command), 0x63, 0x79, 0x69, 0x6d, 0x32, 0x65), fc.integer({ min: 0, max: 255 })),
      fc.uint8Array({ maxLength: 40 }),
    ),
    { maxLength: 10 },
  )
  .map((ps) => Buffer.concat(ps.map(([c, p]) => encodePacket(c, Buffer.from(p)))));

const randomBytes = fc.uint8Array({ maxLength: 120 }).map((a) => Buffer.from(a));

const chunking = fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 16 });

function isCodecError(err: unknown): boolean {
  return err instanceof FrameError || err instanceof PayloadError;
}

/** Feeds a stream in chunks; decodes every packet both ways. Throws anything that is not a codec error. */
function feed(stream: Buffer, chunks: readonly number[]): void {
  const dec = new PacketDecoder(65535);
  let at = 0;
  const sizes = [...chunks, stream.length];
  for (const n of sizes) {
    if (at >= stream.length) break;
    let packets;
    try {
      packets = dec.push(stream.subarray(at, at + n));
    } catch (err) {
      if (err instanceof FrameError) return; // unrecoverable by design: the connection closes
      throw err;
    }
    at += n;
    for (const p of packets) {
      if (p.payload.length > 65535) throw new Error(`packet of ${p.payload.length} bytes passed the limit`);
      for (const decode of [decodeCommand, decodeResponse]) {
        try {
          decode(p);
        } catch (err) {
          if (!isCodecError(err)) throw err;
        }
      }
    }
  }
}

describe('fuzz: PacketDecoder + decodeCommand/decodeResponse', () => {
  const counts = { mutatedSession: 0, mutatedResponses: 0, randomPackets: 0, randomBytes: 0 };

  it('mutated Postfix sessions (50,000)', () => {
    fc.assert(
      fc.property(mutatedSession(SESSION_PACKETS), chunking, (s, c) => {
        counts.mutatedSession++;
        feed(s, c);
      }),
      { seed: SEED, numRuns: 50_000, endOnFailure: true },
    );
  });

  it('mutated filter answer streams (15,000)', () => {
    fc.assert(
      fc.property(mutatedSession(RESPONSE_PACKETS), chunking, (s, c) => {
        counts.mutatedResponses++;
        feed(s, c);
      }),
      { seed: SEED + 1, numRuns: 15_000, endOnFailure: true },
    );
  });

  it('random well-framed packets (15,000)', () => {
    fc.assert(
      fc.property(randomPackets, chunking, (s, c) => {
        counts.randomPackets++;
        feed(s, c);
      }),
      { seed: SEED + 2, numRuns: 15_000, endOnFailure: true },
    );
  });

  it('random bytes (10,000)', () => {
    fc.assert(
      fc.property(randomBytes, chunking, (s, c) => {
        counts.randomBytes++;
        feed(s, c);
      }),
      { seed: SEED + 3, numRuns: 10_000, endOnFailure: true },
    );
  });

  afterAll(() => {
    const total = counts.mutatedSession + counts.mutatedResponses + counts.randomPackets + counts.randomBytes;
    // fast-check may run a property a little more than numRuns when it skips; never less
    expect(total).toBeGreaterThanOrEqual(90_000);
    console.log(`decoder fuzz: ${total} streams ${JSON.stringify(counts)}`);
  });
});

describe('fuzz: a live MilterServer', () => {
  const LIVE_STREAMS = 10_000;
  const CONCURRENCY = 50;
  const stats = { opens: 0, closes: 0, aborts: 0, eoms: 0, events: 0 };
  const log = captureLogger();

  const replies: Reply[] = [CONTINUE, CONTINUE, CONTINUE, reject(550, '5.7.1', '100% bad'), tempfail(), DISCARD, SKIP];
  /** A reply that depends on the input; anything containing "ok" continues (for the final normal session). */
  const pick = (s: string): Reply => (s.includes('ok') ? CONTINUE : replies[s.length % replies.length]!);
  const filter = defineFilter('fuzz', { actions: ALL_ACTIONS, skip: true, macros: { connect: ['j'] } }, () => {
    stats.opens++;
    return {
      connect: (info) => (stats.events++, pick(info.hostname)),
      helo: (name) => (stats.events++, pick(name)),
      mail: async (sender) => (stats.events++, pick(sender)),
      rcpt: (r) => {
        stats.events++;
        if (r.includes('!')) throw new Error('filter bug');
        return pick(r);
      },
      header: async (name, value, ctx) => {
        stats.events++;
        await ctx.progress();
        return pick(name + value);
      },
      body: (chunk) => (stats.events++, chunk.length % 5 === 0 ? SKIP : CONTINUE),
      endOfMessage: (ctx) => {
        stats.eoms++;
        return {
          reply: pick(ctx.macros.get('i') ?? ''),
          changes: [
            { kind: 'addHeader', name: 'X-Fuzz', value: 'a\r\nb' },
            { kind: 'insertHeader', index: 0, name: 'X-First', value: '1' },
            { kind: 'replaceBody', body: Buffer.alloc(70_000, 0x61) },
            { kind: 'addRecipient', recipient: '<n@x>', args: 'NOTIFY=NEVER' },
            { kind: 'quarantine', reason: 'fuzz' },
          ],
        };
      },
      unknown: () => {
        throw new Error('unknown fails');
      },
      abort: () => void stats.aborts++,
      close: () => void stats.closes++,
    };
  });

  let srv: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    srv = await startServer(filter, { logger: log.logger, timeout: 5 });
  });
  afterAll(async () => {
    await srv.close();
  });

  /** One connection: writes the stream, ends after the server has been quiet for a moment, waits for close. */
  function session(port: number, stream: Buffer): Promise<'closed' | 'hung'> {
    return new Promise((resolve) => {
      const s = connect({ port, host: '127.0.0.1', noDelay: true });
      let quiet: NodeJS.Timeout | undefined;
      const hang = setTimeout(() => {
        s.destroy();
        resolve('hung');
      }, 5000);
      const arm = () => {
        clearTimeout(quiet);
        quiet = setTimeout(() => s.end(), 10);
      };
      s.on('connect', () => {
        s.write(stream);
        arm();
      });
      s.on('data', arm);
      s.on('error', () => undefined);
      s.on('close', () => {
        clearTimeout(quiet);
        clearTimeout(hang);
        resolve('closed');
      });
    });
  }

  it(`survives ${LIVE_STREAMS} mutated sessions over as many connections, then serves a normal one`, async () => {
    const started = Date.now();
    const streams = fc.sample(
      fc.oneof(
        { weight: 8, arbitrary: mutatedSession(SESSION_PACKETS) },
        { weight: 1, arbitrary: randomPackets.map((r) => Buffer.concat([SESSION_PACKETS[0]!, r])) },
        { weight: 1, arbitrary: randomBytes },
      ),
      { seed: SEED + 10, numRuns: LIVE_STREAMS },
    );
    expect(streams).toHaveLength(LIVE_STREAMS);
    let next = 0;
    let closed = 0;
    let hung = 0;
    const worker = async () => {
      while (next < streams.length) {
        const stream = streams[next++]!;
        if ((await session(srv.port, stream)) === 'closed') closed++;
        else hung++;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(hung).toBe(0);
    expect(closed).toBe(LIVE_STREAMS);
    // every connection ended on the server too, and every session was closed exactly once
    expect(await until(() => srv.server.connectionCount === 0, 5000)).toBe(true);
    expect(stats.closes).toBe(stats.opens);
    // no exception escaped into the connection loop
    expect(log.lines.filter((l) => String(l.msg).includes('internal error'))).toEqual([]);
    console.log(
      `live fuzz: ${LIVE_STREAMS} connections in ${Date.now() - started} ms;`,
      `${stats.opens} sessions, ${stats.events} events, ${stats.eoms} end-of-messages, ${stats.aborts} aborts,`,
      `${log.warns().length} warn lines`,
    );
    expect(stats.eoms).toBeGreaterThan(100); // deep enough to reach end of message often

    // a normal session still works
    const s = new MilterClient({ spec: `inet:${srv.port}@127.0.0.1` }).open();
    const caps = await s.negotiate(FULL_OFFER);
    expect(caps.skip).toBe(true);
    const ctx = context();
    ctx.store.set(Command.CONNECT, [['j', 'mx']]);
    expect(await s.connect({ hostname: 'ok.example', family: 'inet', address: '192.0.2.1', port: 25 }, ctx)).toEqual(CONTINUE);
    expect(await s.helo('ok.example', ctx)).toEqual(CONTINUE);
    expect(await s.mail('<ok@a>', [], ctx)).toEqual(CONTINUE);
    expect(await s.rcpt('<ok@b>', [], ctx)).toEqual(CONTINUE);
    expect(await s.data(ctx)).toEqual(CONTINUE);
    expect(await s.header('Subject', 'ok', ctx)).toEqual(CONTINUE);
    expect(await s.endOfHeaders(ctx)).toEqual(CONTINUE);
    expect(await s.body(Buffer.from('hi\r\n'), ctx)).toEqual(CONTINUE);
    const eom = await s.endOfMessage(ctx);
    expect(eom.reply).toEqual(CONTINUE);
    expect(eom.changes.map((c) => c.kind)).toEqual(['addHeader', 'insertHeader', 'addRecipient', 'quarantine', 'replaceBody']);
    expect(eom.changes[0]).toEqual({ kind: 'addHeader', name: 'X-Fuzz', value: 'a\nb' });
    s.close();
  }, 60_000);
});
