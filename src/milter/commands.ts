/** MTA → filter commands (SMFIC_*): typed values and pure encode/decode over bytes. */
import { Command } from './constants.js';
import { encodePacket, EMPTY, type Packet } from './packet.js';
import { cstrings, decodeText, PayloadError, readCString, splitStrings } from './text.js';

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

export function decodeCommand(packet: Packet): MilterCommand {
  const p = packet.payload;
  switch (packet.code) {
    case Command.OPTNEG:
      if (p.length < 12) throw new PayloadError(`OPTNEG payload of ${p.length} bytes, need 12`);
      return { type: 'optneg', version: p.readUInt32BE(0), actions: p.readUInt32BE(4), protocol: p.readUInt32BE(8) };
    case Command.MACRO:
      return decodeMacro(p);
    case Command.CONNECT:
      return decodeConnect(p);
    case Command.HELO:
      return { type: 'helo', name: decodeText(splitStrings(p)[0] ?? EMPTY) };
    case Command.MAIL:
      return { type: 'mail', args: argv(p, 'MAIL') };
    case Command.RCPT:
      return { type: 'rcpt', args: argv(p, 'RCPT') };
    case Command.DATA:
      return { type: 'data' };
    case Command.HEADER: {
      const [name, next] = readCString(p, 0, 'HEADER name');
      const value = splitStrings(p.subarray(next))[0] ?? EMPTY;
      return { type: 'header', name: decodeText(name), value: decodeText(value) };
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

function decodeMacro(p: Buffer): MilterCommand {
  if (p.length < 1) throw new PayloadError('MACRO without a stage byte');
  const parts = splitStrings(p.subarray(1));
  const macros: [string, string][] = [];
  // An odd count (a name without value) is tolerated: the last name is dropped.
  for (let i = 0; i + 1 < parts.length; i += 2) macros.push([decodeText(parts[i]!), decodeText(parts[i + 1]!)]);
  return { type: 'macro', stage: p[0]!, macros };
}

function decodeConnect(p: Buffer): MilterCommand {
  const [host, next] = readCString(p, 0, 'CONNECT host name');
  const hostname = decodeText(host);
  if (next >= p.length) return { type: 'connect', hostname, family: 'unknown', port: 0, address: '' };
  const familyByte = p[next]!;
  const family = (Object.keys(FAMILY_BYTE) as ConnectFamily[]).find((f) => FAMILY_BYTE[f] === familyByte);
  if (family === undefined) throw new PayloadError(`CONNECT with unknown address family 0x${familyByte.toString(16)}`);
  if (family === 'unknown') return { type: 'connect', hostname, family, port: 0, address: '' };
  if (p.length < next + 3) throw new PayloadError('CONNECT truncated before the port');
  const port = p.readUInt16BE(next + 1);
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
      return encodePacket(Command.MACRO, Buffer.concat([Buffer.from([cmd.stage]), cstrings(...cmd.macros.flat())]));
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
      return encodePacket(Command.HELO, cstrings(cmd.name));
    case 'mail':
      return encodePacket(Command.MAIL, cstrings(...cmd.args));
    case 'rcpt':
      return encodePacket(Command.RCPT, cstrings(...cmd.args));
    case 'data':
      return encodePacket(Command.DATA);
    case 'header':
      return encodePacket(Command.HEADER, cstrings(cmd.name, cmd.value));
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
      return encodePacket(Command.UNKNOWN, cstrings(cmd.command));
  }
}
