/**
 * Encode each stage once for all of a manager's children: the manager sends the same command with
 * the same macros to each child in turn, so the last packet built for each command type is kept and
 * handed out again while the same values come. Packets are never mutated once encoded (the socket
 * only reads them), so sharing one Buffer between children is safe.
 */
import { encodeCommand, type MilterCommand } from './commands.js';

type Cached = { readonly cmd: MilterCommand; readonly packet: Buffer };

/** The last packet per command type; body chunks are not kept (a reader may reuse its buffer). */
const last = new Map<MilterCommand['type'], Cached>();

/** The last macros + event pair joined into one write. */
let lastFramed: { macros: Buffer; event: Buffer; framed: Buffer } | undefined;

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when `b` encodes to the same bytes as `a` (same type); body-carrying commands never match. */
function sameCommand(a: MilterCommand, b: MilterCommand): boolean {
  switch (a.type) {
    case 'header':
      return b.type === 'header' && a.name === b.name && a.value === b.value;
    case 'helo':
      return b.type === 'helo' && a.name === b.name;
    case 'mail':
    case 'rcpt':
      return b.type === a.type && sameStrings(a.args, b.args);
    case 'connect':
      return (
        b.type === 'connect' && a.hostname === b.hostname && a.family === b.family && a.port === b.port && a.address === b.address
      );
    case 'unknown':
      return b.type === 'unknown' && a.command === b.command;
    case 'data':
    case 'eoh':
    case 'abort':
    case 'quit':
    case 'quitNc':
      return b.type === a.type;
    case 'bodyeob':
      return b.type === 'bodyeob' && a.chunk.length === 0 && b.chunk.length === 0;
    default:
      return false;
  }
}

/** The command's packet: the one built for the previous child when the values are the same. */
export function stagePacket(cmd: MilterCommand): Buffer {
  if (cmd.type === 'body' || cmd.type === 'macro' || cmd.type === 'optneg') return encodeCommand(cmd);
  const hit = last.get(cmd.type);
  if (hit !== undefined && sameCommand(hit.cmd, cmd)) return hit.packet;
  const packet = encodeCommand(cmd);
  last.set(cmd.type, { cmd, packet });
  return packet;
}

/** Macros and event in one buffer (one write), shared with the previous child when both are the same. */
export function framedPacket(macros: Buffer, event: Buffer): Buffer {
  const f = lastFramed;
  if (f !== undefined && f.macros === macros && f.event === event) return f.framed;
  const framed = Buffer.concat([macros, event], macros.length + event.length);
  lastFramed = { macros, event, framed };
  return framed;
}
