// The POP3 wire codec without sockets: the command line reader (RFC 2449's 255 octets), status lines,
// dot-stuffing with LF→CRLF (round trip through unstuff, independent of chunking) and TOP's cut.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommandLine, parseNumber } from '../../src/pop3/command-line.js';
import { uidl } from '../../src/pop3/uidl.js';
import { DotStuffer, LineReader, MAX_COMMAND_LINE, TopCutter, err, multiLine, ok, unstuff, type LineEvent } from '../../src/pop3/wire.js';

/** Splits bytes at the given cut points (chunking must not change any output). */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out;
}

function stuff(chunks: Buffer[]): Buffer {
  const s = new DotStuffer();
  return Buffer.concat([...chunks.map((c) => s.push(c)), s.end()]);
}

/** LF → CRLF where the LF is bare, and a final CRLF when missing: what a client gets back. */
function expectedBody(bytes: Buffer): Buffer {
  const text = bytes.toString('latin1').replace(/(?<!\r)\n/g, '\r\n');
  return Buffer.from(text === '' || text.endsWith('\r\n') ? text : text + '\r\n', 'latin1');
}

/** Message bytes with the lines that matter: dots, CRLF, bare LF, no bare CR (a CR is only kept before LF). */
const messageBytes = fc
  .array(fc.oneof(fc.constantFrom('.', '..', '\r\n', '\n', '.\r\n', '.\n', 'a', 'From x', ' ', '\t', '\u00e9'), fc.string({ maxLength: 8 }).map((s) => s.replace(/\r/g, ''))), { maxLength: 60 })
  .map((parts) => Buffer.from(parts.join(''), 'utf8'));

function lines(events: LineEvent[]): string[] {
  return events.map((e) => ('tooLong' in e ? '<too long>' : e.line.toString('latin1')));
}

describe('LineReader', () => {
  it('splits CRLF and bare LF lines, holds a partial one', () => {
    const r = new LineReader();
    expect(lines(r.push(Buffer.from('USER a\r\nPASS b\nST')))).toEqual(['USER a', 'PASS b']);
    expect(lines(r.push(Buffer.from('AT\r\n')))).toEqual(['STAT']);
  });

  it('takes exactly 255 octets with CRLF, refuses 256 once and resynchronises at the next line', () => {
    const r = new LineReader();
    const fits = 'X'.repeat(MAX_COMMAND_LINE - 2);
    expect(lines(r.push(Buffer.from(fits + '\r\n')))).toEqual([fits]);
    expect(lines(r.push(Buffer.from(fits + 'Y\r\nNOOP\r\n')))).toEqual(['<too long>', 'NOOP']);
    // A flood without a line end is reported once and never buffered.
    const flood = Buffer.alloc(100_000, 0x41);
    expect(lines(r.push(flood))).toEqual(['<too long>']);
    expect(lines(r.push(flood))).toEqual([]);
    expect(lines(r.push(Buffer.from('\r\nQUIT\r\n')))).toEqual(['QUIT']);
  });

  it('reset() drops what is buffered (STLS injection)', () => {
    const r = new LineReader();
    r.push(Buffer.from('USER inj'));
    r.reset();
    expect(lines(r.push(Buffer.from('ected\r\nCAPA\r\n')))).toEqual(['ected', 'CAPA']);
  });

  it('gives the same lines however the input is chunked', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 800 }), fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
        const whole = lines(new LineReader().push(Buffer.from(bytes)));
        const r = new LineReader();
        const parts = chunked(Buffer.from(bytes), cuts).flatMap((c) => lines(r.push(c)));
        expect(parts).toEqual(whole);
        for (const l of whole) if (l !== '<too long>') expect(Buffer.byteLength(l, 'latin1') + 2).toBeLessThanOrEqual(MAX_COMMAND_LINE);
      }),
      { numRuns: 500 },
    );
  });
});

describe('status lines and multi-line responses', () => {
  it('writes +OK / -ERR with a response code, on one line', () => {
    expect(ok()).toBe('+OK\r\n');
    expect(ok('2 320')).toBe('+OK 2 320\r\n');
    expect(err('Mailbox is locked.', 'IN-USE')).toBe('-ERR [IN-USE] Mailbox is locked.\r\n');
    expect(err('a\r\nb')).toBe('-ERR a b\r\n');
  });

  it('stuffs short lines and ends with a dot', () => {
    expect(multiLine(ok(), ['1 120', '.hidden'])).toBe('+OK\r\n1 120\r\n..hidden\r\n.\r\n');
  });
});

