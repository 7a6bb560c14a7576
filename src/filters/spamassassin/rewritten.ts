/**
 * The message SpamAssassin sends back (PROCESS) or its header block (HEADERS), split into header
 * fields and body. Values keep their folding (`\r\n\t...`), without the space after the colon.
 */
import type { Header } from '../../mail/header-list.js';

export interface RewrittenMessage {
  readonly headers: readonly Header[];
  /** Bytes after the blank line; empty for HEADERS. */
  readonly body: Buffer;
}

/** Parses loosely: SpamAssassin wrote it, and a line that is not a field is simply not kept. */
export function parseRewrittenMessage(bytes: Buffer): RewrittenMessage {
  const crlf = bytes.indexOf('\r\n\r\n');
  const lf = bytes.indexOf('\n\n');
  let headEnd: number;
  let bodyStart: number;
  if (crlf !== -1 && (lf === -1 || crlf < lf)) [headEnd, bodyStart] = [crlf + 2, crlf + 4];
  else if (lf !== -1) [headEnd, bodyStart] = [lf + 1, lf + 2];
  else [headEnd, bodyStart] = [bytes.length, bytes.length];
  // latin1 keeps every byte as one char; values are turned back into bytes the same way.
  const head = bytes.subarray(0, headEnd).toString('latin1');
  const headers: { name: string; value: string }[] = [];
  for (const line of head.split(/(?<=\n)/)) {
    if (line === '\r\n' || line === '\n' || line === '') continue;
    const last = headers[headers.length - 1];
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      last.value += `\r\n${line.replace(/\r?\n$/, '')}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon);
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) continue;
    headers.push({ name, value: line.slice(colon + 1).replace(/\r?\n$/, '').replace(/^[ \t]+/, '') });
  }
  return { headers: headers.map((h) => ({ name: decodeLatin1(h.name), value: decodeLatin1(h.value) })), body: bytes.subarray(bodyStart) };
}

/** Header text back to a string the way the MTA gives them: UTF-8 when valid, else Latin-1. */
function decodeLatin1(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return s;
  const bytes = Buffer.from(s, 'latin1');
  const utf8 = bytes.toString('utf8');
  return Buffer.from(utf8, 'utf8').equals(bytes) ? utf8 : s;
}

/** Whether a header belongs to SpamAssassin's X-Spam-* family. */
export function isSpamHeader(name: string): boolean {
  return name.length > 7 && name.slice(0, 7).toLowerCase() === 'x-spam-';
}

/**
 * A value for the wire to spamd: line breaks inside it as CRLF (milter values fold with LF), each
 * followed by white space so that a stray line break cannot start a field of its own.
 */
export function toWireValue(value: string): string {
  return value.includes('\n') || value.includes('\r') ? value.replace(/\r?\n([ \t])?|\r/g, (_m, ws: string | undefined) => `\r\n${ws ?? ' '}`) : value;
}

/** A value for a milter change: folded with LF alone, as libmilter asks (the MTA adds the CR). */
export function toMilterValue(value: string): string {
  return value.includes('\r') ? value.replace(/\r\n/g, '\n') : value;
}

/** A value compared for meaning: unfolded, outer spaces dropped. */
export function unfolded(value: string): string {
  return value.replace(/\r?\n(?=[ \t])/g, '').trim();
}
