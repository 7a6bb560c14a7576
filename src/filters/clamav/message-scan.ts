/**
 * One message on its way to clamd, streamed as the MTA hands it over: clamav-milter's mbox
 * "From " line (so clamd parses the stream as mail) and the header fields, gathered and sent in one
 * chunk with the first body bytes (or at end of message), then each body chunk as it comes. Past
 * max_file_size the scan is given up: the message passes unscanned, with the size for the log line.
 */
import type { ClamdClient, ScanResult } from './client.js';
import { scanResult } from './client.js';
import type { ClamdStream } from './stream.js';
import { SCANNED, STATUS } from './virus-headers.js';

export const MBOX_FROM_LINE = 'From clamav-milter\n';
const SCANNED_LOWER = SCANNED.toLowerCase();
const STATUS_LOWER = STATUS.toLowerCase();

export class MessageScan {
  /** Bytes of the message: the header fields as sent (`Name: value` CRLF each, the empty line) and the body. */
  size = 0;
  /** How many X-Virus-Scanned and X-Virus-Status fields the message has (AddHeader Replace removes them). */
  readonly existing = { scanned: 0, status: 0 };
  private headerText = '';
  private headersSent = false;
  private stream: ClamdStream | undefined;

  constructor(
    client: ClamdClient,
    /** max_file_size. */
    private readonly limit: number,
  ) {
    this.stream = client.stream();
  }

  /** Whether the message outgrew the limit, so it is not scanned. */
  get tooBig(): boolean {
    return this.stream === undefined;
  }

  addHeader(name: string, value: string): void {
    if (name.length === SCANNED.length && name.toLowerCase() === SCANNED_LOWER) this.existing.scanned++;
    else if (name.length === STATUS.length && name.toLowerCase() === STATUS_LOWER) this.existing.status++;
    const line = `${name}: ${value}\r\n`;
    if (this.stream === undefined) {
      this.size += Buffer.byteLength(line);
      return;
    }
    this.headerText += line;
    // Characters never outnumber the bytes they encode to, so this alone can tell it is too big.
    if (this.headerText.length > this.limit) this.giveUp(Buffer.byteLength(this.headerText) + 2);
  }

  /** A promise when clamd is behind: wait for it before the next chunk. */
  addBody(chunk: Buffer): Promise<void> | undefined {
    if (this.stream === undefined || this.headersSent) return this.send(chunk);
    const headers = this.headerBlock();
    this.size += headers.length - MBOX_FROM_LINE.length;
    return this.send(chunk, headers);
  }

  /** Ends the stream and gives clamd's verdict (ClamdError when clamd could not be reached); undefined if too big. */
  async finish(): Promise<ScanResult | undefined> {
    if (this.stream !== undefined && !this.headersSent) {
      const headers = this.headerBlock();
      this.size += headers.length - MBOX_FROM_LINE.length;
      if (this.size > this.limit) this.giveUp(0);
      else await this.stream.write([headers]);
    }
    const stream = this.stream;
    if (stream === undefined) return undefined;
    this.stream = undefined;
    return scanResult(await stream.finish());
  }

  abandon(): void {
    this.stream?.abandon();
    this.stream = undefined;
  }

  private headerBlock(): Buffer {
    this.headersSent = true;
    const block = Buffer.from(`${MBOX_FROM_LINE}${this.headerText}\r\n`, 'utf8');
    this.headerText = '';
    return block;
  }

  private send(chunk: Buffer, headers?: Buffer): Promise<void> | undefined {
    this.size += chunk.length;
    if (this.stream === undefined) return undefined;
    if (this.size > this.limit) {
      this.giveUp(0);
      return undefined;
    }
    return this.stream.write(headers === undefined ? [chunk] : [headers, chunk]);
  }

  private giveUp(headerBytes: number): void {
    this.size += headerBytes;
    this.headerText = '';
    this.abandon();
  }
}
