/**
 * The clamd protocol as pure functions over bytes. Commands use the `z` form: the command and the
 * reply each end with a NUL byte (the `n` form's newline could appear in a file name). INSTREAM sends
 * the data as chunks of <uint32 big-endian length><bytes>, then a zero length.
 */

export const ZINSTREAM = Buffer.from('zINSTREAM\0', 'latin1');
export const ZPING = Buffer.from('zPING\0', 'latin1');
export const ZVERSION = Buffer.from('zVERSION\0', 'latin1');
/** Starts a session: the connection then takes command after command, replies numbered "N: ". */
export const ZIDSESSION = Buffer.from('zIDSESSION\0', 'latin1');
export const ZEND = Buffer.from('zEND\0', 'latin1');

/** clamd's own chunk limit is StreamMaxLength; smaller chunks only cost headers, so this is generous. */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;

/** Longest reply accepted; clamd's are one short line, anything longer is not clamd. */
export const MAX_REPLY_LENGTH = 4096;

/** The zero-length chunk that ends an INSTREAM stream. */
export const END_OF_STREAM: Buffer = Buffer.alloc(4);

/**
 * The whole zINSTREAM request for `parts` (one logical stream, sent back to back), as buffers to
 * write in order: the command, the data chunks (see `frameChunks`), then the terminator.
 */
export function encodeInstream(parts: readonly Buffer[], chunkSize = DEFAULT_CHUNK_SIZE): Buffer[] {
  return [ZINSTREAM, ...frameChunks(parts, chunkSize), END_OF_STREAM];
}

/**
 * `parts` as INSTREAM data chunks of up to `chunkSize` bytes, each preceded by its length. Chunks
 * run across part boundaries, so small parts make one chunk (clamd handles each chunk separately);
 * parts are not copied. No parts, or only empty ones, give no chunk (a zero length would end the stream).
 */
export function frameChunks(parts: readonly Buffer[], chunkSize = DEFAULT_CHUNK_SIZE): Buffer[] {
  if (!(chunkSize >= 1 && chunkSize <= 0xffffffff)) throw new RangeError(`chunk size ${chunkSize} is not from 1 to 2^32-1`);
  const out: Buffer[] = [];
  let lengthAt = -1; // index in `out` of the open chunk's length field
  let inChunk = 0;
  const closeChunk = (): void => {
    if (lengthAt >= 0) out[lengthAt]!.writeUInt32BE(inChunk, 0);
    lengthAt = -1;
    inChunk = 0;
  };
  for (const part of parts) {
    let at = 0;
    while (at < part.length) {
      if (lengthAt < 0) {
        lengthAt = out.length;
        out.push(Buffer.allocUnsafe(4));
      }
      const take = Math.min(part.length - at, chunkSize - inChunk);
      out.push(take === part.length ? part : part.subarray(at, at + take));
      at += take;
      inChunk += take;
      if (inChunk === chunkSize) closeChunk();
    }
  }
  closeChunk();
  return out;
}

/** The data an INSTREAM request carries, read back (for tests and fake servers); undefined until complete. */
export function decodeInstream(bytes: Buffer): { data: Buffer; length: number } | undefined {
  if (bytes.length < ZINSTREAM.length || !bytes.subarray(0, ZINSTREAM.length).equals(ZINSTREAM)) {
    throw new Error('not a zINSTREAM request');
  }
  const chunks: Buffer[] = [];
  let at = ZINSTREAM.length;
  for (;;) {
    if (bytes.length < at + 4) return undefined;
    const n = bytes.readUInt32BE(at);
    at += 4;
    if (n === 0) return { data: Buffer.concat(chunks), length: at };
    if (bytes.length < at + n) return undefined;
    chunks.push(bytes.subarray(at, at + n));
    at += n;
  }
}

/**
 * Finds the first reply in what was received so far: its text (without the NUL), or undefined while
 * incomplete. Throws when the bytes cannot be a clamd reply (too long without a NUL).
 */
export function takeReply(received: Buffer): string | undefined {
  const nul = received.indexOf(0);
  if (nul === -1) {
    if (received.length > MAX_REPLY_LENGTH) throw new Error(`no reply end after ${received.length} bytes`);
    return undefined;
  }
  if (nul > MAX_REPLY_LENGTH) throw new Error(`reply of ${nul} bytes is longer than clamd's`);
  // clamd writes its replies in ASCII; latin1 keeps any stray byte visible, one character each.
  return received.toString('latin1', 0, nul);
}

/** What clamd said about a scanned stream. */
export type ScanReply =
  | { readonly kind: 'clean' }
  | { readonly kind: 'infected'; readonly virus: string }
  /** clamd could not scan: "INSTREAM size limit exceeded. ERROR", "stream: Can't ... ERROR". */
  | { readonly kind: 'error'; readonly message: string; readonly sizeLimit: boolean }
  /** Not a reply clamd gives to INSTREAM. */
  | { readonly kind: 'unknown'; readonly text: string };

const PRINTABLE = /^[\x20-\x7e]*$/;
const CLEAN: ScanReply = Object.freeze({ kind: 'clean' });

/**
 * Parses the reply to INSTREAM. A session prefix ("12: ") from IDSESSION is tolerated. The virus name
 * is the last word before FOUND, as clamav-milter takes it.
 */
export function parseScanReply(text: string): ScanReply {
  if (text === 'stream: OK') return CLEAN;
  const line = text.replace(/\r?\n$/, '');
  if (!PRINTABLE.test(line)) return { kind: 'unknown', text: line };
  const body = line.replace(/^\d+: /, '');
  if (body === 'stream: OK') return CLEAN;
  if (body.endsWith(' ERROR')) {
    const message = body.slice(0, -' ERROR'.length).replace(/^stream: /, '').trim();
    return { kind: 'error', message, sizeLimit: /size limit exceeded/i.test(message) };
  }
  const found = /^stream: (?:.* )?(\S+) FOUND$/.exec(body);
  if (found) return { kind: 'infected', virus: found[1]! };
  return { kind: 'unknown', text: line };
}

/** `PONG` → true. */
export function parsePing(text: string): boolean {
  return text.replace(/^\d+: /, '').trim() === 'PONG';
}

export interface ClamdVersion {
  /** Engine version, e.g. "1.4.6". */
  readonly engine: string;
  /** Signature database version, e.g. "27345"; absent when clamd has none loaded from the official feed. */
  readonly database?: string;
  readonly raw: string;
}

/** `ClamAV 1.4.6/27345/Mon Jul 21 08:00:00 2025` (or just `ClamAV 1.4.6`) → its parts; undefined if not that. */
export function parseVersion(text: string): ClamdVersion | undefined {
  const raw = text.replace(/^\d+: /, '').trim();
  const m = /^ClamAV ([0-9][\w.+~-]*)(?:\/(\d+)(?:\/.*)?)?$/.exec(raw);
  if (!m || !PRINTABLE.test(raw)) return undefined;
  return { engine: m[1]!, ...(m[2] === undefined ? {} : { database: m[2] }), raw };
}
