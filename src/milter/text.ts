import { isUtf8 } from 'node:buffer';

/** Milter strings are raw bytes. Show them as UTF-8 when they are valid UTF-8, otherwise as Latin-1. */
export function decodeText(bytes: Buffer): string {
  return isUtf8(bytes) ? bytes.toString('utf8') : bytes.toString('latin1');
}

export function encodeText(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

export class PayloadError extends Error {
  override readonly name: string = 'PayloadError';
}

/** Splits a payload of NUL-terminated strings; a missing final NUL is tolerated (the payload ends the string). */
export function splitStrings(payload: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  while (start < payload.length) {
    const nul = payload.indexOf(0, start);
    if (nul === -1) {
      parts.push(payload.subarray(start));
      break;
    }
    parts.push(payload.subarray(start, nul));
    start = nul + 1;
  }
  return parts;
}

/** Reads one NUL-terminated string at `offset`; returns it and the offset after its NUL. */
export function readCString(payload: Buffer, offset: number, what: string): [Buffer, number] {
  const nul = payload.indexOf(0, offset);
  if (nul === -1) throw new PayloadError(`${what}: string not NUL-terminated`);
  return [payload.subarray(offset, nul), nul + 1];
}

/** Concatenates strings each followed by a NUL. */
export function cstrings(...parts: (string | Buffer)[]): Buffer {
  const bufs: Buffer[] = [];
  for (const p of parts) {
    bufs.push(typeof p === 'string' ? encodeText(p) : p, NUL);
  }
  return Buffer.concat(bufs);
}

const NUL = Buffer.from([0]);

/** decodeText over bytes [start, end) without creating a Buffer view: pure ASCII takes a fast path. */
export function decodeRange(buf: Buffer, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    if (buf[i]! >= 0x80) return decodeText(buf.subarray(start, end));
  }
  return buf.toString('latin1', start, end);
}
