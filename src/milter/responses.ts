/** Filter → MTA responses (SMFIR_*): typed values and pure encode/decode over bytes. */
import { Response } from './constants.js';
import { encodePacket, type Packet } from './packet.js';
import { cstrings, decodeText, PayloadError, readCString, splitStrings } from './text.js';

export type SimpleResponseType =
  | 'continue'
  | 'accept'
  | 'reject'
  | 'tempfail'
  | 'discard'
  | 'skip'
  | 'progress'
  | 'shutdown'
  | 'connFail';

export type MilterResponse =
  | {
      readonly type: 'optneg';
      readonly version: number;
      readonly actions: number;
      readonly protocol: number;
      /** Macro lists by SMFIM_* stage id: space-separated names. */
      readonly macroLists: ReadonlyMap<number, string>;
    }
  | { readonly type: SimpleResponseType }
  | { readonly type: 'replycode'; readonly text: string }
  | { readonly type: 'quarantine'; readonly reason: string }
  | { readonly type: 'addHeader'; readonly name: string; readonly value: string }
  | { readonly type: 'insertHeader'; readonly index: number; readonly name: string; readonly value: string }
  | { readonly type: 'changeHeader'; readonly index: number; readonly name: string; readonly value: string }
  | { readonly type: 'replaceBody'; readonly chunk: Buffer }
  | { readonly type: 'addRecipient'; readonly recipient: string }
  | { readonly type: 'addRecipientPar'; readonly recipient: string; readonly args: string }
  | { readonly type: 'deleteRecipient'; readonly recipient: string }
  | { readonly type: 'changeSender'; readonly sender: string; readonly args: string };

export type ResponseType = MilterResponse['type'];

/** Responses that end a stage (as opposed to modifications, progress and quarantine). */
export const FINAL_RESPONSES: ReadonlySet<ResponseType> = new Set<ResponseType>([
  'continue',
  'accept',
  'reject',
  'tempfail',
  'discard',
  'skip',
  'replycode',
  'shutdown',
  'connFail',
]);

const SIMPLE: Record<SimpleResponseType, number> = {
  continue: Response.CONTINUE,
  accept: Response.ACCEPT,
  reject: Response.REJECT,
  tempfail: Response.TEMPFAIL,
  discard: Response.DISCARD,
  skip: Response.SKIP,
  progress: Response.PROGRESS,
  shutdown: Response.SHUTDOWN,
  connFail: Response.CONN_FAIL,
};
const SIMPLE_BY_CODE = new Map<number, SimpleResponseType>(
  (Object.entries(SIMPLE) as [SimpleResponseType, number][]).map(([t, c]) => [c, t]),
);
/** Pre-encoded packets for the payload-less responses: the hot path allocates nothing. */
const SIMPLE_PACKETS = new Map<SimpleResponseType, Buffer>(
  (Object.entries(SIMPLE) as [SimpleResponseType, number][]).map(([t, c]) => [t, encodePacket(c)]),
);

/** Decoded payload-less responses, shared (readonly, frozen): a continue allocates nothing. */
const SIMPLE_DECODED = new Map<number, MilterResponse>(
  [...SIMPLE_BY_CODE].map(([c, t]) => [c, Object.freeze({ type: t })]),
);

export class UnknownResponseError extends PayloadError {
  constructor(readonly code: number) {
    super(`unknown response code 0x${code.toString(16).padStart(2, '0')}`);
  }
}

