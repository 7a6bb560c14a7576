/** Framing: uint32 BE length (code byte included) + code byte + payload. Pure functions over bytes. */

export interface Packet {
  readonly code: number;
  readonly payload: Buffer;
}

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

export function encodePacket(code: number, payload: Buffer = EMPTY): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length);
  out.writeUInt32BE(payload.length + 1, 0);
  out[4] = code;
  payload.copy(out, 5);
  return out;
}

export const EMPTY: Buffer = Buffer.alloc(0);

/**
 * Streaming decoder: feed it whatever the socket delivers (partial or coalesced packets); it returns
 * every complete packet. A length of 0 or above `maxPayload` + 1 is a FrameError: the stream cannot
 * be resynchronised after that, so the caller must close the connection.
 *
 * `borrowed`: the bytes given to push() are only valid during the call (a socket reading into one
 * reused buffer, net's `onread`): what the decoder keeps for later and every payload it returns are
 * then copies, so nothing points into the caller's buffer once push() returns.
 */
export class PacketDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(
    private maxPayload: number,
    private readonly borrowed = false,
  ) {}

  /** Raise the limit after MDS_256K/MDS_1M was negotiated. */
  setMaxPayload(max: number): void {
    this.maxPayload = max;
  }

  /** Bytes received but not yet part of a complete packet. */
  get pending(): number {
    return this.buffered;
  }

  push(data: Buffer): Packet[] {
    if (this.buffered === 0 && data.length >= 5) return this.fastPath(data, this.borrowed);
    this.chunks.push(this.borrowed ? Buffer.from(data) : data);
    this.buffered += data.length;
    return this.drain();
  }

  /** Common case: nothing buffered, decode straight out of the socket chunk (copied only when borrowed). */
  private fastPath(data: Buffer, borrowed: boolean): Packet[] {
    const packets: Packet[] = [];
    let offset = 0;
    while (data.length - offset >= 5) {
      const len = this.checkedLength(data.readUInt32BE(offset));
      if (data.length - offset < 4 + len) break;
      const payload = len === 1 ? EMPTY : data.subarray(offset + 5, offset + 4 + len);
      packets.push({ code: data[offset + 4]!, payload: borrowed && len > 1 ? Buffer.from(payload) : payload });
      offset += 4 + len;
    }
    if (offset < data.length) {
      const rest = borrowed ? Buffer.from(data.subarray(offset)) : data.subarray(offset);
      this.chunks.push(rest);
      this.buffered = rest.length;
    }
    return packets;
  }

  private drain(): Packet[] {
    if (this.buffered < 5) return [];
    // Wait for the whole first packet before concatenating, so a large packet arriving in many
    // small reads is copied once, not once per read.
    const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    if (this.buffered < 4 + this.checkedLength(head.readUInt32BE(0))) return [];
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    // Whatever was kept is already a copy when borrowed.
    return this.fastPath(all, false);
  }

  private checkedLength(len: number): number {
    if (len === 0) throw new FrameError('packet length 0 (a packet holds at least its command byte)');
    if (len - 1 > this.maxPayload) {
      throw new FrameError(`packet length ${len} exceeds the negotiated maximum of ${this.maxPayload + 1}`);
    }
    return len;
  }
}
