/**
 * The DEFLATE layer of COMPRESS (src/imap/deflate-layer.ts) over an in-memory socket pair, with Node's zlib
 * as the client: round trips both ways (small and large, compressible and not), every write decodable at
 * once (sync-flushed: a client waiting for a reply is never left with bytes held back), the client's end
 * delivered after its last bytes (also those still queued when the socket closed), and corrupt input or a
 * failing compressor reported once with the socket destroyed, never thrown.
 */
import { randomBytes } from 'node:crypto';
import { constants, createDeflateRaw, createInflateRaw, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DeflateLayer } from '../../src/imap/deflate-layer.js';
import { duplexPair } from './harness/transcript.js';

function setup() {
  const [server, client] = duplexPair();
  const received: Buffer[] = [];
  const events: string[] = [];
  const errors: Error[] = [];
  const layer = new DeflateLayer(server, {
    data: (c) => received.push(c),
    end: () => events.push('end'),
    corrupt: (err) => errors.push(err),
    outputFailed: (err) => errors.push(err),
  });
  // The client's side: what it decodes, and the compressed chunks as they arrive.
  const inflate = createInflateRaw();
  const decoded: Buffer[] = [];
  const wire: Buffer[] = [];
  inflate.on('data', (c: Buffer) => decoded.push(c));
  client.on('data', (c: Buffer) => {
    wire.push(c);
    inflate.write(c);
  });
  const deflate = createDeflateRaw();
  deflate.on('data', (c: Buffer) => client.write(c));
  const send = (b: Buffer | string): void => {
    deflate.write(b);
    deflate.flush(constants.Z_SYNC_FLUSH);
  };
  return { server, client, layer, received, events, errors, decoded, wire, send, deflate };
}