export function decodeResponse(packet: Packet): MilterResponse {
  const p = packet.payload;
  const simple = SIMPLE_DECODED.get(packet.code);
  if (simple !== undefined) return simple;
  switch (packet.code) {
    case Response.OPTNEG:
      return decodeOptneg(p);
    case Response.REPLYCODE:
      return { type: 'replycode', text: decodeText(splitStrings(p)[0] ?? p) };
    case Response.QUARANTINE:
      return { type: 'quarantine', reason: decodeText(splitStrings(p)[0] ?? p) };
    case Response.ADDHEADER: {
      const [name, value] = nameValue(p, 0, 'ADDHEADER');
      return { type: 'addHeader', name, value };
    }
    case Response.INSHEADER:
    case Response.CHGHEADER: {
      if (p.length < 4) throw new PayloadError('header index missing');
      const index = p.readUInt32BE(0);
      const [name, value] = nameValue(p, 4, packet.code === Response.INSHEADER ? 'INSHEADER' : 'CHGHEADER');
      return { type: packet.code === Response.INSHEADER ? 'insertHeader' : 'changeHeader', index, name, value };
    }
    case Response.REPLBODY:
      return { type: 'replaceBody', chunk: p };
    case Response.ADDRCPT:
      return { type: 'addRecipient', recipient: firstString(p, 'ADDRCPT') };
    case Response.ADDRCPT_PAR: {
      const parts = splitStrings(p);
      if (parts.length === 0) throw new PayloadError('ADDRCPT_PAR without a recipient');
      return { type: 'addRecipientPar', recipient: decodeText(parts[0]!), args: decodeText(parts[1] ?? Buffer.alloc(0)) };
    }
    case Response.DELRCPT:
      return { type: 'deleteRecipient', recipient: firstString(p, 'DELRCPT') };
    case Response.CHGFROM: {
      const parts = splitStrings(p);
      if (parts.length === 0) throw new PayloadError('CHGFROM without a sender');
      return { type: 'changeSender', sender: decodeText(parts[0]!), args: decodeText(parts[1] ?? Buffer.alloc(0)) };
    }
    default:
      throw new UnknownResponseError(packet.code);
  }
}

function firstString(p: Buffer, what: string): string {
  const s = splitStrings(p)[0];
  if (s === undefined) throw new PayloadError(`${what} without an address`);
  return decodeText(s);
}

function nameValue(p: Buffer, offset: number, what: string): [string, string] {
  const [name, next] = readCString(p, offset, `${what} name`);
  const value = splitStrings(p.subarray(next))[0] ?? Buffer.alloc(0);
  return [decodeText(name), decodeText(value)];
}

function decodeOptneg(p: Buffer): MilterResponse {
  if (p.length < 12) throw new PayloadError(`OPTNEG reply of ${p.length} bytes, need 12`);
  const macroLists = new Map<number, string>();
  let offset = 12;
  while (offset < p.length) {
    if (p.length - offset < 4) throw new PayloadError('OPTNEG macro list truncated before its stage id');
    const stage = p.readUInt32BE(offset);
    const [names, next] = readCString(p, offset + 4, 'OPTNEG macro list');
    macroLists.set(stage, decodeText(names));
    offset = next;
  }
  return {
    type: 'optneg',
    version: p.readUInt32BE(0),
    actions: p.readUInt32BE(4),
    protocol: p.readUInt32BE(8),
    macroLists,
  };
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

export function encodeResponse(r: MilterResponse): Buffer {
  switch (r.type) {
    case 'optneg': {
      const parts = [u32(r.version), u32(r.actions), u32(r.protocol)];
      for (const [stage, names] of r.macroLists) parts.push(u32(stage), cstrings(names));
      return encodePacket(Response.OPTNEG, Buffer.concat(parts));
    }
    case 'replycode':
      return encodePacket(Response.REPLYCODE, cstrings(r.text));
    case 'quarantine':
      return encodePacket(Response.QUARANTINE, cstrings(r.reason));
    case 'addHeader':
      return encodePacket(Response.ADDHEADER, cstrings(r.name, r.value));
    case 'insertHeader':
      return encodePacket(Response.INSHEADER, Buffer.concat([u32(r.index), cstrings(r.name, r.value)]));
    case 'changeHeader':
      return encodePacket(Response.CHGHEADER, Buffer.concat([u32(r.index), cstrings(r.name, r.value)]));
    case 'replaceBody':
      return encodePacket(Response.REPLBODY, r.chunk);
    case 'addRecipient':
      return encodePacket(Response.ADDRCPT, cstrings(r.recipient));
    case 'addRecipientPar':
      return encodePacket(Response.ADDRCPT_PAR, r.args ? cstrings(r.recipient, r.args) : cstrings(r.recipient));
    case 'deleteRecipient':
      return encodePacket(Response.DELRCPT, cstrings(r.recipient));
    case 'changeSender':
      return encodePacket(Response.CHGFROM, r.args ? cstrings(r.sender, r.args) : cstrings(r.sender));
    default:
      return SIMPLE_PACKETS.get(r.type)!;
  }
}
