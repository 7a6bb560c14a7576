/**
 * The response encoder: Dovecot's quoted/literal choice (cases taken from Dovecot 2.3 ENVELOPE and LIST
 * output), status lines and codes, the batching writer's flushing and backpressure, streamed literals; and
 * round trips: arbitrary values (every byte, all Unicode) → encoder → our own reader and cursor → the same
 * values, so the encoder never writes anything a strict parser would refuse.
 */
import fc from 'fast-check';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ArgCursor } from '../../../src/imap/wire/cursor.js';
import {
  atom,
  encodeContinuation,
  encodeStatus,
  encodeUntagged,
  encodeValue,
  encodeValues,
  list,
  literal,
  needsLiteral,
  NIL,
  nstr,
  num,
  quoted,
  raw,
  ResponseWriter,
  str,
  streamed,
  writableSink,
  type ImapValue,
  type ResponseSink,
} from '../../../src/imap/wire/encoder.js';
import { frameOf } from './drive.js';

const text = (v: ImapValue): string => encodeValue(v).toString('latin1');

describe('values', () => {
  it('strings: quoted when plain, a literal for " \\ CR LF NUL or 8-bit (as Dovecot)', () => {
    expect(text(str('hello world'))).toBe('"hello world"');
    expect(text(str(''))).toBe('""');
    expect(text(str('x'.repeat(5000)))).toBe(`"${'x'.repeat(5000)}"`);
    expect(text(str('a\x01b\x7fc'))).toBe('"a\x01b\x7fc"');
    expect(text(str('x{3}'))).toBe('"x{3}"');
    expect(text(str('a"b'))).toBe('{3}\r\na"b');
    expect(text(str('a\\b'))).toBe('{3}\r\na\\b');
    expect(text(str('café'))).toBe('{5}\r\ncaf\xc3\xa9');
    expect(text(str('a\r\nb'))).toBe('{4}\r\na\r\nb');
    expect(text(str(Buffer.from([0])))).toBe('{1}\r\n\0');
  });

  it('quoted (mailbox names): escapes " and \\, literal only when it must', () => {
    expect(text(quoted('x\\y"z'))).toBe('"x\\\\y\\"z"');
    expect(text(quoted('a\nb'))).toBe('{3}\r\na\nb');
    expect(needsLiteral(Buffer.from('a"'), 'quoted')).toBe(false);
    expect(needsLiteral(Buffer.from('a"'), 'string')).toBe(true);
  });

  it('atoms, numbers, NIL, lists, raw, literals', () => {
    expect(text(list([atom('FLAGS'), list([atom('\\Seen'), atom('$Junk')]), num(7), num(2n ** 63n - 1n), NIL, nstr(null), nstr('a')]))).toBe(
      '(FLAGS (\\Seen $Junk) 7 9223372036854775807 NIL NIL "a")',
    );
    expect(text(list([]))).toBe('()');
    expect(text(raw('BODY[1]<0>'))).toBe('BODY[1]<0>');
    expect(text(literal('ab'))).toBe('{2}\r\nab');
    expect(encodeValues([num(1), atom('EXISTS')]).toString()).toBe('1 EXISTS');
    expect(() => encodeValue(num(-1))).toThrow(/not an IMAP number/);
    expect(() => encodeValue(num(1.5))).toThrow(/not an IMAP number/);
    expect(() => encodeValue(streamed(1, Readable.from([Buffer.from('x')])))).toThrow(/ResponseWriter.send/);
  });

  it('responses', () => {
    expect(encodeUntagged([num(3), atom('EXISTS')]).toString()).toBe('* 3 EXISTS\r\n');
    expect(encodeStatus('a1', 'OK', 'Done.').toString()).toBe('a1 OK Done.\r\n');
    expect(encodeStatus('a1', 'NO', 'Quota', { name: 'OVERQUOTA' }).toString()).toBe('a1 NO [OVERQUOTA] Quota\r\n');
    expect(encodeStatus('*', 'OK', 'x', { name: 'PERMANENTFLAGS', args: [list([atom('\\Seen'), atom('\\*')])] }).toString()).toBe(
      '* OK [PERMANENTFLAGS (\\Seen \\*)] x\r\n',
    );
    expect(encodeStatus('a', 'OK', 'Append completed.', { name: 'APPENDUID', args: '38505 3955' }).toString()).toBe('a OK [APPENDUID 38505 3955] Append completed.\r\n');
    expect(encodeStatus('a', 'BAD', 'bad\r\nline\0').toString()).toBe('a BAD bad  line \r\n');
    expect(encodeContinuation().toString()).toBe('+ OK\r\n');
    expect(encodeContinuation('idling').toString()).toBe('+ idling\r\n');
  });
});