async function waitFor(test: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const total = (bufs: Buffer[]): Buffer => Buffer.concat(bufs);
/** Octets in `bufs`, without joining them (polled every few ms while megabytes arrive). */
const size = (bufs: Buffer[]): number => bufs.reduce((n, c) => n + c.length, 0);

describe('DeflateLayer', () => {
  it('round-trips both ways, small and large, compressible and not', async () => {
    const t = setup();
    const text = Buffer.from('* 1 FETCH (FLAGS (\\Seen))\r\n'.repeat(40_000));
    const noise = randomBytes(300_000);
    const out = Buffer.concat([Buffer.from('a1 OK done\r\n'), text, noise]);
    // As the ResponseWriter writes: a small burst, then 64 kB batches.
    t.layer.write(out.subarray(0, 12));
    for (let at = 12; at < out.length; at += 65_536) if (!t.layer.write(out.subarray(at, at + 65_536))) await t.layer.waitDrain();
    await waitFor(() => size(t.decoded) === out.length, 'all output decoded');
    expect(total(t.decoded).equals(out)).toBe(true);
    expect(total(t.wire).length).toBeLessThan(out.length - text.length / 2);

    const cmd = Buffer.concat([Buffer.from('a2 APPEND INBOX {300000+}\r\n'), noise, Buffer.from('\r\n')]);
    t.send(cmd);
    t.send('a3 NOOP\r\n');
    const want = Buffer.concat([cmd, Buffer.from('a3 NOOP\r\n')]);
    await waitFor(() => size(t.received) === want.length, 'all input inflated');
    expect(total(t.received).equals(want)).toBe(true);
    expect(t.errors).toEqual([]);
    t.layer.destroy();
  });

  it('sync-flushes every write: each burst decodes at once, ending on the 00 00 FF FF marker', async () => {
    const t = setup();
    const bursts = ['+ idling\r\n', '* 2 EXISTS\r\n', '* OK Still here\r\n', 'a7 OK Idle completed.\r\n'];
    let expected = '';
    for (const burst of bursts) {
      const wireBefore = total(t.wire).length;
      t.layer.write(Buffer.from(burst));
      expected += burst;
      await waitFor(() => total(t.decoded).toString('latin1') === expected, `"${burst.trim()}" decoded`);
      const chunk = total(t.wire).subarray(wireBefore);
      expect(chunk.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff]))).toBe(true);
    }
    t.layer.destroy();
  });

  it('ends the socket after its last compressed bytes; the client\'s end comes after its last bytes', async () => {
    const t = setup();
    const clientEnded = new Promise<void>((resolve) => t.client.on('end', resolve));
    t.layer.write(Buffer.from('* BYE Logging out\r\n'));
    t.layer.end();
    await clientEnded;
    await waitFor(() => total(t.decoded).toString() === '* BYE Logging out\r\n', 'BYE decoded');

    const u = setup();
    u.send('a9 LOGOUT\r\n');
    // Its compressed bytes are on the wire (the deflater's 'data' turn after the flush), then the client ends.
    await new Promise<void>((resolve) => u.deflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    await new Promise((r) => setImmediate(r));
    u.client.end();
    await waitFor(() => u.events.includes('end'), 'end');
    expect(total(u.received).toString()).toBe('a9 LOGOUT\r\n');
    expect(u.errors).toEqual([]);
  });

  it('reports corrupt input once and destroys the socket, without throwing', async () => {
    const t = setup();
    const closed = new Promise<void>((resolve) => t.server.on('close', resolve));
    t.send('a1 NOOP\r\n');
    await waitFor(() => total(t.received).toString() === 'a1 NOOP\r\n', 'first command');
    // 0xff...: a block type of 3 (reserved) is never valid DEFLATE.
    t.client.write(Buffer.alloc(64, 0xff));
    await closed;
    expect(t.errors).toHaveLength(1);
    expect(t.errors[0]!.message).toMatch(/invalid|incorrect|unknown/i);
    // More bytes after the failure are ignored.
    t.layer.feed(Buffer.alloc(16, 0xff));
    expect(t.errors).toHaveLength(1);
  });

  it('reports a failing compressor once and destroys the socket', async () => {
    const t = setup();
    const closed = new Promise<void>((resolve) => t.server.on('close', resolve));
    (t.layer as unknown as { deflate: { destroy(err: Error): void } }).deflate.destroy(new Error('zlib broke'));
    await closed;
    expect(t.errors.map((e) => e.message)).toEqual(['zlib broke']);
    await waitFor(() => t.events.includes('end'), 'end of input');
  });

  it('still inflates what came before the socket closed, at the reader\'s pace, then ends', async () => {
    const t = setup();
    t.layer.pause();
    const text = Buffer.from('a1 NOOP\r\n'.repeat(100_000));
    t.send(text);
    // The socket ends once all it carried was read (into the inflater), then closes with that input still queued.
    const serverEnded = new Promise<void>((resolve) => t.server.on('end', resolve));
    await new Promise<void>((resolve) => t.deflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    await new Promise((r) => setImmediate(r));
    t.client.end();
    await serverEnded;
    t.server.destroy();
    await new Promise((r) => setTimeout(r, 20));
    expect(t.events).toEqual([]);
    t.layer.resume();
    await waitFor(() => t.events.includes('end'), 'end of input');
    expect(total(t.received).equals(text)).toBe(true);
    expect(t.errors).toEqual([]);
  });

  it('inflates a highly compressible burst in bounded pieces while paused', async () => {
    const t = setup();
    // 20 MB of zeros in ~20 kB of DEFLATE: held back while the reader is paused (the connection's backpressure),
    // delivered once resumed.
    t.layer.pause();
    const bomb = Buffer.concat([deflateRawSync(Buffer.alloc(20_000_000), { finishFlush: constants.Z_SYNC_FLUSH })]);
    t.client.write(bomb);
    await new Promise((r) => setTimeout(r, 100));
    // Nothing handed over while paused, and what waits inside is one output buffer, not the 20 MB.
    expect(total(t.received).length).toBe(0);
    expect((t.layer as unknown as { inflate: { readableLength: number } }).inflate.readableLength).toBeLessThan(1_100_000);
    t.layer.resume();
    await waitFor(() => size(t.received) === 20_000_000, 'all 20 MB', 20_000);
    expect(t.errors).toEqual([]);
    t.layer.destroy();
  });
});
