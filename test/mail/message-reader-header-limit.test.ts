/**
 * MessageReader with headerSizeLimit (Postfix's header_size_limit): the header text kept stays within the
 * limit, the body is exactly what a reader without a limit gets, and what is kept is the start of what
 * that reader keeps. Any bytes, any chunking.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageReader } from '../../src/mail/message-reader.js';
import type { Message } from '../../src/mail/message.js';

async function read(chunks: readonly Buffer[], limit?: number): Promise<{ message: Message; discarded: number }> {
  const reader = new MessageReader(undefined, {}, limit !== undefined ? { headerSizeLimit: limit } : {});
  for (const c of chunks) await reader.write(Buffer.from(c));
  const message = await reader.end();
  return { message, discarded: reader.discardedHeaderBytes };
}

async function body(m: Message): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of m.body.read(4096)) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

const fieldsOf = (m: Message): string[] => m.headers.all.map((h) => `${h.name}:${h.value}`);
/** Bytes of kept header text as the limit counts them: each line and its LF. */
const headerBytes = (m: Message): number => fieldsOf(m).reduce((n, f) => n + Buffer.byteLength(f) + 1, 0);

const LINE = fc.oneof(
  fc.stringMatching(/^X-[A-Za-z]{1,8}: [ -~]{0,120}$/),
  fc.stringMatching(/^[ \t][ -~]{0,80}$/),
  fc.stringMatching(/^X-Long: y{200,3000}$/),
  fc.constant(''),
  fc.stringMatching(/^[a-z ]{0,40}$/),
);

/** The bytes cut into pieces at the given points. */
function cut(bytes: Buffer, points: readonly number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of at) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

describe('MessageReader headerSizeLimit', () => {
  it('keeps at most the limit, the body whole, and a start of the unlimited headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(LINE, { maxLength: 60 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 4000 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (lines, crlf, limit, points) => {
          const bytes = Buffer.from(lines.join(crlf ? '\r\n' : '\n') + (crlf ? '\r\n' : '\n'), 'latin1');
          const chunks = cut(bytes, points);
          const free = await read(chunks);
          const bounded = await read(chunks, limit);
          expect(headerBytes(bounded.message)).toBeLessThanOrEqual(limit);
          expect((await body(bounded.message)).equals(await body(free.message))).toBe(true);
          const kept = fieldsOf(bounded.message);
          const all = fieldsOf(free.message);
          kept.forEach((f, i) => expect(i === kept.length - 1 ? all[i]!.startsWith(f) : all[i] === f).toBe(true));
          if (bounded.discarded === 0) expect(kept).toStrictEqual(all);
          else expect(headerBytes(free.message)).toBeGreaterThan(limit);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('drops a header line longer than the limit as it arrives, then reads on', async () => {
    const reader = new MessageReader(undefined, {}, { headerSizeLimit: 100 });
    await reader.write(Buffer.from('Subject: s\r\nX-Long: '));
    for (let i = 0; i < 100; i++) await reader.write(Buffer.alloc(1000, 0x79));
    await reader.write(Buffer.from('\r\n continued\r\nX-After: 1\r\n\r\nbody\r\n'));
    const m = await reader.end();
    expect(fieldsOf(m)).toStrictEqual(['Subject: s']);
    expect(reader.discardedHeaderBytes).toBeGreaterThan(100_000);
    expect((await body(m)).toString()).toBe('body\r\n');
  });

  it('takes a body line longer than the limit that starts the body as the body', async () => {
    const m = (await read([Buffer.from('Subject: s\r\n'), Buffer.alloc(500, 0x7a), Buffer.from('\r\nrest\r\n')], 100)).message;
    expect(fieldsOf(m)).toStrictEqual(['Subject: s']);
    expect((await body(m)).toString()).toBe(`${'z'.repeat(500)}\r\nrest\r\n`);
  });
});