/** A sink recording writes; full after `capacity` writes until drained. */
class TestSink implements ResponseSink {
  readonly writes: Buffer[] = [];
  full = false;
  drains = 0;
  constructor(private readonly fullAfter = Infinity) {}
  write(chunk: Buffer): boolean {
    this.writes.push(chunk);
    if (this.writes.length >= this.fullAfter) this.full = true;
    return !this.full;
  }
  async waitDrain(): Promise<void> {
    this.drains++;
    await new Promise((r) => setImmediate(r));
    this.full = false;
  }
  get all(): string {
    return Buffer.concat(this.writes).toString('latin1');
  }
}

describe('ResponseWriter', () => {
  it('batches untagged responses until a tagged one, a continuation or flush()', () => {
    const sink = new TestSink();
    const w = new ResponseWriter(sink);
    expect(w.untagged([num(1), atom('EXISTS')])).toBe(true);
    w.status('*', 'OK', 'untagged');
    expect(sink.writes).toHaveLength(0);
    expect(w.pending).toBeGreaterThan(0);
    w.status('a1', 'OK', 'done');
    expect(sink.writes).toHaveLength(1);
    expect(sink.all).toBe('* 1 EXISTS\r\n* OK untagged\r\na1 OK done\r\n');
    w.continuation();
    expect(sink.writes).toHaveLength(2);
    w.raw(Buffer.from('x'));
    w.flush();
    expect(w.bytesWritten).toBe(sink.all.length);
  });

  it('writes once the batch reaches its size', () => {
    const sink = new TestSink();
    const w = new ResponseWriter(sink, { batchBytes: 100 });
    for (let i = 0; i < 30; i++) w.untagged([num(i), atom('FETCH'), list([atom('FLAGS'), list([])])]);
    expect(sink.writes.length).toBeGreaterThan(3);
    expect(sink.writes.every((c) => c.length >= 100)).toBe(true);
  });

  it('reports backpressure and waits for drain', async () => {
    const sink = new TestSink(1);
    const w = new ResponseWriter(sink, { batchBytes: 10 });
    expect(w.untagged([atom('A'.repeat(20))])).toBe(false);
    expect(w.untagged([atom('B')])).toBe(false);
    await w.drained();
    expect(sink.drains).toBe(1);
    expect(w.untagged([atom('C')])).toBe(true);
    await w.drained();
    expect(sink.all).toBe(`* ${'A'.repeat(20)}\r\n* B\r\n* C\r\n`);
  });

  it('streams literals of the announced size, honouring backpressure', async () => {
    const sink = new TestSink(2);
    const w = new ResponseWriter(sink, { batchBytes: 4 });
    const body = Buffer.alloc(1000, 0x61);
    const chunks = [body.subarray(0, 300), body.subarray(300, 301), body.subarray(301)];
    await w.send('* 1 FETCH', [list([atom('UID'), num(5), raw('BODY[]'), streamed(1000, Readable.from(chunks)), atom('X')])]);
    w.flush();
    expect(sink.all).toBe(`* 1 FETCH (UID 5 BODY[] {1000}\r\n${'a'.repeat(1000)} X)\r\n`);
    expect(sink.drains).toBeGreaterThan(0);
  });

  it('refuses a stream of the wrong size (the caller must close the connection)', async () => {
    const w = new ResponseWriter(new TestSink());
    await expect(w.send('*', [streamed(3, Readable.from([Buffer.from('ab')]))])).rejects.toThrow(/1 octets short/);
    await expect(w.send('*', [streamed(1, Readable.from([Buffer.from('ab')]))])).rejects.toThrow(/longer than its announced 1/);
  });

  it('over a Node Writable', async () => {
    const out = new PassThrough({ highWaterMark: 16 });
    const got: Buffer[] = [];
    const w = new ResponseWriter(writableSink(out), { batchBytes: 8 });
    out.on('data', (d: Buffer) => got.push(d));
    for (let i = 0; i < 50; i++) if (!w.untagged([num(i), atom('EXISTS')])) await w.drained();
    w.status('t', 'OK', 'done');
    await w.drained();
    expect(Buffer.concat(got).toString()).toMatch(/^\* 0 EXISTS\r\n[\s\S]*\* 49 EXISTS\r\nt OK done\r\n$/);
  });
});

