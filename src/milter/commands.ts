/** MTA → filter commands (SMFIC_*): typed values and pure encode/decode over bytes. */
import { Command } from './constants.js';
import { encodePacket, EMPTY, type Packet } from './packet.js';
import { cstrings, decodeRange, decodeText, PayloadError, readCString, splitStrings } from './text.js';

export type ConnectFamily = 'inet' | 'inet6' | 'unix' | 'unknown';

export type MilterCommand =
  | { readonly type: 'optneg'; readonly version: number; readonly actions: number; readonly protocol: number }
  | { readonly type: 'macro'; readonly stage: number; readonly macros: readonly (readonly [string, string])[] }
  | {
      readonly type: 'connect';
      readonly hostname: string;
      readonly family: ConnectFamily;
      readonly port: number;
      readonly address: string;
    }
  | { readonly type: 'helo'; readonly name: string }
  | { readonly type: 'mail'; readonly args: readonly string[] }
  | { readonly type: 'rcpt'; readonly args: readonly string[] }
  | { readonly type: 'data' }
  | { readonly type: 'header'; readonly name: string; readonly value: string }
  | { readonly type: 'eoh' }
  | { readonly type: 'body'; readonly chunk: Buffer }
  | { readonly type: 'bodyeob'; readonly chunk: Buffer }
  | { readonly type: 'abort' }
  | { readonly type: 'quit' }
  | { readonly type: 'quitNc' }
  | { readonly type: 'unknown'; readonly command: string };

export type CommandType = MilterCommand['type'];

const FAMILY_BYTE: Record<ConnectFamily, number> = { inet: 0x34, inet6: 0x36, unix: 0x4c, unknown: 0x55 };

export class UnknownCommandError extends PayloadError {
  constructor(readonly code: number) {
    super(`unknown command code 0x${code.toString(16).padStart(2, '0')}`);
  }
}

/**
 * Told what a command's payload lacked and was tolerated (a string without its final NUL, a macro
 * name without a value): a real MTA never sends these, so the server logs the first one.
 */
export type OddityNote = (what: string) => void;

const ignore: OddityNote = () => undefined;

/** True when the payload's last string lacks its NUL (an empty payload lacks it too). */
function unterminated(p: Buffer): boolean {
  return p.length === 0 || p[p.length - 1] !== 0;
}

export function decodeCommand(packet: Packet): MilterCommand {
  return decodeCommandNoting(packet, ignore);
}

/** decodeCommand, telling `note` what it tolerated (the server logs it; not part of the public API). */
export function decodeCommandNoting(packet: Packet, note: OddityNote): MilterCommand {
  const p = packet.payload;
  switch (packet.code) {
    case Command.OPTNEG:
      if (p.length < 12) throw new PayloadError(`OPTNEG payload of ${p.length} bytes, need 12`);
      return { type: 'optneg', version: p.readUInt32BE(0), actions: p.readUInt32BE(4), protocol: p.readUInt32BE(8) };
    case Command.MACRO:
      return decodeMacro(p, note);
    case Command.CONNECT:
      return decodeConnect(p, note);
    case Command.HELO:
      if (unterminated(p)) note('HELO name without its NUL');
      return { type: 'helo', name: decodeText(splitStrings(p)[0] ?? EMPTY) };
    case Command.MAIL: {
      const args = argv(p, 'MAIL');
      if (unterminated(p)) note('MAIL argument without its NUL');
      return { type: 'mail', args };
    }
    case Command.RCPT: {
      const args = argv(p, 'RCPT');
      if (unterminated(p)) note('RCPT argument without its NUL');
      return { type: 'rcpt', args };
    }
    case Command.DATA:
      return { type: 'data' };
    case Command.HEADER: {
      const nul = p.indexOf(0);
      if (nul === -1) throw new PayloadError('HEADER name: string not NUL-terminated');
      const end = p.indexOf(0, nul + 1);
      if (end === -1) note('HEADER value without its NUL');
      return { type: 'header', name: decodeRange(p, 0, nul), value: decodeRange(p, nul + 1, end === -1 ? p.length : end) };
    }
    case Command.EOH:
      return { type: 'eoh' };
    case Command.BODY:
      return { type: 'body', chunk: p };
    case Command.BODYEOB:
      return { type: 'bodyeob', chunk: p };
    case Command.ABORT:
      return { type: 'abort' };
    case Command.QUIT:
      return { type: 'quit' };
    case Command.QUIT_NC:
      return { type: 'quitNc' };
    case Command.UNKNOWN:
      if (unterminated(p)) note('UNKNOWN command without its NUL');
      return { type: 'unknown', command: decodeText(splitStrings(p)[0] ?? EMPTY) };
    default:
      throw new UnknownCommandError(packet.code);
  }
}

function argv(p: Buffer, what: string): string[] {
  const parts = splitStrings(p);
  if (parts.length === 0) throw new PayloadError(`${what} without an address`);
  return parts.map(decodeText);
}

