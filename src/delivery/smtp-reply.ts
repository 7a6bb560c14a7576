/**
 * SMTP and LMTP replies as the queue's results, pure functions: the reply class decides (2xx delivered,
 * 4xx deferred, 5xx failed), the enhanced code is the reply's own (RFC 3463) when its class agrees, else
 * X.0.0 as Postfix does, and the diagnostic reads as Postfix's "host H said: … (in reply to C command)".
 */
import type { RecipientResult } from '../store/transport.js';

export type ResultStatus = RecipientResult['status'];

/** Text for one log line: control characters (line ends included) become spaces, at most `max` characters. */
export function oneLine(text: string, max = 300): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    out += c < 0x20 || c === 0x7f ? ' ' : ch;
  }
  return out.replace(/ {2,}/g, ' ').trim().slice(0, max);
}

/** What one reply says. */
export interface ParsedReply {
  readonly code: number;
  readonly enhanced: string;
  /** The reply on one line (a multi-line reply's lines joined by a space). */
  readonly text: string;
}

/** Reads an SMTP reply ("550-5.1.1 a\n550 5.1.1 b" or "421 4.4.2 ..."); undefined when it is not one. */
export function parseReply(reply: string): ParsedReply | undefined {
  const text = oneLine(reply, 1000);
  const m = /^([2-5])(\d\d)(?:[ -]|$)(?:([2-5])\.(\d{1,3})\.(\d{1,3})(?=\s|$))?/.exec(text);
  if (m === null) return undefined;
  const cls = m[1] as string;
  const enhanced = m[3] === cls ? `${m[3]}.${m[4]}.${m[5]}` : `${cls}.0.0`;
  return { code: Number(cls + (m[2] as string)), enhanced, text };
}

/** 2xx delivered, 5xx failed, anything else (4xx, a 3xx where none belongs) deferred. */
export function statusOfCode(code: number): ResultStatus {
  if (code >= 200 && code < 300) return 'delivered';
  if (code >= 500 && code < 600) return 'failed';
  return 'deferred';
}

/** The result for one recipient from a remote reply. `host`: "mx.example.org[192.0.2.1]". */
export function resultFromReply(address: string, reply: string, host: string, relay: string, command: string): RecipientResult {
  const parsed = parseReply(reply);
  if (parsed === undefined) {
    const shown = oneLine(reply, 200);
    return {
      address,
      status: 'deferred',
      enhanced: '4.4.2',
      diagnostic: `host ${host} said: unparseable reply "${shown}" (in reply to ${command} command)`,
      relay,
    };
  }
  const status = statusOfCode(parsed.code);
  const enhanced = status === 'deferred' && !parsed.enhanced.startsWith('4') ? '4.0.0' : parsed.enhanced;
  return {
    address,
    status,
    enhanced,
    diagnostic: status === 'delivered' ? parsed.text : `host ${host} said: ${parsed.text} (in reply to ${command} command)`,
    remoteReply: parsed.text,
    relay,
  };
}

/** A result of our own (no remote reply): a connection problem, a DNS answer, a local write. */
export function ownResult(address: string, status: ResultStatus, enhanced: string, diagnostic: string, relay?: string): RecipientResult {
  return relay === undefined ? { address, status, enhanced, diagnostic } : { address, status, enhanced, diagnostic, relay };
}
