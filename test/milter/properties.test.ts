/** Property tests (fast-check, fixed seeds): codec identities and chunking independence. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Action, Capabilities } from '../../src/mail/filter.js';
import { canonicalMacroName } from '../../src/mail/macros.js';
import type { MacroRequest } from '../../src/mail/macros.js';
import { ALL_ACTIONS } from '../../src/mail/filter.js';
import { EVENT_STAGES, type EventStage } from '../../src/mail/stage.js';
import { decodeCommand, encodeCommand } from '../../src/milter/commands.js';
import { Command, ProtocolFlag } from '../../src/milter/constants.js';
import { MacroStore } from '../../src/milter/macro-store.js';
import {
  actionBits,
  capabilitiesFromBits,
  macroListsFor,
  negotiateAsFilter,
  NO_BIT,
  NR_BIT,
  protocolBits,
} from '../../src/milter/negotiation.js';
import { encodePacket, PacketDecoder, type Packet } from '../../src/milter/packet.js';
import { formatReplyText, replyFromText } from '../../src/milter/reply-code.js';
import { decodeResponse, encodeResponse } from '../../src/milter/responses.js';
import { formatConnectionSpec, parseConnectionSpec, type ConnectionSpec } from '../../src/milter/spec.js';
import { decodeText, encodeText } from '../../src/milter/text.js';
import { bytes, command, response, text, u32 } from './arbitraries.js';

const SEED = 0x6d696c74; // "milt"
const opts = (numRuns: number) => ({ seed: SEED, numRuns });

function decodeAll(stream: Buffer, chunks: readonly number[]): Packet[] {
  const dec = new PacketDecoder(1 << 20);
  const out: Packet[] = [];
  let at = 0;
  for (const n of chunks) {
    out.push(...dec.push(stream.subarray(at, at + n)));
    at += n;
  }
  out.push(...dec.push(stream.subarray(at)));
  return out;
}

const simplify = (ps: Packet[]) => ps.map((p) => [p.code, p.payload.toString('hex')]);

describe('codec identities', () => {
  it('decodeCommand(encodeCommand(c)) = c', () => {
    fc.assert(
      fc.property(command, (c) => {
        const packets = new PacketDecoder(1 << 20).push(encodeCommand(c));
        expect(packets).toHaveLength(1);
        expect(decodeCommand(packets[0]!)).toEqual(c);
      }),
      opts(3000),
    );
  });

  it('decodeResponse(encodeResponse(r)) = r', () => {
    fc.assert(
      fc.property(response, (r) => {
        const packets = new PacketDecoder(1 << 20).push(encodeResponse(r));
        expect(packets).toHaveLength(1);
        expect(decodeResponse(packets[0]!)).toEqual(r);
      }),
      opts(3000),
    );
  });

  it('encodeCommand is canonical: decode → encode gives the same bytes back', () => {
    fc.assert(
      fc.property(command, (c) => {
        const wire = encodeCommand(c);
        const [p] = new PacketDecoder(1 << 20).push(wire);
        expect(encodeCommand(decodeCommand(p!)).equals(wire)).toBe(true);
      }),
      opts(1000),
    );
  });

  it('text decoding is stable: decode ∘ encode ∘ decode = decode, for any bytes', () => {
    fc.assert(
      fc.property(bytes(40), (b) => {
        const s = decodeText(b);
        expect(decodeText(encodeText(s))).toBe(s);
      }),
      opts(3000),
    );
  });

  it('text that is valid UTF-8 round-trips byte for byte; other bytes one character per byte', () => {
    fc.assert(
      fc.property(bytes(40), (b) => {
        const s = decodeText(b);
        if (Buffer.from(s, 'utf8').equals(b)) return;
        expect(Buffer.from(s, 'latin1').equals(b)).toBe(true);
        expect(s.length).toBe(b.length);
      }),
      opts(3000),
    );
  });
});

describe('PacketDecoder is independent of how the stream is split', () => {
  const packet = fc.oneof(
    command.map(encodeCommand),
    response.map(encodeResponse),
    fc.tuple(fc.integer({ min: 0, max: 255 }), bytes(300)).map(([c, p]) => encodePacket(c, p)),
  );
  const stream = fc.array(packet, { minLength: 0, maxLength: 12 }).map((ps) => ({ parts: ps, all: Buffer.concat(ps) }));

  it('arbitrary split points', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 60 }), ({ parts, all }, chunks) => {
        const oneShot = new PacketDecoder(1 << 20).push(all);
        expect(oneShot).toHaveLength(parts.length);
        expect(simplify(decodeAll(all, chunks))).toEqual(simplify(oneShot));
      }),
      opts(2000),
    );
  });

  it('1-byte chunks', () => {
    fc.assert(
      fc.property(stream, ({ all }) => {
        const ones = new Array<number>(all.length).fill(1);
        expect(simplify(decodeAll(all, ones))).toEqual(simplify(new PacketDecoder(1 << 20).push(all)));
      }),
      opts(300),
    );
  });

  it('borrowed input (one reused read buffer, as net onread gives): same packets, none pointing into the buffer', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 60 }), ({ all }, chunks) => {
        const dec = new PacketDecoder(1 << 20, true);
        const shared = Buffer.alloc(64);
        const got: Packet[] = [];
        let at = 0;
        const feed = (n: number): void => {
          // Each read lands in the same bytes, then they are scribbled over, as the next read would.
          for (let off = 0; off < n; ) {
            const len = Math.min(shared.length, n - off);
            all.copy(shared, 0, at + off, at + off + len);
            got.push(...dec.push(shared.subarray(0, len)));
            shared.fill(0xee);
            off += len;
          }
          at += n;
        };
        for (const n of chunks) feed(Math.min(n, all.length - at));
        feed(all.length - at);
        expect(simplify(got)).toEqual(simplify(new PacketDecoder(1 << 20).push(all)));
        expect(dec.pending).toBe(0);
      }),
      opts(2000),
    );
  });

  it('coalesced with the next stream: leftovers are kept in `pending`', () => {
    fc.assert(
      fc.property(stream, fc.integer({ min: 1, max: 4 }), fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 20 }), ({ all }, cut, chunks) => {
        // a truncated stream: everything but the last `cut` bytes
        if (all.length < cut) return;
        const dec = new PacketDecoder(1 << 20);
        const head = all.subarray(0, all.length - cut);
        let at = 0;
        const got: Packet[] = [];
        for (const n of chunks) {
          got.push(...dec.push(head.subarray(at, at + n)));
          at = Math.min(head.length, at + n);
        }
        got.push(...dec.push(head.subarray(at)));
        const whole = new PacketDecoder(1 << 20).push(all);
        expect(got).toHaveLength(whole.length - 1);
        expect(dec.pending).toBe(whole[whole.length - 1]!.payload.length + 5 - cut);
        got.push(...dec.push(all.subarray(all.length - cut)));
        expect(simplify(got)).toEqual(simplify(whole));
        expect(dec.pending).toBe(0);
      }),
      opts(1000),
    );
  });
});

describe('reply text', () => {
  const line = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', '%', '-', '.', '5', 'é', ':'), maxLength: 30 });
  it('replyFromText(formatReplyText(code, ext, lines)) gives them back (% unescaped)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(4, 5),
        fc.integer({ min: 0, max: 99 }),
        fc.integer({ min: 0, max: 999 }),
        fc.integer({ min: 0, max: 999 }),
        fc.array(line, { minLength: 1, maxLength: 5 }),
        (klass, rest, sub, detail, lines) => {
          const code = klass * 100 + rest;
          const ext = `${klass}.${sub}.${detail}`;
          const r = replyFromText(formatReplyText(code, ext, lines));
          expect(r).toEqual({
            status: klass === 5 ? 'reject' : 'tempfail',
            code,
            enhancedCode: ext,
            text: lines.length === 1 ? lines[0] : lines,
          });
        },
      ),
      opts(2000),
    );
  });
});

describe('connection specs', () => {
  const host = fc.oneof(
    fc.ipV4(),
    fc.ipV6(),
    fc.domain(),
  );
  it('parse ∘ format is the identity', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), host, fc.string({ minLength: 1, maxLength: 30 }), (port, h, path) => {
        const inet: ConnectionSpec = { type: 'inet', port, host: h, family: h.includes(':') ? 6 : 4 };
        expect(parseConnectionSpec(formatConnectionSpec(inet))).toEqual(inet);
        const unix: ConnectionSpec = { type: 'unix', path };
        expect(parseConnectionSpec(formatConnectionSpec(unix))).toEqual(unix);
      }),
      opts(1000),
    );
  });
});

describe('negotiation', () => {
  const stageSet = (from: readonly EventStage[]) => fc.subarray([...from]).map((s) => new Set(s));
  const macroName = fc.stringMatching(/^(?:[a-z_]|\{[a-z_]{2,12}\})$/);
  const macros: fc.Arbitrary<MacroRequest> = fc.record(
    {
      connect: fc.array(macroName, { minLength: 1, maxLength: 4 }),
      helo: fc.array(macroName, { minLength: 1, maxLength: 4 }),
      mail: fc.array(macroName, { minLength: 1, maxLength: 4 }),
      rcpt: fc.array(macroName, { minLength: 1, maxLength: 4 }),
      data: fc.array(macroName, { minLength: 1, maxLength: 4 }),
      endOfHeaders: fc.array(macroName, { minLength: 1, maxLength: 4 }),
      endOfMessage: fc.array(macroName, { minLength: 1, maxLength: 4 }),
    },
    { requiredKeys: [] },
  );
  const capabilities: fc.Arbitrary<Capabilities> = fc.record({
    version: fc.constant(6),
    actions: fc.subarray([...ALL_ACTIONS]).map((a) => new Set<Action>(a)),
    stages: stageSet(EVENT_STAGES.filter((s) => s !== 'endOfMessage')).map((s) => new Set([...s, 'endOfMessage' as const])),
    noReply: stageSet(EVENT_STAGES.filter((s) => NR_BIT[s] !== undefined)),
    skip: fc.boolean(),
    rejectedRecipients: fc.boolean(),
    leadingSpace: fc.boolean(),
    maxDataSize: fc.constantFrom(65535 as const, 262143 as const, 1048575 as const),
    macros,
  });

  it('capabilitiesFromBits ∘ (actionBits, protocolBits, macroListsFor) is the identity', () => {
    fc.assert(
      fc.property(capabilities, (c) => {
        const back = capabilitiesFromBits({
          version: c.version,
          actions: actionBits(c.actions),
          protocol: protocolBits(c),
          macroLists: macroListsFor(c.macros),
        });
        expect(back).toEqual(c);
      }),
      opts(1000),
    );
  });

  it('protocolBits ∘ capabilitiesFromBits is the identity on v6 protocol values', () => {
    const mds = fc.constantFrom(0, ProtocolFlag.MDS_256K, ProtocolFlag.MDS_1M);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x1fffff }), mds, (p, m) => {
        const protocol = p | m;
        expect(protocolBits(capabilitiesFromBits({ version: 6, actions: 0, protocol, macroLists: new Map() }))).toBe(protocol);
      }),
      opts(2000),
    );
  });

  it('negotiateAsFilter never requests more than offered and accounts for every wanted bit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), u32, capabilities, (version, offered, wanted) => {
        const mta = { version, actions: 0x1ff, protocol: offered };
        const n = negotiateAsFilter(mta, wanted);
        const offeredProtocol = offered === 0 ? 0x3f : offered;
        expect(n.reply.protocol & ~offeredProtocol).toBe(0);
        expect(n.reply.version).toBe(Math.min(6, version));
        expect(n.reply.actions).toBe(actionBits(wanted.actions));
        for (const s of EVENT_STAGES) {
          const no = NO_BIT[s];
          if (no !== undefined && !wanted.stages.has(s)) {
            // left out on the wire, or answered locally
            expect((n.reply.protocol & no) !== 0 || n.unwanted.has(s)).toBe(true);
          }
          if (wanted.noReply.has(s)) expect(n.noReply.has(s) !== n.fakeNoReply.has(s)).toBe(true);
          else expect(n.noReply.has(s) || n.fakeNoReply.has(s)).toBe(false);
        }
      }),
      opts(2000),
    );
  });
});

describe('MacroStore against a model', () => {
  const STAGES = [Command.CONNECT, Command.HELO, Command.MAIL, Command.RCPT, Command.DATA, Command.EOH, Command.BODYEOB];
  const names = ['j', '{j}', 'i', '{i}', '{client_addr}', 'client_addr', '_'];
  const op = fc.oneof(
    fc.record({
      kind: fc.constant('set' as const),
      stage: fc.constantFrom(...STAGES),
      pairs: fc.array(fc.tuple(fc.constantFrom(...names), text(5)), { maxLength: 4 }),
    }),
    fc.constant({ kind: 'clearMessage' as const }),
  );

  it('get() returns the last value of the newest stage holding the name', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const store = new MacroStore();
        const model: (readonly (readonly [string, string])[] | undefined)[] = new Array(7).fill(undefined);
        for (const o of ops) {
          if (o.kind === 'clearMessage') {
            store.clearMessage();
            for (let i = 2; i < 7; i++) model[i] = undefined;
            continue;
          }
          store.set(o.stage, o.pairs);
          const slot = STAGES.indexOf(o.stage);
          if (slot < 4) for (let i = slot + 1; i < 7; i++) model[i] = undefined;
          model[slot] = o.pairs;
        }
        for (const n of names) {
          let expected: string | undefined;
          for (let i = 6; i >= 0 && expected === undefined; i--) {
            for (const [k, v] of model[i] ?? []) if (canonicalMacroName(k) === canonicalMacroName(n)) expected = v;
          }
          expect(store.get(n)).toBe(expected);
        }
      }),
      opts(1000),
    );
  });
});
