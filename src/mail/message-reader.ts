/**
 * Builds a Message from the bytes of a message as received (SMTP DATA after dot-unstuffing): the
 * header fields up to the empty line, in the form the milter stages use (value as it follows the
 * colon, folds as a bare LF), and the rest as the body, spilled to a file past its threshold. A line
 * that is not a header field ends the headers and starts the body, as in Postfix's cleanup. The
 * header block is held in memory: the caller bounds the message size on the bytes it receives.
 */
import { isUtf8 } from 'node:buffer';
import { emptyEnvelope, type Envelope } from './envelope.js';
import { HeaderList } from './header-list.js';
import { Message } from './message.js';
import { MessageBody, type MessageBodyOptions } from './message-body.js';

const LF = 0x0a;
/** A field name: printable ASCII but the colon (RFC 5322 ftext), then the colon. */
const FIELD = /^[!-9;-~]+:/;

export class MessageReader {
  readonly message: Message;
  private inBody = false;
  /** Bytes of a header line not yet ended by its LF. */
  private partial: Buffer[] = [];
  /** The field being read: its lines so far (a next line may continue it). */
  private field: string[] | undefined;

  constructor(envelope: Envelope = emptyEnvelope(), body: MessageBodyOptions = {}) {
    this.message = new Message(envelope, new HeaderList(), new MessageBody(body));
  }

  /** Takes the next bytes. A chunk that reaches the body is kept, not copied: do not reuse it. */
  async write(chunk: Buffer): Promise<void> {
    if (this.inBody) return this.message.body.append(chunk);
    let start = 0;
    for (;;) {
      const lf = chunk.indexOf(LF, start);
      if (lf === -1) break;
      const line = this.partial.length === 0 ? chunk.subarray(start, lf) : Buffer.concat([...this.partial, chunk.subarray(start, lf)]);
      this.partial = [];
      const bodyStart = this.line(line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, -1) : line);
      if (bodyStart !== undefined) {
        this.inBody = true;
        // A line that is not a field is the body's first line, line end included.
        if (bodyStart === 'line') await this.message.body.append(Buffer.concat([line, chunk.subarray(lf, lf + 1)]));
        return this.message.body.append(chunk.subarray(lf + 1));
      }
      start = lf + 1;
    }
    if (start < chunk.length) this.partial.push(chunk.subarray(start));
  }

  /** The message, once every byte was written. */
  async end(): Promise<Message> {
    if (!this.inBody && this.partial.length > 0) {
      const rest = Buffer.concat(this.partial);
      this.partial = [];
      if (this.line(rest) === 'line') await this.message.body.append(rest);
    }
    this.flush();
    this.inBody = true;
    return this.message;
  }

  /** One header-block line without its line end; says where the body starts when it does. */
  private line(line: Buffer): 'empty' | 'line' | undefined {
    const text = isUtf8(line) ? line.toString('utf8') : line.toString('latin1');
    if (this.field !== undefined && (text.startsWith(' ') || text.startsWith('\t'))) {
      this.field.push(text);
      return undefined;
    }
    this.flush();
    if (text === '') return 'empty';
    if (!FIELD.test(text)) return 'line';
    this.field = [text];
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
