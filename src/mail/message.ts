/**
 * One message as an MTA holds it between receiving and queueing: envelope, header fields, body
 * (Postfix's cleanup state). The chain keeps the message its children edit in one; the SMTP server
 * builds one from the bytes received (message-reader.ts), applies the chain's changes to it
 * (apply-changes.ts) and streams it into the queue file.
 */
import { Readable } from 'node:stream';
import { emptyEnvelope, type Envelope } from './envelope.js';
import { HeaderList, type Header } from './header-list.js';
import { MessageBody } from './message-body.js';

export class Message {
  /** Set by a filter's quarantine change: the reason the message is held. */
  quarantine: string | undefined = undefined;

  constructor(
    readonly envelope: Envelope = emptyEnvelope(),
    readonly headers: HeaderList = new HeaderList(),
    readonly body: MessageBody = new MessageBody(),
  ) {}

  /** The header fields as bytes, each `Name:value` CRLF (folds made CRLF again), then the empty line. */
  headerBlock(): Buffer {
    let text = '';
    for (const h of this.headers.all) text += headerLine(h);
    return Buffer.from(`${text}\r\n`, 'utf8');
  }

  /** The whole message (header block, then body) in chunks of at most `size` body bytes. */
  async *read(size = 65536): AsyncGenerator<Buffer> {
    yield this.headerBlock();
    yield* this.body.read(size);
  }

  /** The whole message as a readable stream, e.g. piped into a queue file. */
  stream(size = 65536): Readable {
    return Readable.from(this.read(size), { objectMode: false });
  }

  /** Releases the body's spill file, if any. */
  dispose(): Promise<void> {
    return this.body.dispose();
  }
}

/**
 * One field as it goes on the wire or to a queue file. Values hold no CR of their own (folds are a
 * bare LF), so every line break becomes CRLF. Written as UTF-8, like the milter protocol's strings.
 */
export function headerLine(h: Header): string {
  const value = h.value.includes('\n') ? h.value.replace(/\r?\n/g, '\r\n') : h.value;
  return `${h.name}:${value}\r\n`;
}
