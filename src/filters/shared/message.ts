/**
 * The message as a content scanner needs it (spamd, clamd, rspamd, DKIM): the headers and body the
 * MTA streamed, put back together as RFC 5322 bytes. Stops keeping the body past `limit` bytes, so
 * a scanner's size limit never costs memory for the whole message.
 */
export interface HeaderField {
  readonly name: string;
  /** The value as received: without the leading space unless the filter negotiated leadingSpace. */
  readonly value: string;
}

export class CollectedMessage {
  readonly headers: HeaderField[] = [];
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
    this.headers.push({ name, value });
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
    return Buffer.from(`${this.headers.map((h) => `${h.name}:${this.leadingSpace ? '' : ' '}${h.value}\r\n`).join('')}\r\n`, 'utf8');
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
    const lower = name.toLowerCase();
    return this.headers.filter((h) => h.name.toLowerCase() === lower).map((h) => h.value);
  }

  private cachedHeaderBytes = -1;
  private cachedHeaderCount = -1;

  private headerBytes(): number {
    if (this.cachedHeaderCount !== this.headers.length) {
      this.cachedHeaderBytes = this.headers.reduce((n, h) => n + Buffer.byteLength(h.name) + Buffer.byteLength(h.value) + (this.leadingSpace ? 3 : 4), 2);
      this.cachedHeaderCount = this.headers.length;
    }
    return this.cachedHeaderBytes;
  }
}
