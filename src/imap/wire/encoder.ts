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

type StreamValue = Extract<ImapValue, { kind: 'stream' }>;

const CRLF = '\r\n';

function bytesOf(v: string | Buffer): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

/**
 * Encoded output in order: latin1 text runs (every character below 0x80 here: the protocol's own
 * syntax), byte buffers (literal payloads, 8-bit data), and streamed literals to be piped. Text is joined
 * as a JS string and turned into bytes once per batch: a FETCH FLAGS line costs a few string appends.
 */
class Pieces {
  readonly parts: (string | Buffer | StreamValue)[] = [];
  private text = '';

  add(s: string): void {
    this.text += s;
  }

  bytes(b: Buffer): void {
    this.endText();
    this.parts.push(b);
  }

  stream(v: StreamValue): void {
    this.endText();
    this.parts.push(v);
  }

  done(): (string | Buffer | StreamValue)[] {
    this.endText();
    return this.parts;
  }

  private endText(): void {
    if (this.text !== '') this.parts.push(this.text);
    this.text = '';
  }
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Whether `b` can only go out as a literal under `mode` (see the file comment). */
export function needsLiteral(b: Buffer | string, mode: 'string' | 'quoted'): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = typeof b === 'string' ? b.charCodeAt(i) : b[i]!;
    if (c === 0x00 || c === 0x0d || c === 0x0a || c >= 0x80) return true;
    if (mode === 'string' && (c === 0x22 || c === 0x5c)) return true;
  }
  return false;
}

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

function encodeString(out: Pieces, value: string | Buffer, kind: 'string' | 'quoted' | 'literal'): void {
  if (kind !== 'literal' && !needsLiteral(value, kind)) {
    // 7-bit without CR/LF/NUL: the same text as latin1 and as UTF-8.
    out.add(quote(typeof value === 'string' ? value : value.toString('latin1')));
    return;
  }
  if (typeof value === 'string' && isAscii(value)) {
    out.add(`{${value.length}}\r\n${value}`);
    return;
  }
  const b = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  out.add(`{${b.length}}\r\n`);
  out.bytes(b);
}

/** Appends the encoding of `v` to `out`; a `stream` value is kept in place for ResponseWriter.send(). */
function encodeInto(out: Pieces, v: ImapValue): void {
  switch (v.kind) {
    case 'atom':
      // Atoms are ASCII; anything else is at least not mangled by the latin1 text run.
      if (isAscii(v.value)) out.add(v.value);
      else out.bytes(Buffer.from(v.value, 'utf8'));
      return;
    case 'number':
      // A negative or fractional number would be a protocol error the client cannot recover from.
      if (typeof v.value === 'number' ? !Number.isSafeInteger(v.value) || v.value < 0 : v.value < 0n) throw new Error(`not an IMAP number: ${v.value}`);
      out.add(String(v.value));
      return;
    case 'nil':
      out.add('NIL');
      return;
    case 'raw':
      if (typeof v.bytes === 'string' && isAscii(v.bytes)) out.add(v.bytes);
      else out.bytes(bytesOf(v.bytes));
      return;
    case 'string':
    case 'quoted':
    case 'literal':
      encodeString(out, v.value, v.kind);
      return;
    case 'list':
      out.add('(');
      for (let i = 0; i < v.items.length; i++) {
        if (i > 0) out.add(' ');
        encodeInto(out, v.items[i]!);
      }
      out.add(')');
      return;
    case 'stream':
      out.stream(v);
      return;
  }
}

function encodeList(out: Pieces, values: readonly ImapValue[]): void {
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out.add(' ');
    encodeInto(out, values[i]!);
  }
}

function toBuffer(parts: readonly (string | Buffer | StreamValue)[]): Buffer {
  if (parts.length === 1 && typeof parts[0] === 'string') return Buffer.from(parts[0], 'latin1');
  return Buffer.concat(
    parts.map((p) => {
      if (typeof p === 'string') return Buffer.from(p, 'latin1');
      if (Buffer.isBuffer(p)) return p;
      throw new Error('a streamed literal can only be written by ResponseWriter.send()');
    }),
  );
}

/** One value → bytes. */
export function encodeValue(v: ImapValue): Buffer {
  const out = new Pieces();
  encodeInto(out, v);
  return toBuffer(out.done());
}

/** Values separated by SP → bytes. */
export function encodeValues(values: readonly ImapValue[]): Buffer {
  const out = new Pieces();
  encodeList(out, values);
  return toBuffer(out.done());
}

function untaggedPieces(values: readonly ImapValue[], prefix = '*'): (string | Buffer | StreamValue)[] {
  const out = new Pieces();
  out.add(prefix === '' ? '' : `${prefix} `);
  encodeList(out, values);
  out.add('\r\n');
  return out.done();
}

/** `* v1 v2 …` CRLF. */
export function encodeUntagged(values: readonly ImapValue[]): Buffer {
  return toBuffer(untaggedPieces(values));
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
  return Buffer.from(`${head}${cleanText(text)}${CRLF}`, 'utf8');
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
  /** Batched output: finished buffers, then a run of latin1 text not yet turned into bytes. */
  private batch: Buffer[] = [];
  private text = '';
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
    this.queueBytes(bytes);
    return this.settle();
  }

  /** `* values…`; no streamed literals here (see send()). */
  untagged(values: readonly ImapValue[]): boolean {
    for (const p of untaggedPieces(values)) {
      if (typeof p === 'string') this.queueText(p);
      else if (Buffer.isBuffer(p)) this.queueBytes(p);
      else throw new Error('a streamed literal can only be written by ResponseWriter.send()');
    }
    return this.settle();
  }

  /** A status response; tagged ones (tag other than "*") flush the batch. */
  status(tag: string, status: Status, text: string, code?: ResponseCode): boolean {
    this.queueBytes(encodeStatus(tag, status, text, code));
    return tag === '*' ? this.settle() : this.flush();
  }

  /** `+ text`, flushed at once: the client is waiting for it. */
  continuation(text = 'OK'): boolean {
    this.queueBytes(encodeContinuation(text));
    return this.flush();
  }

  /** Hands the batch to the sink. */
  flush(): boolean {
    if (this.batchSize === 0) return !this.blocked;
    this.closeText();
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
    for (const p of untaggedPieces(values, prefix)) {
      if (typeof p === 'string') this.queueText(p);
      else if (Buffer.isBuffer(p)) this.queueBytes(p);
      else {
        this.queueText(`{${p.size}}\r\n`);
        await this.pipe(p);
      }
    }
    if (!this.settle()) await this.drained();
  }

  private queueText(s: string): void {
    this.text += s;
    this.batchSize += s.length;
  }

  private queueBytes(b: Buffer): void {
    this.closeText();
    this.batch.push(b);
    this.batchSize += b.length;
  }

  private closeText(): void {
    if (this.text === '') return;
    this.batch.push(Buffer.from(this.text, 'latin1'));
    this.text = '';
  }

  /** Writes the batch once it is big enough; whether the sink still has room. */
  private settle(): boolean {
    if (this.batchSize >= this.batchBytes) return this.flush();
    return !this.blocked;
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
