/**
 * Our Received field in Postfix's form (smtpd's "Received: from HELO (NAME [ADDR]) by HOST (Postfix) with
 * PROTO id ID for <RCPT>; DATE"), with "Mailgate" in Postfix's place. It is the message's hidden top header:
 * filters never see it, but inserts count it, as Postfix's own Received (mail/header-list.ts).
 */
import type { Header } from '../mail/header-list.js';

export interface ReceivedInput {
  /** The HELO/EHLO name as given; absent when the client sent none. */
  readonly helo?: string;
  /** Reverse-DNS name of the client; absent or "" when it did not resolve (Postfix writes "unknown"). */
  readonly clientName?: string;
  readonly clientAddress: string;
  /** Our host name (myhostname). */
  readonly hostname: string;
  /** SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA (RFC 3848). */
  readonly protocol: string;
  readonly id: string;
  /** The recipient, only when the message has exactly one (Postfix's rule: no list of addresses leaks). */
  readonly recipient?: string;
  /** TLS in use: Postfix writes a comment line with the protocol and cipher. */
  readonly tls?: { readonly version: string; readonly cipher: string; readonly bits?: number };
  readonly date: Date;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 date-time in UTC, as Postfix writes it with TZ=UTC: "Thu, 3 Dec 2026 10:04:10 +0000 (UTC)". */
export function rfc5322Date(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000 (UTC)`;
}

/** Anything a client chose (HELO name, address) without control characters, so it cannot fold or end the field. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, '?');
}

/** "[192.0.2.1]" or "[IPv6:2001:db8::1]", as in Postfix's Received. */
export function addressLiteral(address: string): string {
  return address.includes(':') ? `[IPv6:${address}]` : `[${address}]`;
}

/** The field's value as it follows the colon (leading space), folds as LF + tab (the Message form). */
export function receivedValue(r: ReceivedInput): string {
  const name = r.clientName ? clean(r.clientName) : 'unknown';
  const from = r.helo !== undefined && r.helo !== '' ? clean(r.helo) : name;
  let v = ` from ${from} (${name} ${addressLiteral(clean(r.clientAddress))})`;
  if (r.tls) {
    const bits = r.tls.bits !== undefined ? ` (${r.tls.bits}/${r.tls.bits} bits)` : '';
    v += `\n\t(using ${clean(r.tls.version)} with cipher ${clean(r.tls.cipher)}${bits})`;
  }
  v += `\n\tby ${r.hostname} (Mailgate) with ${r.protocol} id ${r.id}`;
  if (r.recipient !== undefined) v += `\n\tfor <${clean(r.recipient)}>`;
  v += `; ${rfc5322Date(r.date)}`;
  return v;
}

export function receivedHeader(r: ReceivedInput): Header {
  return { name: 'Received', value: receivedValue(r) };
}
