/** fast-check arbitraries for milter values that survive encode → decode unchanged. */
import fc from 'fast-check';
import type { ConnectFamily, MilterCommand } from '../../src/milter/commands.js';
import type { MilterResponse, SimpleResponseType } from '../../src/milter/responses.js';

/**
 * Strings as a milter peer can carry them: no NUL (it ends a string on the wire) and no lone
 * surrogate (UTF-8 cannot encode it). Any such string encodes as valid UTF-8 and so decodes back
 * unchanged (text decoding is UTF-8 when valid, Latin-1 otherwise).
 */
export const text = (maxLength = 24): fc.Arbitrary<string> =>
  fc
    .oneof(
      fc.string({ unit: 'binary-ascii', maxLength }),
      fc.string({ unit: 'binary', maxLength }),
      fc.string({ unit: fc.constantFrom('é', 'ß', '€', '\n', '\t', ' ', '\r', '<', '>', '@', '%', '😀'), maxLength }),
    )
    .map((s) => s.replaceAll('\0', ''));

export const u32: fc.Arbitrary<number> = fc
  .tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }))
  .map(([hi, lo]) => hi * 0x10000 + lo);

export const bytes = (maxLength = 64): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));

const pairs = fc.array(fc.tuple(text(12), text(16)), { maxLength: 6 });

export const command: fc.Arbitrary<MilterCommand> = fc.oneof(
  fc.record({ type: fc.constant('optneg' as const), version: u32, actions: u32, protocol: u32 }),
  fc.record({ type: fc.constant('macro' as const), stage: fc.integer({ min: 0, max: 255 }), macros: pairs }),
  fc.record({
    type: fc.constant('connect' as const),
    hostname: text(),
    family: fc.constantFrom<ConnectFamily>('inet', 'inet6', 'unix'),
    port: fc.integer({ min: 0, max: 65535 }),
    address: text(),
  }),
  fc.record({
    type: fc.constant('connect' as const),
    hostname: text(),
    family: fc.constant<ConnectFamily>('unknown'),
    port: fc.constant(0),
    address: fc.constant(''),
  }),
  fc.record({ type: fc.constant('helo' as const), name: text() }),
  fc.record({ type: fc.constant('mail' as const), args: fc.array(text(), { minLength: 1, maxLength: 5 }) }),
  fc.record({ type: fc.constant('rcpt' as const), args: fc.array(text(), { minLength: 1, maxLength: 5 }) }),
  fc.record({ type: fc.constant('header' as const), name: text(), value: text(40) }),
  fc.record({ type: fc.constant('body' as const), chunk: bytes(200) }),
  fc.record({ type: fc.constant('bodyeob' as const), chunk: bytes(20) }),
  fc.record({ type: fc.constant('unknown' as const), command: text() }),
  fc.constantFrom<MilterCommand>({ type: 'data' }, { type: 'eoh' }, { type: 'abort' }, { type: 'quit' }, { type: 'quitNc' }),
);

const SIMPLE: SimpleResponseType[] = ['continue', 'accept', 'reject', 'tempfail', 'discard', 'skip', 'progress', 'shutdown', 'connFail'];

export const response: fc.Arbitrary<MilterResponse> = fc.oneof(
  fc.record({
    type: fc.constant('optneg' as const),
    version: u32,
    actions: u32,
    protocol: u32,
    macroLists: fc.uniqueArray(fc.tuple(u32, text(30)), { selector: (t) => t[0], maxLength: 7 }).map((l) => new Map(l)),
  }),
  fc.constantFrom(...SIMPLE).map((type) => ({ type })),
  fc.record({ type: fc.constant('replycode' as const), text: text(60) }),
  fc.record({ type: fc.constant('quarantine' as const), reason: text() }),
  fc.record({ type: fc.constant('addHeader' as const), name: text(), value: text(40) }),
  fc.record({ type: fc.constantFrom('insertHeader' as const, 'changeHeader' as const), index: u32, name: text(), value: text(40) }),
  fc.record({ type: fc.constant('replaceBody' as const), chunk: bytes(200) }),
  fc.record({ type: fc.constantFrom('addRecipient' as const, 'deleteRecipient' as const), recipient: text() }),
  fc.record({ type: fc.constant('addRecipientPar' as const), recipient: text(), args: text() }),
  fc.record({ type: fc.constant('changeSender' as const), sender: text(), args: text() }),
);

