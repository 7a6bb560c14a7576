/**
 * Server responses: values (atom, string, number, NIL, list, literal, raw bytes, streamed literal) encoded
 * to bytes by pure functions, and a ResponseWriter that batches encoded responses into one write per
 * ~64 KiB to a sink and honours its backpressure.
 *
 * Quoted or literal, as Dovecot 2.3 chooses (checked in preauth mode with ENVELOPE subjects):
 * - `string` (imap_append_nstring): a literal when the text holds `"`, `\`, CR, LF, NUL or an 8-bit byte,
 *   otherwise quoted as it is; length alone never makes a literal (a 5,000-character subject is quoted);
 *   control characters other than CR/LF/NUL stay in the quoted form (RFC 3501 TEXT-CHAR allows them);
 * - `quoted` (imap_append_quoted, used for mailbox names in LIST): quoted with `\"` and `\\` escaped,
 *   and a literal only when it cannot be quoted (CR, LF, NUL, 8-bit).
 */
import type { Readable, Writable } from 'node:stream';
import type { ResponseCodeName } from './response-codes.js';

export type ImapValue =
  | { readonly kind: 'atom'; readonly value: string }
  | { readonly kind: 'string'; readonly value: string | Buffer }
  | { readonly kind: 'quoted'; readonly value: string | Buffer }
  | { readonly kind: 'literal'; readonly value: string | Buffer }
  | { readonly kind: 'number'; readonly value: number | bigint }
  | { readonly kind: 'nil' }
  | { readonly kind: 'list'; readonly items: readonly ImapValue[] }
  | { readonly kind: 'raw'; readonly bytes: string | Buffer }
  | { readonly kind: 'stream'; readonly size: number; readonly stream: Readable };

export const NIL: ImapValue = Object.freeze({ kind: 'nil' });
export const atom = (value: string): ImapValue => ({ kind: 'atom', value });
export const str = (value: string | Buffer): ImapValue => ({ kind: 'string', value });
/** A string or NIL for null/undefined. */
export const nstr = (value: string | Buffer | null | undefined): ImapValue => (value == null ? NIL : str(value));
export const quoted = (value: string | Buffer): ImapValue => ({ kind: 'quoted', value });
export const literal = (value: string | Buffer): ImapValue => ({ kind: 'literal', value });
export const num = (value: number | bigint): ImapValue => ({ kind: 'number', value });
export const list = (items: readonly ImapValue[]): ImapValue => ({ kind: 'list', items });
/** Bytes written exactly as given (pre-encoded: "BODY[1]<0>", a cached BODYSTRUCTURE, …). */
export const raw = (bytes: string | Buffer): ImapValue => ({ kind: 'raw', bytes });
/** A literal of `size` octets read from `stream` as it is written (only ResponseWriter.send takes it). */
export const streamed = (size: number, stream: Readable): ImapValue => ({ kind: 'stream', size, stream });

export type Status = 'OK' | 'NO' | 'BAD' | 'PREAUTH' | 'BYE';

/** A response code: `[NAME]` or `[NAME args]`; `args` as raw text or as values. */
export interface ResponseCode {
  readonly name: ResponseCodeName;
  readonly args?: string | readonly ImapValue[];
}

const CRLF = Buffer.from('\r\n');

function bytesOf(v: string | Buffer): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

/** Whether `b` can only go out as a literal under `mode` (see the file comment). */
export function needsLiteral(b: Buffer, mode: 'string' | 'quoted'): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x00 || c === 0x0d || c === 0x0a || c >= 0x80) return true;
    if (mode === 'string' && (c === 0x22 || c === 0x5c)) return true;
  }
  return false;
}

function quote(b: Buffer): Buffer {
  let specials = 0;
  for (const c of b) if (c === 0x22 || c === 0x5c) specials++;
  const out = Buffer.allocUnsafe(b.length + specials + 2);
  let w = 0;
  out[w++] = 0x22;
  for (const c of b) {
    if (c === 0x22 || c === 0x5c) out[w++] = 0x5c;
    out[w++] = c;
  }
  out[w++] = 0x22;
  return out;
}