describe('DotStuffer', () => {
  it('doubles a leading dot, makes bare LF CRLF and terminates', () => {
    expect(stuff([Buffer.from('.a\n..b\r\nc')]).toString()).toBe('..a\r\n...b\r\nc\r\n.\r\n');
    expect(stuff([Buffer.from('x\n')]).toString()).toBe('x\r\n.\r\n');
    expect(stuff([]).toString()).toBe('.\r\n');
    expect(stuff([Buffer.from('\r\n.\r\n')]).toString()).toBe('\r\n..\r\n.\r\n');
  });

  it('round trip: unstuff(stuff(m)) is m in CRLF form, whatever the chunking; a lone "." never ends it early', () => {
    fc.assert(
      fc.property(messageBytes, fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const wire = stuff(chunked(bytes, cuts));
        expect(wire.equals(stuff([bytes]))).toBe(true);
        const back = unstuff(wire);
        expect(back.complete).toBe(true);
        expect(back.rest.length).toBe(0);
        expect(back.body.equals(expectedBody(bytes))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('counts the octets of the CRLF form (what LIST announced), stuffing dots not included', () => {
    fc.assert(
      fc.property(messageBytes, (bytes) => {
        const s = new DotStuffer();
        s.push(bytes);
        expect(s.octets).toBe(Buffer.from(bytes.toString('latin1').replace(/(?<!\r)\n/g, '\r\n'), 'latin1').length);
      }),
    );
  });
});

describe('TopCutter', () => {
  const message = 'Subject: x\r\nFrom: a\r\n\r\nline 1\r\nline 2\r\nline 3\r\n';
  const cut = (text: string, n: number, cuts: number[] = []): string => {
    const c = new TopCutter(n);
    return chunked(Buffer.from(text, 'latin1'), cuts)
      .map((chunk) => c.push(chunk).toString('latin1'))
      .join('');
  };

  it('sends the header, the blank line and n body lines', () => {
    expect(cut(message, 0)).toBe('Subject: x\r\nFrom: a\r\n\r\n');
    expect(cut(message, 1)).toBe('Subject: x\r\nFrom: a\r\n\r\nline 1\r\n');
    expect(cut(message, 1000)).toBe(message);
    expect(cut('Subject: x\nFrom: a\n\nbody\n', 0)).toBe('Subject: x\nFrom: a\n\n');
    // No blank line: all header.
    expect(cut('Subject: x\r\n', 0)).toBe('Subject: x\r\n');
  });

  it('cuts the same way however the input is chunked', () => {
    fc.assert(
      fc.property(messageBytes, fc.nat({ max: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (bytes, n, cuts) => {
        const text = bytes.toString('latin1');
        expect(cut(text, n, cuts)).toBe(cut(text, n));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('command lines', () => {
  it('parses a keyword case-insensitively and keeps the argument text (UTF-8 passwords)', () => {
    expect(parseCommandLine(Buffer.from('retr 1'))).toEqual({ keyword: 'RETR', args: '1' });
    expect(parseCommandLine(Buffer.from('PASS p\u00e4ss word'))).toEqual({ keyword: 'PASS', args: 'p\u00e4ss word' });
  });

  it('refuses NUL, control characters, an 8-bit keyword and an empty line', () => {
    expect(parseCommandLine(Buffer.from('US\0ER a'))).toHaveProperty('problem');
    expect(parseCommandLine(Buffer.from('USER \x01'))).toHaveProperty('problem');
    expect(parseCommandLine(Buffer.from([0xc3, 0xa9, 0x20, 0x41]))).toHaveProperty('problem');
    expect(parseCommandLine(Buffer.alloc(0))).toHaveProperty('problem');
  });

  it('reads message numbers strictly', () => {
    expect(parseNumber('12', 'message')).toEqual({ value: 12 });
    for (const bad of ['', '-1', '+1', '0x1', '1 ', ' 1', '1.0']) expect(parseNumber(bad, 'message')).toHaveProperty('problem');
    expect(parseNumber('99999999999999999999999', 'message')).toEqual({ problem: 'Message number too large: 99999999999999999999999' });
  });

  it('never throws on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const parsed = parseCommandLine(Buffer.from(bytes));
        if ('keyword' in parsed) expect(parsed.keyword).toMatch(/^[\x20-\x7e]*$/);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('uidl', () => {
  it("is Dovecot's %08Xu%08Xv (Dovecot's %X is lower-case hex)", () => {
    expect(uidl(1, 1700000000)).toBe('000000016553f100');
    expect(uidl(0xabc, 1)).toBe('00000abc00000001');
  });
});
