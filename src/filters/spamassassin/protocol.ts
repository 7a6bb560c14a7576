/**
 * The SPAMC/SPAMD protocol (what spamc speaks to spamd), as pure functions over bytes.
 *
 * Request:  `<COMMAND> SPAMC/1.5\r\n` `Content-length: N\r\n` [`User: u\r\n`] `\r\n` <message>
 * Response: `SPAMD/1.1 0 EX_OK\r\n` [`Content-length: N\r\n`] [`Spam: True ; 15.0 / 5.0\r\n`] `\r\n` [body]
 *
 * spamd matches request header names case-sensitively (it must be `Content-length`); we read its
 * response headers case-insensitively, since being lenient there costs nothing.
 */

export type SpamdCommand = 'CHECK' | 'SYMBOLS' | 'REPORT' | 'REPORT_IFSPAM' | 'PROCESS' | 'HEADERS' | 'PING' | 'SKIP';

export const PROTOCOL_VERSION = '1.5';

/** sysexits.h codes, which spamd uses as its response codes. */
export const SYSEXITS: Readonly<Record<number, string>> = Object.freeze({
  0: 'EX_OK',
  64: 'EX_USAGE',
  65: 'EX_DATAERR',
  66: 'EX_NOINPUT',
  67: 'EX_NOUSER',
  68: 'EX_NOHOST',
  69: 'EX_UNAVAILABLE',
  70: 'EX_SOFTWARE',
  71: 'EX_OSERR',
  72: 'EX_OSFILE',
  73: 'EX_CANTCREAT',
  74: 'EX_IOERR',
  75: 'EX_TEMPFAIL',
  76: 'EX_PROTOCOL',
  77: 'EX_NOPERM',
  78: 'EX_CONFIG',
});

export const EX_OK = 0;

/** A response that is not SPAMD protocol: the only error parseSpamdResponse throws. */
export class SpamdProtocolError extends Error {
  override readonly name = 'SpamdProtocolError';
}

export interface SpamdRequestOptions {
  /** `User:` header: whose preferences spamd applies (spamc -u). */
  readonly user?: string;
}

/** The whole request, ready to write before half-closing the socket. */
export function encodeSpamdRequest(command: SpamdCommand, message: Buffer, options: SpamdRequestOptions = {}): Buffer {
  const user = options.user;
  if (user !== undefined && !/^[\x21-\x7e][\x20-\x7e]*$/.test(user)) {
    // A CR/LF in the user name would inject request headers.
    throw new RangeError(`spamd user ${JSON.stringify(user)}: must be printable ASCII without line breaks`);
  }
  const head =
    `${command} SPAMC/${PROTOCOL_VERSION}\r\n` +
    (command === 'PING' || command === 'SKIP' ? '' : `Content-length: ${message.length}\r\n`) +
    (user === undefined ? '' : `User: ${user}\r\n`) +
    '\r\n';
  const headBytes = Buffer.from(head, 'latin1');
  return command === 'PING' || command === 'SKIP' ? headBytes : Buffer.concat([headBytes, message]);
}

/** The `Spam:` response header: `True ; 15.0 / 5.0` (REPORT_IFSPAM says Yes/No instead). */
export interface SpamVerdict {
  readonly isSpam: boolean;
  readonly score: number;
  readonly threshold: number;
}

export interface SpamdResponse {
  /** e.g. "1.1" */
  readonly version: string;
  /** sysexits code; 0 (EX_OK) is success. */
  readonly code: number;
  /** The rest of the status line, e.g. "EX_OK", "PONG", "Bad header line: ...". */
  readonly message: string;
  /** Response headers in order, names as sent. */
  readonly headers: readonly (readonly [string, string])[];
  readonly spam: SpamVerdict | undefined;
  readonly contentLength: number | undefined;
  /** The body after the blank line (PROCESS: the rewritten message; HEADERS: its header block). */
  readonly body: Buffer;
}

const STATUS_LINE = /^SPAMD\/(\d{1,3}\.\d{1,3}) +(\d{1,3})(?: +(.*))?$/;
const SPAM_VALUE = /^(True|False|Yes|No) *; *(-?\d{1,12}(?:\.\d{1,12})?) *\/ *(-?\d{1,12}(?:\.\d{1,12})?)$/i;
const CRLF = Buffer.from('\r\n');
const BLANK_LINE = Buffer.from('\r\n\r\n');
/** A status line and a few headers fit in far less; a reply with no end of head is garbage. */
export const MAX_HEAD_BYTES = 8192;

/** Parses `True ; 15.0 / 5.0`; undefined when it is not that shape. */
export function parseSpamValue(value: string): SpamVerdict | undefined {
  const m = SPAM_VALUE.exec(value.trim());
  if (m === null) return undefined;
  const flag = m[1]!.toLowerCase();
  return { isSpam: flag === 'true' || flag === 'yes', score: Number(m[2]), threshold: Number(m[3]) };
}