function decodeMacro(p: Buffer, note: OddityNote): MilterCommand {
  if (p.length < 1) throw new PayloadError('MACRO without a stage byte');
  const macros: [string, string][] = [];
  // An odd count (a name without value) is tolerated: the last name is dropped.
  let at = 1;
  while (at < p.length) {
    let nul = p.indexOf(0, at);
    if (nul === -1) {
      note('macro name without its NUL (dropped)');
      break;
    }
    const name = decodeRange(p, at, nul);
    at = nul + 1;
    if (at >= p.length) {
      note(`macro ${name} without a value (dropped)`);
      break;
    }
    nul = p.indexOf(0, at);
    if (nul === -1) note(`macro ${name} value without its NUL`);
    const end = nul === -1 ? p.length : nul;
    macros.push([name, decodeRange(p, at, end)]);
    at = end + 1;
  }
  return { type: 'macro', stage: p[0]!, macros };
}

function decodeConnect(p: Buffer, note: OddityNote): MilterCommand {
  const [host, next] = readCString(p, 0, 'CONNECT host name');
  const hostname = decodeText(host);
  if (next >= p.length) return { type: 'connect', hostname, family: 'unknown', port: 0, address: '' };
  const familyByte = p[next]!;
  const family = (Object.keys(FAMILY_BYTE) as ConnectFamily[]).find((f) => FAMILY_BYTE[f] === familyByte);
  if (family === undefined) throw new PayloadError(`CONNECT with unknown address family 0x${familyByte.toString(16)}`);
  if (family === 'unknown') return { type: 'connect', hostname, family, port: 0, address: '' };
  if (p.length < next + 3) throw new PayloadError('CONNECT truncated before the port');
  const port = p.readUInt16BE(next + 1);
  if (unterminated(p.subarray(next + 3))) note('CONNECT address without its NUL');
  const address = decodeText(splitStrings(p.subarray(next + 3))[0] ?? EMPTY);
  return { type: 'connect', hostname, family, port, address };
}

export function encodeCommand(cmd: MilterCommand): Buffer {
  switch (cmd.type) {
    case 'optneg': {
      const b = Buffer.allocUnsafe(12);
      b.writeUInt32BE(cmd.version >>> 0, 0);
      b.writeUInt32BE(cmd.actions >>> 0, 4);
      b.writeUInt32BE(cmd.protocol >>> 0, 8);
      return encodePacket(Command.OPTNEG, b);
    }
    case 'macro':
      return macroPacket(cmd.stage, cmd.macros);
    case 'connect': {
      if (cmd.family === 'unknown') {
        return encodePacket(Command.CONNECT, Buffer.concat([cstrings(cmd.hostname), Buffer.from([FAMILY_BYTE.unknown])]));
      }
      const port = Buffer.allocUnsafe(3);
      port[0] = FAMILY_BYTE[cmd.family];
      port.writeUInt16BE(cmd.port & 0xffff, 1);
      return encodePacket(Command.CONNECT, Buffer.concat([cstrings(cmd.hostname), port, cstrings(cmd.address)]));
    }
    case 'helo':
      return stringsPacket(Command.HELO, [cmd.name]);
    case 'mail':
      return stringsPacket(Command.MAIL, cmd.args);
    case 'rcpt':
      return stringsPacket(Command.RCPT, cmd.args);
    case 'data':
      return encodePacket(Command.DATA);
    case 'header':
      return stringsPacket(Command.HEADER, [cmd.name, cmd.value]);
    case 'eoh':
      return encodePacket(Command.EOH);
    case 'body':
      return encodePacket(Command.BODY, cmd.chunk);
    case 'bodyeob':
      return encodePacket(Command.BODYEOB, cmd.chunk);
    case 'abort':
      return encodePacket(Command.ABORT);
    case 'quit':
      return encodePacket(Command.QUIT);
    case 'quitNc':
      return encodePacket(Command.QUIT_NC);
    case 'unknown':
      return stringsPacket(Command.UNKNOWN, [cmd.command]);
  }
}

/** A packet of NUL-terminated strings, built in one allocation (no intermediate buffers). */
function stringsPacket(code: number, strings: readonly string[]): Buffer {
  let len = 1;
  for (const str of strings) len += Buffer.byteLength(str) + 1;
  const out = Buffer.allocUnsafe(4 + len);
  out.writeUInt32BE(len, 0);
  out[4] = code;
  let o = 5;
  for (const str of strings) {
    o += out.write(str, o);
    out[o++] = 0;
  }
  return out;
}

function macroPacket(stage: number, macros: readonly (readonly [string, string])[]): Buffer {
  let len = 2;
  for (const [n, v] of macros) len += Buffer.byteLength(n) + Buffer.byteLength(v) + 2;
  const out = Buffer.allocUnsafe(4 + len);
  out.writeUInt32BE(len, 0);
  out[4] = Command.MACRO;
  out[5] = stage;
  let o = 6;
  for (const [n, v] of macros) {
    o += out.write(n, o);
    out[o++] = 0;
    o += out.write(v, o);
    out[o++] = 0;
  }
  return out;
}
