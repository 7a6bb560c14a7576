/**
 * The message as a content scanner needs it (spamd, clamd, rspamd, DKIM): the header fields (mail's
 * HeaderList) and the body the MTA streamed, put back together as RFC 5322 bytes. Unlike mail's
 * Message it keeps a copy bounded by the scanner's size limit, in memory: past `limit` bytes the
 * body is no longer kept, so a scanner's limit never costs memory for the whole message.
 */
import { HeaderList } from '../../mail/header-list.js';

export class CollectedMessage {
  /** Values as the filter received them: without the leading space unless it negotiated leadingSpace. */
  readonly headers = new HeaderList();
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  /** Body bytes received, kept or not. */
  bodySize = 0;

  constructor(
    /** Largest message (headers + body) kept; beyond it `complete` is false. Infinity: everything. */
    private readonly limit = Number.POSITIVE_INFINITY,
    /** Header values arrive with their leading space (HDR_LEADSPC negotiated). */
    private readonly leadingSpace = false,
  ) {}

  addHeader(name: string, value: string): void {
    this.headers.add(name, value);
  }

  addBody(chunk: Buffer): void {
    this.bodySize += chunk.length;
    const room = this.limit - this.headerBytes() - this.kept;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.chunks.push(part); // kept as is: a body chunk is never reused by its caller (FilterSession.body)
    this.kept += part.length;
  }

  /** Size of the whole message as received (headers as rebuilt + every body byte). */
  get size(): number {
    return this.headerBytes() + this.bodySize;
  }

  /** Whether every byte is kept (the message is within `limit`). */
  get complete(): boolean {
    return this.size <= this.limit;
  }

  /** The header block, each field `Name: value` CRLF, then the empty line. */
  headerBlock(): Buffer {
    return Buffer.from(`${this.headers.all.map((h) => `${h.name}:${this.leadingSpace ? '' : ' '}${h.value}\r\n`).join('')}\r\n`, 'utf8');
  }

  body(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** The kept body as received, without joining it (for a vectored write to a scanner). */
  bodyChunks(): readonly Buffer[] {
    return this.chunks;
  }

  /** Header block + kept body. */
  toBuffer(): Buffer {
    return Buffer.concat([this.headerBlock(), ...this.chunks]);
  }

  /** Values of every header named `name` (case-insensitive), in order. */
  values(name: string): string[] {
    return this.headers.values(name);
  }

  private cachedHeaderBytes = -1;
  private cachedHeaderCount = -1;

  private headerBytes(): number {
    if (this.cachedHeaderCount !== this.headers.length) {
      this.cachedHeaderBytes = this.headers.all.reduce((n, h) => n + Buffer.byteLength(h.name) + Buffer.byteLength(h.value) + (this.leadingSpace ? 3 : 4), 2);
      this.cachedHeaderCount = this.headers.length;
    }
    return this.cachedHeaderBytes;
  }
}