/** Human name of a response code: `76 EX_PROTOCOL`. */
export function describeCode(code: number): string {
  const name = SYSEXITS[code];
  return name === undefined ? String(code) : `${code} ${name}`;
}

interface Head {
  readonly version: string;
  readonly code: number;
  readonly message: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly contentLength: number | undefined;
  readonly spam: SpamVerdict | undefined;
  /** Offset of the body. */
  readonly bodyStart: number;
}

/**
 * The head of a response, if all of it has arrived; undefined when more bytes are needed.
 * A status line alone ended by the connection (`SPAMD/1.5 0 PONG\r\n`) is complete only when
 * `final` (no more bytes will come).
 */
function parseHead(bytes: Buffer, final: boolean): Head | undefined {
  let headEnd = bytes.indexOf(BLANK_LINE);
  let bodyStart = headEnd + 4;
  if (headEnd === -1) {
    if (bytes.length > MAX_HEAD_BYTES) throw new SpamdProtocolError(`no end of the response head within ${MAX_HEAD_BYTES} bytes`);
    if (!final) {
      checkStatusPrefix(bytes);
      return undefined;
    }
    // spamd ends some replies (PONG, errors) right after the status line.
    const trimmed = bytes.length >= 2 && bytes.subarray(-2).equals(CRLF) ? bytes.length - 2 : bytes.length;
    headEnd = trimmed;
    bodyStart = bytes.length;
  }
  if (headEnd > MAX_HEAD_BYTES) throw new SpamdProtocolError(`response head longer than ${MAX_HEAD_BYTES} bytes`);
  const lines = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const statusLine = lines[0] ?? '';
  const status = STATUS_LINE.exec(statusLine);
  if (status === null) throw new SpamdProtocolError(`not a SPAMD status line: ${quote(statusLine)}`);
  const headers: [string, string][] = [];
  let contentLength: number | undefined;
  let spam: SpamVerdict | undefined;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new SpamdProtocolError(`bad response header line: ${quote(line)}`);
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    headers.push([name, value]);
    const lower = name.toLowerCase();
    if (lower === 'content-length') {
      if (!/^\d{1,12}$/.test(value)) throw new SpamdProtocolError(`bad Content-length: ${quote(value)}`);
      contentLength = Number(value);
    } else if (lower === 'spam') {
      spam = parseSpamValue(value);
      if (spam === undefined) throw new SpamdProtocolError(`bad Spam header: ${quote(value)}`);
    }
  }
  return { version: status[1]!, code: Number(status[2]), message: status[3] ?? '', headers, contentLength, spam, bodyStart };
}

/** Rejects early what can never become a status line (a server speaking something else). */
function checkStatusPrefix(bytes: Buffer): void {
  const start = bytes.subarray(0, 6).toString('latin1');
  if (!'SPAMD/'.startsWith(start.slice(0, Math.min(6, start.length)))) {
    throw new SpamdProtocolError(`not a SPAMD response: ${quote(bytes.subarray(0, 40).toString('latin1'))}`);
  }
}

/**
 * The length of the whole response once its head has arrived and gives a Content-length, so the
 * client can stop reading without waiting for spamd to close; undefined until then (or when the
 * response has no Content-length). Throws SpamdProtocolError for garbage.
 */
export function responseLength(bytes: Buffer): number | undefined {
  const head = parseHead(bytes, false);
  if (head === undefined || head.contentLength === undefined) return undefined;
  return head.bodyStart + head.contentLength;
}

/**
 * Parses a whole response (all bytes up to spamd's close). Throws only SpamdProtocolError: for
 * anything that is not a SPAMD response, and for a body shorter or longer than its Content-length
 * (a connection cut mid-answer).
 */
export function parseSpamdResponse(bytes: Buffer): SpamdResponse {
  if (bytes.length === 0) throw new SpamdProtocolError('empty response (spamd closed the connection without answering)');
  const head = parseHead(bytes, true);
  if (head === undefined) throw new SpamdProtocolError('incomplete response head');
  const body = bytes.subarray(head.bodyStart);
  if (head.contentLength !== undefined && body.length !== head.contentLength) {
    throw new SpamdProtocolError(
      body.length < head.contentLength
        ? `response cut short: ${body.length} of ${head.contentLength} body bytes`
        : `response body longer than its Content-length (${body.length} > ${head.contentLength})`,
    );
  }
  return {
    version: head.version,
    code: head.code,
    message: head.message,
    headers: head.headers,
    spam: head.spam,
    contentLength: head.contentLength,
    body,
  };
}

function quote(s: string): string {
  const clipped = s.length > 80 ? `${s.slice(0, 77)}...` : s;
  return JSON.stringify(clipped);
}