function literalHeader(size: number): Buffer {
  return Buffer.from(`{${size}}\r\n`, 'latin1');
}

/** Appends the encoding of `v` to `out`; a `stream` value is handed to `onStream` (or refused). */
function encodeInto(out: Buffer[], v: ImapValue, onStream?: (v: Extract<ImapValue, { kind: 'stream' }>) => void): void {
  switch (v.kind) {
    case 'atom':
      out.push(Buffer.from(v.value, 'latin1'));
      return;
    case 'number':
      // A negative or fractional number would be a protocol error the client cannot recover from.
      if (typeof v.value === 'number' ? !Number.isSafeInteger(v.value) || v.value < 0 : v.value < 0n) throw new Error(`not an IMAP number: ${v.value}`);
      out.push(Buffer.from(String(v.value), 'latin1'));
      return;
    case 'nil':
      out.push(Buffer.from('NIL'));
      return;
    case 'raw':
      out.push(bytesOf(v.bytes));
      return;
    case 'string':
    case 'quoted':
    case 'literal': {
      const b = bytesOf(v.value);
      if (v.kind === 'literal' || needsLiteral(b, v.kind)) out.push(literalHeader(b.length), b);
      else out.push(quote(b));
      return;
    }
    case 'list':
      out.push(Buffer.from('('));
      v.items.forEach((item, i) => {
        if (i > 0) out.push(Buffer.from(' '));
        encodeInto(out, item, onStream);
      });
      out.push(Buffer.from(')'));
      return;
    case 'stream':
      if (onStream === undefined) throw new Error('a streamed literal can only be written by ResponseWriter.send()');
      onStream(v);
      return;
  }
}

/** One value → bytes. */
export function encodeValue(v: ImapValue): Buffer {
  const out: Buffer[] = [];
  encodeInto(out, v);
  return Buffer.concat(out);
}

/** Values separated by SP → bytes. */
export function encodeValues(values: readonly ImapValue[]): Buffer {
  const out: Buffer[] = [];
  values.forEach((v, i) => {
    if (i > 0) out.push(Buffer.from(' '));
    encodeInto(out, v);
  });
  return Buffer.concat(out);
}

/** `* v1 v2 …` CRLF. */
export function encodeUntagged(values: readonly ImapValue[]): Buffer {
  return Buffer.concat([Buffer.from('* '), encodeValues(values), CRLF]);
}

/** Human-readable text: CR, LF and NUL would end or corrupt the line, so they become spaces. */
function cleanText(text: string): string {
  return text.replace(/[\r\n\0]/g, ' ');
}

function encodeCode(code: ResponseCode): string {
  if (code.args === undefined) return `[${code.name}]`;
  const args = typeof code.args === 'string' ? cleanText(code.args) : encodeValues(code.args).toString('latin1');
  return `[${code.name} ${args}]`;
}

/** `tag STATUS [CODE args] text` CRLF; `tag` "*" for an untagged status. */
export function encodeStatus(tag: string, status: Status, text: string, code?: ResponseCode): Buffer {
  const head = code === undefined ? `${tag} ${status} ` : `${tag} ${status} ${encodeCode(code)} `;
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(cleanText(text), 'utf8'), CRLF]);
}

/** `+ text` CRLF. */
export function encodeContinuation(text = 'OK'): Buffer {
  return Buffer.from(`+ ${cleanText(text)}\r\n`, 'utf8');
}

/** Where the writer's bytes go: a socket, or a test buffer. */
export interface ResponseSink {
  /** false: full, wait for waitDrain() before writing more. */
  write(chunk: Buffer): boolean;
  waitDrain(): Promise<void>;
}

/** A sink over a Node Writable (a socket); waitDrain also ends when the stream closes or fails. */
export function writableSink(stream: Writable): ResponseSink {
  return {
    write: (chunk) => stream.write(chunk),
    waitDrain: () =>
      new Promise<void>((resolve) => {
        if (!stream.writableNeedDrain || stream.destroyed) return resolve();
        const done = (): void => {
          stream.off('drain', done);
          stream.off('close', done);
          stream.off('error', done);
          resolve();
        };
        stream.on('drain', done);
        stream.on('close', done);
        stream.on('error', done);
      }),
  };
}

