/**
 * Test helpers for the command reader: feed chunks, answer literal announcements with a policy, and turn
 * events into plain comparable values (Buffers as hex, ParseError as its fields).
 */
import fc from 'fast-check';
import { CommandReader, type ReaderLimits } from '../../../src/imap/wire/reader.js';
import type { CommandFrame, LiteralAnnouncement, ReaderEvent } from '../../../src/imap/wire/frame.js';

export type Policy = (a: LiteralAnnouncement) => 'accept' | 'refuse';
export const acceptAll: Policy = () => 'accept';

/** An event, or the decision the driver took on an announcement. */
export type Step = ReaderEvent | { readonly type: 'decision'; readonly decision: 'accept' | 'refuse' };

export function drive(chunks: readonly Buffer[], policy: Policy = acceptAll, limits: Partial<ReaderLimits> = {}, reader = new CommandReader(limits)): Step[] {
  const steps: Step[] = [];
  const take = (events: ReaderEvent[]): void => {
    for (const e of events) {
      steps.push(e);
      if (e.type === 'literal') {
        const decision = policy(e.announcement);
        steps.push({ type: 'decision', decision });
        take(decision === 'accept' ? reader.accept() : reader.refuse());
      }
    }
  };
  for (const c of chunks) take(reader.feed(c));
  return steps;
}

/** The same as drive() in pull mode: push() each chunk, then next() until nothing is ready. */
export function pull(chunks: readonly Buffer[], policy: Policy = acceptAll, limits: Partial<ReaderLimits> = {}): Step[] {
  const reader = new CommandReader(limits);
  const steps: Step[] = [];
  for (const c of chunks) {
    reader.push(c);
    for (let e = reader.next(); e !== undefined; e = reader.next()) {
      steps.push(e);
      if (e.type === 'literal') {
        const decision = policy(e.announcement);
        steps.push({ type: 'decision', decision });
        if ((decision === 'accept' ? reader.accept(0) : reader.refuse(0)).length !== 0) throw new Error('events despite max 0');
      }
    }
  }
  return steps;
}

/** Splits `input` at the given points (any numbers; reduced modulo the length, sorted, deduplicated). */
export function split(input: Buffer, points: readonly number[]): Buffer[] {
  if (input.length === 0) return [input];
  const cuts = [...new Set(points.map((p) => p % (input.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of cuts) {
    if (c > from) out.push(input.subarray(from, c));
    from = Math.max(from, c);
  }
  if (from < input.length) out.push(input.subarray(from));
  return out;
}

/** Plain values: what the reader said, byte for byte. */
export function plain(steps: readonly Step[]): unknown[] {
  return steps.map((s) => {
    switch (s.type) {
      case 'decision':
        return s;
      case 'command':
        return { type: s.type, tag: s.frame.tag, name: s.frame.name, argsOffset: s.frame.argsOffset, size: s.frame.size, segments: s.frame.segments.map(seg) };
      case 'literal':
        return { type: s.type, ...s.announcement, segments: s.announcement.segments.map(seg) };
      case 'error':
        return { type: s.type, kind: s.error.kind, tag: s.error.tag, fatal: s.error.fatal, message: s.error.error.message, position: s.error.error.position, code: s.error.error.code };
    }
  });
}

function seg(s: { kind: string; offset: number; bytes?: Buffer; data?: Buffer; nonSync?: boolean }): unknown {
  return s.kind === 'text' ? { text: s.bytes!.toString('latin1'), at: s.offset } : { literal: s.data!.toString('hex'), at: s.offset, nonSync: s.nonSync };
}

export const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** The frame of one command (wire text, CRLF added), literals accepted. */
export function frameOf(wire: string | Buffer): CommandFrame {
  const bytes = typeof wire === 'string' ? b(wire.endsWith('\n') ? wire : `${wire}\r\n`) : wire;
  const steps = drive([bytes], () => 'accept', {}, new CommandReader());
  const f = steps.find((s) => s.type === 'command');
  if (f === undefined || f.type !== 'command') throw new Error(`no frame: ${JSON.stringify(steps)}`);
  return f.frame;
}


/** A client's command, in pieces: text, then maybe a literal whose bytes look like commands (tag EVIL). */
export interface Piece {
  readonly text: string;
  readonly literal?: { readonly data: Buffer; readonly nonSync: boolean };
}

/**
 * Plays a well-behaved client against a reader: each batch of bytes is fed in chunks cut by `cut`; after a
 * `{n}` marker the client sends the literal only if the reader announced it and the policy accepted it,
 * otherwise it abandons the command (it got, or will get, a tagged answer instead of "+").
 */
export function playClient(commands: readonly (readonly Piece[])[], policy: Policy, limits: object, cut: (bytes: Buffer) => Buffer[]): Step[] {
  const reader = new CommandReader(limits);
  const steps: Step[] = [];
  let lastDecision: 'accept' | 'refuse' | undefined;
  const send = (bytes: Buffer): void => {
    for (const chunk of cut(bytes)) {
      for (const e of reader.feed(chunk)) {
        steps.push(e);
        if (e.type === 'literal') {
          lastDecision = policy(e.announcement);
          steps.push({ type: 'decision', decision: lastDecision });
          steps.push(...(lastDecision === 'accept' ? reader.accept() : reader.refuse()));
        }
      }
    }
  };
  for (const [i, pieces] of commands.entries()) {
    let line = `c${i} `;
    let abandoned = false;
    for (const p of pieces) {
      line += p.text;
      if (p.literal === undefined) continue;
      const size = p.literal.data.length;
      lastDecision = undefined;
      send(b(`${line}{${size}${p.literal.nonSync ? '+' : ''}}\r\n`));
      line = '';
      if (!p.literal.nonSync && lastDecision !== 'accept') {
        abandoned = true;
        break;
      }
      send(p.literal.data);
    }
    if (!abandoned) send(b(`${line}\r\n`));
  }
  return steps;
}

export const evilLiteral = fc
  .tuple(fc.uint8Array({ maxLength: 12 }), fc.constantFrom('', '\r\nEVIL NOOP\r\n', '\nEVIL LOGIN {3+}\r\n', 'EVIL X\r\n'))
  .map(([bytes, evil]) => Buffer.concat([Buffer.from(bytes), b(evil)]));

export const pieceArb: fc.Arbitrary<Piece> = fc.record(
  {
    text: fc.constantFrom('NOOP', 'LOGIN ', 'APPEND INBOX ', 'X ', ' ', 'SELECT "a b"', 'FETCH 1:* (FLAGS)'),
    literal: fc.record({ data: evilLiteral, nonSync: fc.boolean() }),
  },
  { requiredKeys: ['text'] },
);

/** Every answerable outcome names a client tag; EVIL never appears. */
export function checkNoLiteralCommands(steps: readonly Step[]): void {
  for (const s of steps) {
    const tag = s.type === 'command' ? s.frame.tag : s.type === 'error' ? s.error.tag : s.type === 'literal' ? s.announcement.tag : undefined;
    if (tag !== undefined && !/^c\d+$/.test(tag)) throw new Error(`a literal's bytes were read as a command: ${tag}`);
    if (s.type === 'error' && s.error.tag === undefined) throw new Error('a literal\'s bytes were read as a line');
  }
}

