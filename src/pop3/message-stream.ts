/**
 * RETR and TOP's body: a message's stored bytes (LF or CRLF) read as a stream, cut for TOP, stuffed and
 * converted to CRLF chunk by chunk (wire.ts), written with back-pressure (the next chunk waits for the
 * socket to drain), then the terminating dot. Stops early once the reader is gone or TOP has enough.
 */
import { DotStuffer, TopCutter } from './wire.js';

export interface MessageSink {
  /** False when the buffer is full: `drained()` before the next write. */
  write(bytes: Buffer): boolean;
  drained(): Promise<void>;
  /** The connection is gone: nothing more is worth reading. */
  gone(): boolean;
}

/** Writes the body and its terminator; the message octets sent (CRLF form, stuffing not counted). */
export async function writeMessageBody(source: AsyncIterable<Buffer>, topLines: number | undefined, sink: MessageSink): Promise<number> {
  const stuffer = new DotStuffer();
  const cutter = topLines === undefined ? undefined : new TopCutter(topLines);
  for await (const chunk of source) {
    if (sink.gone()) break;
    const part = cutter ? cutter.push(chunk) : chunk;
    if (part.length > 0 && !sink.write(stuffer.push(part))) await sink.drained();
    if (cutter?.done) break;
  }
  sink.write(stuffer.end());
  return stuffer.octets;
}