export const DEFAULT_BATCH_BYTES = 64 * 1024;

/**
 * Batches responses into writes of about `batchBytes`: untagged responses wait in the batch; a tagged
 * status, a continuation and flush() hand it to the sink. A method returning false means the sink is full:
 * await drained() before queueing much more. A failed streamed literal (stream error, wrong size) leaves
 * the protocol out of step: send() rejects and the caller must close the connection.
 */
export class ResponseWriter {
  private batch: Buffer[] = [];
  private batchSize = 0;
  private blocked = false;
  private written = 0;
  private readonly batchBytes: number;

  constructor(
    private readonly sink: ResponseSink,
    options: { batchBytes?: number } = {},
  ) {
    this.batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  }

  /** Octets handed to the sink so far. */
  get bytesWritten(): number {
    return this.written;
  }

  /** Octets waiting in the batch. */
  get pending(): number {
    return this.batchSize;
  }

  /** Queues pre-encoded bytes. */
  raw(bytes: Buffer): boolean {
    this.batch.push(bytes);
    this.batchSize += bytes.length;
    if (this.batchSize >= this.batchBytes) return this.flush();
    return !this.blocked;
  }

  /** `* values…`; no streamed literals here (see send()). */
  untagged(values: readonly ImapValue[]): boolean {
    return this.raw(encodeUntagged(values));
  }

  /** A status response; tagged ones (tag other than "*") flush the batch. */
  status(tag: string, status: Status, text: string, code?: ResponseCode): boolean {
    this.raw(encodeStatus(tag, status, text, code));
    return tag === '*' ? !this.blocked : this.flush();
  }

  /** `+ text`, flushed at once: the client is waiting for it. */
  continuation(text = 'OK'): boolean {
    this.raw(encodeContinuation(text));
    return this.flush();
  }

  /** Hands the batch to the sink. */
  flush(): boolean {
    if (this.batchSize === 0) return !this.blocked;
    const chunk = this.batch.length === 1 ? this.batch[0]! : Buffer.concat(this.batch, this.batchSize);
    this.batch = [];
    this.batchSize = 0;
    this.written += chunk.length;
    if (!this.sink.write(chunk)) this.blocked = true;
    return !this.blocked;
  }

  /** Flushes and waits until the sink has room. */
  async drained(): Promise<void> {
    this.flush();
    if (!this.blocked) return;
    await this.sink.waitDrain();
    this.blocked = false;
  }

  /**
   * `prefix values…` CRLF where values may hold streamed literals: the bytes before each one are queued,
   * then the stream's chunks go to the sink as they come, waiting for drain when it is full.
   */
  async send(prefix: string, values: readonly ImapValue[]): Promise<void> {
    const streams: Extract<ImapValue, { kind: 'stream' }>[] = [];
    const out: Buffer[] = [Buffer.from(prefix === '' ? '' : `${prefix} `, 'latin1')];
    const marks: number[] = [];
    values.forEach((v, i) => {
      if (i > 0) out.push(Buffer.from(' '));
      encodeInto(out, v, (s) => {
        out.push(literalHeader(s.size));
        marks.push(out.length);
        streams.push(s);
      });
    });
    out.push(CRLF);
    let from = 0;
    for (let k = 0; k < streams.length; k++) {
      for (const b of out.slice(from, marks[k])) this.raw(b);
      from = marks[k]!;
      await this.pipe(streams[k]!);
    }
    for (const b of out.slice(from)) this.raw(b);
    if (this.blocked) await this.drained();
  }

  private async pipe(s: { size: number; stream: Readable }): Promise<void> {
    let left = s.size;
    for await (const data of s.stream) {
      const chunk = typeof data === 'string' ? Buffer.from(data) : (data as Buffer);
      if (chunk.length > left) {
        s.stream.destroy();
        throw new Error(`streamed literal longer than its announced ${s.size} octets`);
      }
      left -= chunk.length;
      if (!this.raw(chunk)) await this.drained();
    }
    if (left > 0) throw new Error(`streamed literal ended ${left} octets short of its announced ${s.size}`);
  }
}
