/**
 * The command reader, case by case: frames, line ends (CRLF and Dovecot's bare LF), `{n}` announcements
 * (accept, refuse), LITERAL+ (within, over the limit and dropped, past the discard cap and fatal), line and
 * command limits with resynchronisation, bad tags and names; then properties over generated command
 * streams: the same events however the input is chunked, and a literal's bytes never read as a command.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError, type CommandFrame } from '../../../src/imap/wire/frame.js';
import { ArgCursor } from '../../../src/imap/wire/cursor.js';
import { CommandReader, literalMarker, readerLimits } from '../../../src/imap/wire/reader.js';
import { acceptAll, b, checkNoLiteralCommands, drive, pieceArb, plain, playClient, pull, split, type Policy, type Step } from './drive.js';

function frames(steps: Step[]): CommandFrame[] {
  return steps.flatMap((s) => (s.type === 'command' ? [s.frame] : []));
}

function texts(f: CommandFrame): string[] {
  return f.segments.map((s) => (s.kind === 'text' ? s.bytes.toString('latin1') : `<${s.data.toString('latin1')}>`));
}

describe('frames', () => {
  it('cuts lines into commands with tag, upper-cased name and argument offset', () => {
    const steps = drive([b('a1 noop\r\nA2 LOGIN joe secret\r\n')]);
    expect(plain(steps)).toEqual([
      { type: 'command', tag: 'a1', name: 'NOOP', argsOffset: 7, size: 9, segments: [{ text: 'a1 noop', at: 0 }] },
      { type: 'command', tag: 'A2', name: 'LOGIN', argsOffset: 8, size: 21, segments: [{ text: 'A2 LOGIN joe secret', at: 0 }] },
    ]);
  });

  it('accepts a bare LF as a line end (as Dovecot does); a CR elsewhere stays in the text', () => {
    const f = frames(drive([b('a1 NOOP\na2 NOOP x\r\r\na3 X Y\rZ\r\n')]));
    expect(f.map((x) => texts(x)[0])).toEqual(['a1 NOOP', 'a2 NOOP x\r', 'a3 X Y\rZ']);
    expect(f[0]!.size).toBe(8);
  });

  it('pull mode gives the same events one at a time', () => {
    const input = b('a1 NOOP\r\na2 LOGIN {3}\r\njoe {1+}\r\nx\r\na3 X {2}\r\n\r\nlong line here\r\n');
    const policy: Policy = (a) => (a.size === 2 ? 'refuse' : 'accept');
    const limits = { maxLineLength: 12 };
    for (const cuts of [[], [3, 9, 14, 20, 21, 30], Array.from({ length: input.length }, (_, i) => i)]) {
      expect(plain(pull(split(input, cuts), policy, limits))).toEqual(plain(drive([input], policy, limits)));
    }
    const reader = new CommandReader();
    reader.push(b('a1 NOOP\r\na2 NOOP\r\n'));
    expect(reader.next()?.type).toBe('command');
    expect(reader.buffered).toBe(9);
    expect(reader.next()?.type).toBe('command');
    expect(reader.next()).toBeUndefined();
  });

  it('keeps the partial line until its end arrives', () => {
    const reader = new CommandReader();
    expect(reader.feed(b('a1 NO'))).toEqual([]);
    expect(reader.feed(b('OP\r'))).toEqual([]);
    const events = reader.feed(b('\n'));
    expect(events).toHaveLength(1);
    expect(reader.buffered).toBe(0);
  });

  it('does not pin the caller\'s buffer', () => {
    const chunk = b('a1 NOOP\r\n');
    const [e] = new CommandReader().feed(chunk);
    chunk.fill(0x41);
    expect(e!.type === 'command' && e!.frame.segments[0]!.kind === 'text' && e!.frame.segments[0]!.bytes.toString()).toBe('a1 NOOP');
  });
});

describe('synchronising literals', () => {
  it('announces {n} with the command so far and waits; accept reads exact bytes (NUL, CRLF, 8-bit)', () => {
    const reader = new CommandReader();
    const payload = Buffer.from([0x00, 0x0d, 0x0a, 0xff, 0x7b, 0x33, 0x7d, 0x0d, 0x0a]);
    const ev = reader.feed(b('A1 APPEND INBOX (\\Seen) {9}\r\n'));
    expect(ev).toHaveLength(1);
    expect(ev[0]!.type).toBe('literal');
    if (ev[0]!.type !== 'literal') return;
    expect(ev[0]!.announcement).toMatchObject({ tag: 'A1', name: 'APPEND', size: 9, index: 0, argsOffset: 9 });
    expect(ev[0]!.announcement.segments).toHaveLength(1);
    expect(reader.awaitingDecision).toBe(true);
    // Bytes arriving before the decision wait.
    expect(reader.feed(payload)).toEqual([]);
    expect(reader.buffered).toBe(9);
    expect(reader.feed(b('\r\n'))).toEqual([]);
    const done = reader.accept();
    expect(done).toHaveLength(1);
    const f = done[0]!.type === 'command' ? done[0]!.frame : undefined;
    expect(f?.segments.map((s) => s.kind)).toEqual(['text', 'literal', 'text']);
    const lit = f!.segments[1]!;
    expect(lit.kind === 'literal' && lit.data).toEqual(payload);
    expect(lit.offset).toBe('A1 APPEND INBOX (\\Seen) {9}\r\n'.length);
    expect(f!.segments[2]!.offset).toBe(lit.offset + 9);
    expect(f!.size).toBe('A1 APPEND INBOX (\\Seen) {9}\r\n'.length + 9 + 2);
  });

  it('refuse: the command ends and the next line is a new command', () => {
    const steps = drive([b('a1 APPEND INBOX {5}\r\na2 NOOP\r\n')], () => 'refuse');
    expect(steps.map((s) => s.type)).toEqual(['literal', 'decision', 'command']);
    expect(frames(steps)[0]!.tag).toBe('a2');
  });

  it('several literals in one command, and {0}', () => {
    const steps = drive([b('a LOGIN {3}\r\njoe {0}\r\n\r\n')]);
    expect(steps.map((s) => s.type)).toEqual(['literal', 'decision', 'literal', 'decision', 'command']);
    expect(texts(frames(steps)[0]!)).toEqual(['a LOGIN ', '<joe>', ' ', '<>', '']);
  });

  it('over the literal limit: refused by the reader itself with [TOOBIG], never announced', () => {
    const steps = drive([b('a1 APPEND INBOX {11}\r\na2 NOOP\r\n')], acceptAll, { maxLiteralSize: 10 });
    expect(plain(steps)[0]).toMatchObject({ type: 'error', kind: 'literal-too-big', tag: 'a1', code: 'TOOBIG', fatal: false, position: 16 });
    expect(frames(steps).map((f) => f.tag)).toEqual(['a2']);
  });

  it('a marker of absurd size is too big, not a number overflow', () => {
    const steps = drive([b('a1 APPEND INBOX {99999999999999999999}\r\na2 NOOP\r\n')]);
    expect(plain(steps)[0]).toMatchObject({ type: 'error', kind: 'literal-too-big', code: 'TOOBIG' });
    expect(frames(steps).map((f) => f.tag)).toEqual(['a2']);
  });

  it('{-1} and {} are not markers: plain text, one line', () => {
    expect(frames(drive([b('a1 X {-1}\r\na2 Y {}\r\n')])).map((f) => f.tag)).toEqual(['a1', 'a2']);
  });
});

describe('memory', () => {
  it('a literal or a line trickled in one-byte reads costs its size, not an object per read', () => {
    const size = 50_000;
    const reader = new CommandReader();
    const inner = reader as unknown as { literalBuf: Buffer; lineBuf: Buffer };
    reader.feed(b(`a1 X {${size}+}\r\n`));
    const payload = Buffer.alloc(size, 0x61);
    for (let i = 0; i < size - 1; i++) reader.feed(payload.subarray(i, i + 1));
    expect(inner.literalBuf.length).toBe(size);
    const line = b(` ${'z'.repeat(20_000)}\r\n`);
    reader.feed(payload.subarray(size - 1));
    for (let i = 0; i < line.length - 1; i++) reader.feed(line.subarray(i, i + 1));
    expect(inner.lineBuf.length).toBeLessThanOrEqual(2 * line.length);
    const [e] = reader.feed(line.subarray(line.length - 1));
    expect(e?.type === 'command' && e.frame.segments.map((x) => (x.kind === 'literal' ? x.data.length : x.bytes.length))).toEqual(['a1 X '.length, size, 20_001]);
    // A long line's buffer is let go once the line is over.
    expect(inner.lineBuf.length).toBe(0);
  });
});

describe('literal sinks (openLiteral)', () => {
  it('hands literal bytes to a sink as they come; the frame keeps the size', () => {
    const payload = Buffer.from('Subject: x\r\n\r\nbody \x00\xff\r\n', 'latin1');
    const wire = Buffer.concat([b(`a1 APPEND INBOX {${payload.length}}\r\n`), payload, b(` {3+}\r\nabc {2}\r\nxy\r\n`)]);
    for (const cuts of [[], [5, 40, 41], Array.from({ length: wire.length }, (_, i) => i)]) {
      const got = new Map<number, Buffer[]>();
      const starts: unknown[] = [];
      const reader = new CommandReader({}, {
        openLiteral: (start) => {
          starts.push(start);
          if (start.index === 2) return undefined; // the last one stays in the frame
          const parts: Buffer[] = [];
          got.set(start.index, parts);
          return (chunk) => parts.push(Buffer.from(chunk));
        },
      });
      const steps = drive(split(wire, cuts), acceptAll, {}, reader);
      const f = frames(steps)[0]!;
      expect(f.segments.filter((x) => x.kind === 'literal').map((x) => [x.size, x.sunk, x.data.toString('latin1')])).toEqual([
        [payload.length, true, ''],
        [3, true, ''],
        [2, false, 'xy'],
      ]);
      expect(Buffer.concat(got.get(0)!)).toEqual(payload);
      expect(Buffer.concat(got.get(1)!).toString()).toBe('abc');
      expect(starts).toEqual([
        { tag: 'a1', name: 'APPEND', size: payload.length, index: 0, nonSync: false },
        { tag: 'a1', name: 'APPEND', size: 3, index: 1, nonSync: true },
        { tag: 'a1', name: 'APPEND', size: 2, index: 2, nonSync: false },
      ]);
      const c = new ArgCursor(f);
      c.sp();
      c.atom();
      c.sp();
      expect(c.literalSegment()).toMatchObject({ sunk: true, size: payload.length });
    }
  });

  it('is not asked for literals of refused or bad commands', () => {
    let asked = 0;
    const reader = new CommandReader({ maxLiteralSize: 4 }, { openLiteral: () => (asked++, undefined) });
    drive([b('* X {3+}\r\nabc\r\na1 X {9+}\r\n123456789\r\na2 X {2}\r\n')], () => 'refuse', {}, reader);
    expect(asked).toBe(0);
  });
});

describe('LITERAL+', () => {
  it('reads {n+} without asking', () => {
    const steps = drive([b('a1 APPEND INBOX {3+}\r\nabc\r\n')], () => {
      throw new Error('asked');
    });
    expect(texts(frames(steps)[0]!)).toEqual(['a1 APPEND INBOX ', '<abc>', '']);
    expect(frames(steps)[0]!.segments[1]).toMatchObject({ nonSync: true });
  });

  it('over the limit: bytes read and dropped, BAD [TOOBIG] when the command ends, then in step again', () => {
    const big = 'x'.repeat(50) + '\r\nEVIL NOOP\r\n';
    const steps = drive([b(`a1 APPEND INBOX {${big.length}+}\r\n${big} {2+}\r\nzz\r\na2 NOOP\r\n`)], acceptAll, { maxLiteralSize: 10 });
    expect(plain(steps)).toMatchObject([
      { type: 'error', kind: 'literal-too-big', tag: 'a1', code: 'TOOBIG', fatal: false },
      { type: 'command', tag: 'a2' },
    ]);
  });

  it('a literal within the limits after an earlier error is dropped, even with no discard allowance (before login)', () => {
    const reader = new CommandReader({ maxLiteralSize: 8192, maxDiscardSize: 0 });
    const steps = drive([b('a1 LO(IN alice {5+}\r\nsecre\r\na2 NOOP\r\n')], acceptAll, {}, reader);
    expect(plain(steps)).toMatchObject([{ type: 'error', kind: 'bad-command', tag: 'a1', fatal: false }, { type: 'command', tag: 'a2' }]);
    expect(reader.dead).toBe(false);
  });

  it('past the discard cap because of the command total: fatal, and said so', () => {
    const reader = new CommandReader({ maxLiteralSize: 100, maxDiscardSize: 0, maxCommandSize: 40 });
    const steps = drive([b('a1 X {30+}\r\n'), b('x'.repeat(30)), b(' {30+}\r\n')], acceptAll, {}, reader);
    expect(plain(steps)).toMatchObject([{ type: 'error', kind: 'literal-overflow', fatal: true, message: 'command longer than 40 octets' }]);
  });

  it('past the discard cap: a fatal error at once, and nothing more is read', () => {
    const reader = new CommandReader({ maxLiteralSize: 10, maxDiscardSize: 100 });
    const steps = drive([b('a1 APPEND INBOX {101+}\r\n'), b('a2 NOOP\r\n')], acceptAll, {}, reader);
    expect(plain(steps)).toMatchObject([{ type: 'error', kind: 'literal-overflow', tag: 'a1', fatal: true, code: 'TOOBIG' }]);
    expect(reader.dead).toBe(true);
    expect(reader.feed(b('a3 NOOP\r\n'))).toEqual([]);
  });
});

describe('limits and bad input', () => {
  it('a line over the limit: an error with the tag, the rest skipped, the next line read', () => {
    const steps = drive([b(`a1 NOOP ${'x'.repeat(100)}\r\na2 NOOP\r\n`)], acceptAll, { maxLineLength: 20 });
    expect(plain(steps)).toMatchObject([
      { type: 'error', kind: 'line-too-long', tag: 'a1', fatal: false, position: 0 },
      { type: 'command', tag: 'a2' },
    ]);
  });

  it('exactly the limit is fine, one more is not (CR not counted)', () => {
    const limits = { maxLineLength: 10 };
    expect(drive([b('a1 NOOP xx\r\n')], acceptAll, limits)[0]!.type).toBe('command');
    expect(drive([b('a1 NOOP xx\n')], acceptAll, limits)[0]!.type).toBe('command');
    expect(drive([b('a1 NOOP xxx\r\n')], acceptAll, limits)[0]!.type).toBe('error');
  });

  it('a too long line ending in {n+}: the literal is still skipped, never read as commands', () => {
    const steps = drive([b(`a1 X ${'y'.repeat(200)} {12+}\r\nEVIL NOOP\r\n\r\na2 NOOP\r\n`)], acceptAll, { maxLineLength: 50 });
    expect(plain(steps)).toMatchObject([{ type: 'error', kind: 'line-too-long' }, { type: 'command', tag: 'a2' }]);
  });

  it('a too long line ending in a marker whose "{" was not kept counts as unknown size', () => {
    const digits = '0'.repeat(100) + '5';
    const reader = new CommandReader({ maxLineLength: 50, maxDiscardSize: 1000 });
    const steps = drive([b(`a1 X {${digits}+}\r\nhello\r\n`)], acceptAll, {}, reader);
    expect(plain(steps)).toMatchObject([{ type: 'error', kind: 'literal-overflow', fatal: true }]);
  });

  it('a command over the total limit: [TOOBIG]', () => {
    const early = drive([b('a1 X {5+}\r\n12345 {15+}\r\n123456789012345\r\na2 NOOP\r\n')], acceptAll, { maxCommandSize: 30 });
    expect(plain(early)).toMatchObject([{ type: 'error', kind: 'command-too-big', code: 'TOOBIG', position: 17 }, { type: 'command', tag: 'a2' }]);
    const steps = drive([b('a1 X {5+}\r\n12345 {5+}\r\n12345\r\na2 NOOP\r\n')], acceptAll, { maxCommandSize: 29 });
    expect(plain(steps)).toMatchObject([{ type: 'error', kind: 'command-too-big', code: 'TOOBIG', tag: 'a1' }, { type: 'command', tag: 'a2' }]);
  });

  it('bad tags answered untagged, missing names tagged (as Dovecot)', () => {
    const steps = drive([b('\r\n*x NOOP\r\nb{ NOOP\r\n+ NOOP\r\na1\r\na2 \r\na3 N(O\r\na4 {2}\r\na5 X\r\n')]);
    expect(plain(steps).map((s) => [(s as { kind?: string }).kind, (s as { tag?: string }).tag])).toEqual([
      ['bad-tag', undefined],
      ['bad-tag', undefined],
      ['bad-tag', undefined],
      ['bad-tag', undefined],
      ['bad-command', 'a1'],
      ['bad-command', 'a2'],
      ['bad-command', 'a3'],
      ['bad-command', 'a4'],
      [undefined, 'a5'],
    ]);
  });

  it('a bad command with {n+} literals is read to its end before the error', () => {
    const steps = drive([b('* X {11+}\r\nEVIL NOOP\r\n\r\na2 NOOP\r\n')]);
    expect(plain(steps)).toMatchObject([{ type: 'error', kind: 'bad-tag' }, { type: 'command', tag: 'a2' }]);
  });

  it('errors are ParseErrors with a position', () => {
    const steps = drive([b('a1 X {11}\r\n')], acceptAll, { maxLiteralSize: 10 });
    const e = steps[0]!;
    expect(e.type === 'error' && e.error.error).toBeInstanceOf(ParseError);
  });

  it('accept/refuse without a waiting literal is a programming error', () => {
    expect(() => new CommandReader().accept()).toThrow(/without a literal/);
    expect(() => new CommandReader().refuse()).toThrow(/without a literal/);
  });

  it('literalMarker', () => {
    expect(literalMarker(b('x {12}'))).toEqual({ size: 12, nonSync: false, length: 4 });
    expect(literalMarker(b('{0+}'))).toEqual({ size: 0, nonSync: true, length: 4 });
    expect(literalMarker(b('{0007}'))).toEqual({ size: 7, nonSync: false, length: 6 });
    expect(literalMarker(b('x {}'))).toBeUndefined();
    expect(literalMarker(b('x {+}'))).toBeUndefined();
    expect(literalMarker(b('x 12}'))).toBeUndefined();
    expect(literalMarker(b('12}'), true)).toEqual({ size: Infinity, nonSync: false, length: 3 });
    expect(readerLimits({ maxLiteralSize: 100, maxLineLength: 10 }).maxCommandSize).toBe(140);
  });
});

describe('properties', () => {
  const limits = { maxLiteralSize: 16, maxLineLength: 40, maxDiscardSize: 64 };
  const policy: Policy = (a) => (a.size % 3 === 1 ? 'refuse' : 'accept');

  it('the same events however the input is chunked; literal bytes never become commands', () => {
    fc.assert(
      fc.property(fc.array(fc.array(pieceArb, { maxLength: 4 }), { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 6 }), (commands, cuts) => {
        const whole = playClient(commands, policy, limits, (x) => [x]);
        const chunked = playClient(commands, policy, limits, (x) => split(x, cuts));
        const bytewise = playClient(commands, policy, limits, (x) => split(x, Array.from({ length: x.length }, (_, i) => i)));
        expect(plain(chunked)).toEqual(plain(whole));
        expect(plain(bytewise)).toEqual(plain(whole));
        checkNoLiteralCommands(whole);
        // One answer per command: a frame, an error, or a refused literal (the session answers it).
        const answers = whole.filter((s) => s.type === 'command' || s.type === 'error' || (s.type === 'decision' && s.decision === 'refuse'));
        const dead = whole.some((s) => s.type === 'error' && s.error.fatal);
        if (dead) expect(answers.length).toBeLessThanOrEqual(commands.length);
        else expect(answers.length).toBe(commands.length);
      }),
      { numRuns: 1500, seed: 424242 },
    );
  });
});