/** What a value should read back as through the cursor. */
type Plain = { s: string } | { n: string } | { a: string } | null | Plain[];

function plainOf(v: ImapValue): Plain {
  switch (v.kind) {
    case 'string':
    case 'quoted':
    case 'literal':
      return { s: Buffer.from(v.value).toString('hex') };
    case 'number':
      return { n: String(v.value) };
    case 'atom':
      return { a: v.value };
    case 'nil':
      return null;
    case 'list':
      return v.items.map(plainOf);
    default:
      throw new Error('not generated');
  }
}

/** Reads any value the encoder writes, with the cursor's primitives. */
function readAny(c: ArgCursor): Plain {
  if (c.atLiteral() || c.peek() === 0x22) return { s: c.stringBytes().toString('hex') };
  if (c.peek() === 0x28) return c.list(readAny);
  if (c.peek() >= 0x30 && c.peek() <= 0x39) return { n: String(c.number64()) };
  // Flags ("\\Seen") are atoms in responses but flag in the grammar: a backslash then an atom.
  const word = c.tryChar('\\') ? `\\${c.atom()}` : c.atom();
  return word === 'NIL' ? null : { a: word };
}

const valueArb: fc.Arbitrary<ImapValue> = fc.letrec<{ v: ImapValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ unit: 'binary', maxLength: 20 }).map(str),
    fc.uint8Array({ maxLength: 20 }).map((a) => str(Buffer.from(a))),
    fc.string({ unit: 'grapheme-ascii', maxLength: 20 }).map(quoted),
    fc.uint8Array({ maxLength: 8 }).map((a) => literal(Buffer.from(a))),
    fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(num),
    fc.constant(NIL),
    fc.stringMatching(/^(?:[A-MO-Za-z$][A-Za-z0-9.$-]{0,8}|\\[A-Za-z]{1,8})$/).map(atom),
    fc.array(tie('v'), { maxLength: 4 }).map(list),
  ),
})).v;

describe('round trips through our reader and cursor', () => {
  it('every value reads back as written', () => {
    fc.assert(
      fc.property(fc.array(valueArb, { minLength: 1, maxLength: 5 }), (values) => {
        const wire = Buffer.concat([Buffer.from('t X '), encodeValues(values), Buffer.from('\r\n')]);
        const c = new ArgCursor(frameOf(wire));
        const back: Plain[] = [];
        for (const _ of values) {
          c.sp();
          back.push(readAny(c));
        }
        c.end();
        expect(back).toEqual(values.map(plainOf));
      }),
      { numRuns: 2000, seed: 31337 },
    );
  });

  it('the writer writes exactly what the pure functions encode, whatever the batch size', () => {
    fc.assert(
      fc.property(fc.array(fc.array(valueArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 200 }), (responses, batchBytes) => {
        const sink = new TestSink();
        const w = new ResponseWriter(sink, { batchBytes });
        for (const r of responses) w.untagged(r);
        w.status('t', 'OK', 'done');
        const expected = Buffer.concat([...responses.map(encodeUntagged), encodeStatus('t', 'OK', 'done')]);
        expect(Buffer.concat(sink.writes)).toEqual(expected);
        expect(w.bytesWritten).toBe(expected.length);
      }),
      { numRuns: 500, seed: 6 },
    );
  });

  it('a quoted choice is always a valid quoted string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), fc.boolean(), (s, asQuoted) => {
        const out = encodeValue(asQuoted ? quoted(s) : str(s));
        if (out[0] !== 0x22) return;
        // QUOTED-CHAR: a TEXT-CHAR other than " and \, or \" or \\.
        const body = out.subarray(1, out.length - 1);
        for (let i = 0; i < body.length; i++) {
          const c = body[i]!;
          if (c === 0x5c) expect([0x22, 0x5c]).toContain(body[++i]);
          else expect(c >= 0x01 && c <= 0x7f && c !== 0x0d && c !== 0x0a && c !== 0x22).toBe(true);
        }
      }),
      { numRuns: 2000, seed: 5 },
    );
  });
});
