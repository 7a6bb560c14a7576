/**
 * Builds a Message from the bytes of a message as received (SMTP DATA after dot-unstuffing): the
 * header fields up to the empty line, in the form the milter stages use (value as it follows the
 * colon, folds as a bare LF), and the rest as the body, spilled to a file past its threshold. A line
 * that is not a header field ends the headers and starts the body, as in Postfix's cleanup. The
 * header block is held in memory: with `headerSizeLimit` (Postfix's header_size_limit) header text past
 * the limit is discarded, whole lines, up to the end of the header section, and a line without its line
 * end is never held past the limit; without it the caller bounds the size on the bytes it receives.
 */
import { isUtf8 } from 'node:buffer';
import { emptyEnvelope, type Envelope } from './envelope.js';
import { HeaderList } from './header-list.js';
import { Message } from './message.js';
import { MessageBody, type MessageBodyOptions } from './message-body.js';

const LF = 0x0a;
/** A field name: printable ASCII but the colon (RFC 5322 ftext), then the colon. */
const FIELD = /^[!-9;-~]+:/;

export interface MessageReaderOptions {
  /** Bytes of header text kept (line ends counted); the rest of the header section is discarded. */
  readonly headerSizeLimit?: number;
}

const SP = 0x20;
/** RFC 5322's line length limit: the longest field name waited for. */
const MAX_LINE = 998;
const TAB = 0x09;

export class MessageReader {
  readonly message: Message;
  private inBody = false;
  /** Bytes of a header line not yet ended by its LF. */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** The field being read: its lines so far (a next line may continue it). */
  private field: string[] | undefined;
  private readonly limit: number;
  /** Header bytes kept so far. */
  private headerBytes = 0;
  /** Past the limit: every header line until the body is dropped. */
  private discarding = false;
  /** A discarded field is open: a line starting with white space continues it (and is dropped too). */
  private discardedFieldOpen = false;
  /** The rest of an over-long line is being dropped up to its LF. */
  private skippingLine = false;
  /** Header bytes discarded past headerSizeLimit (0 when nothing was). */
  discardedHeaderBytes = 0;

  constructor(envelope: Envelope = emptyEnvelope(), body: MessageBodyOptions = {}, options: MessageReaderOptions = {}) {
    this.message = new Message(envelope, new HeaderList(), new MessageBody(body));
    this.limit = options.headerSizeLimit ?? Infinity;
  }

  /** Takes the next bytes. A chunk that reaches the body is kept, not copied: do not reuse it. */
  async write(chunk: Buffer): Promise<void> {
    if (this.inBody) return this.message.body.append(chunk);
    let start = 0;
    for (;;) {
      const lf = chunk.indexOf(LF, start);
      if (this.skippingLine) {
        const end = lf === -1 ? chunk.length : lf + 1;
        this.discardedHeaderBytes += end - start;
        if (lf === -1) return;
        this.skippingLine = false;
        start = end;
        continue;
      }
      if (lf === -1) break;
      const line = this.partial.length === 0 ? chunk.subarray(start, lf) : Buffer.concat([...this.partial, chunk.subarray(start, lf)]);
      this.partial = [];
      this.partialBytes = 0;
      const bodyStart = this.line(line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, -1) : line);
      if (bodyStart !== undefined) {
        this.inBody = true;
        // A line that is not a field is the body's first line, line end included.
        if (bodyStart === 'line') await this.message.body.append(Buffer.concat([line, chunk.subarray(lf, lf + 1)]));
        return this.message.body.append(chunk.subarray(lf + 1));
      }
      start = lf + 1;
    }
    if (start >= chunk.length) return;
    this.partial.push(chunk.subarray(start));
    this.partialBytes += chunk.length - start;
    // A line without its end never grows past the limit in memory: it is a header line (dropped with the
    // rest of its line) or the body's first line (the body takes it as it is).
    if (this.partialBytes > this.limit) {
      const head = Buffer.concat(this.partial);
      const kind = this.lineKind(head);
      // A field name whose colon has not come yet: held up to a line's worth more (RFC 5322: 998).
      if (kind === 'undecided' && this.partialBytes <= this.limit + MAX_LINE) {
        this.partial = [head];
        return;
      }
      this.partial = [];
      this.partialBytes = 0;
      if (kind === 'header') {
        this.flush();
        this.discarding = true;
        this.discardedFieldOpen = true;
        this.skippingLine = true;
        this.discardedHeaderBytes += head.length;
      } else {
        this.flush();
        this.inBody = true;
        await this.message.body.append(head);
      }
    }
  }

  /** The message, once every byte was written. */
  async end(): Promise<Message> {
    if (!this.inBody && this.partial.length > 0) {
      const rest = Buffer.concat(this.partial);
      this.partial = [];
      this.partialBytes = 0;
      if (this.line(rest) === 'line') await this.message.body.append(rest);
    }
    this.flush();
    this.inBody = true;
    return this.message;
  }

  /** Whether a whole line is a header line: a field, or the continuation of an open one. */
  private startsHeaderLine(line: Buffer): boolean {
    return this.lineKind(line) === 'header';
  }

  /** What a line is from its start: undecided while it could still become a field (no colon yet). */
  private lineKind(start: Buffer): 'header' | 'body' | 'undecided' {
    if (start[0] === SP || start[0] === TAB) return this.field !== undefined || this.discardedFieldOpen ? 'header' : 'body';
    const colon = start.indexOf(0x3a);
    if (colon !== -1) return colon > 0 && FIELD.test(start.subarray(0, colon + 1).toString('latin1')) ? 'header' : 'body';
    for (const b of start) if (b < 0x21 || b > 0x7e) return 'body';
    return 'undecided';
  }

  /** One header-block line without its line end; says where the body starts when it does. */
  private line(line: Buffer): 'empty' | 'line' | undefined {
    if (!this.discarding && this.headerBytes + line.length + 1 > this.limit && line.length > 0 && this.startsHeaderLine(line)) {
      // Past header_size_limit: the field in progress keeps what it has, the rest of the section is dropped
      // (this line opens or continues a discarded field).
      this.flush();
      this.discarding = true;
      this.discardedFieldOpen = true;
      this.discardedHeaderBytes += line.length + 1;
      return undefined;
    }
    if (this.discarding) {
      if (line.length === 0) return 'empty';
      if (!this.startsHeaderLine(line)) return 'line';
      this.discardedFieldOpen = true;
      this.discardedHeaderBytes += line.length + 1;
      return undefined;
    }
    const text = isUtf8(line) ? line.toString('utf8') : line.toString('latin1');
    if (this.field !== undefined && (text.startsWith(' ') || text.startsWith('\t'))) {
      this.field.push(text);
      this.headerBytes += line.length + 1;
      return undefined;
    }
    this.flush();
    if (text === '') return 'empty';
    if (!FIELD.test(text)) return 'line';
    this.field = [text];
    this.headerBytes += line.length + 1;
    return undefined;
  }

  private flush(): void {
    if (this.field === undefined) return;
    const text = this.field.join('\n');
    const colon = text.indexOf(':');
    this.message.headers.add(text.slice(0, colon), text.slice(colon + 1));
    this.field = undefined;
  }
}

/** A Message from all its bytes at once, or from a stream of them. */
export async function readMessage(source: Buffer | AsyncIterable<Buffer>, envelope?: Envelope, body?: MessageBodyOptions): Promise<Message> {
  const reader = new MessageReader(envelope, body);
  if (Buffer.isBuffer(source)) await reader.write(source);
  else for await (const chunk of source) await reader.write(chunk);
  return reader.end();
}
