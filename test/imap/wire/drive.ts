/**
 * Test helpers for the command reader: feed chunks, answer literal announcements with a policy, and turn
 * events into plain comparable values (Buffers as hex, ParseError as its fields).
 */
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

