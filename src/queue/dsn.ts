/**
 * RFC 3464 delivery status notifications as Postfix's bounce daemon writes them: multipart/report with
 * a human part, a message/delivery-status part, and the returned message (message/rfc822) or its headers
 * (text/rfc822-headers). Pure: bytes in, bytes out. Bounces (failed), delay warnings (delayed) and
 * success notices (delivered/relayed) share the form and differ in subject, text and returned content.
 */
import type { Envelope } from './queue-file.js';

export type DsnKind = 'failure' | 'delay' | 'success';

export interface DsnRecipient {
  readonly address: string;
  readonly original: string;
  readonly orcpt?: string;
  readonly action: 'failed' | 'delayed' | 'delivered' | 'relayed';
  /** Enhanced status code, e.g. "5.1.1". */
  readonly status: string;
  readonly diagnostic?: string;
  readonly remoteReply?: string;
  readonly relay?: string;
}

export interface DsnInput {
  readonly kind: DsnKind;
  /** Our name (myhostname): Reporting-MTA and MAILER-DAEMON's domain. */
  readonly hostname: string;
  /** The DSN's own queue id (Message-Id, boundary). */
  readonly dsnId: string;
  readonly envelope: Envelope;
  readonly recipients: readonly DsnRecipient[];
  /** The original message (headers and body as queued). */
  readonly original: Buffer;
  /** Return the whole message (RET=FULL or the default within bounce_size_limit), else its headers. */
  readonly returnFull: boolean;
  readonly now: Date;
  /** For a delay warning: until when the queue keeps trying (Will-Retry-Until). */
  readonly retryUntil?: Date;
}

/** Postfix's bounce_size_limit: a larger message comes back as its headers only. */
export const BOUNCE_SIZE_LIMIT = 50_000;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const two = (n: number): string => String(n).padStart(2, '0');

/** RFC 5322 date-time in UTC: "Thu, 03 Dec 2026 10:04:20 +0000". */
export function rfc5322Date(d: Date): string {
  return (
    `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
  );
}

/** The header section of a message, up to and without the empty line (CRLF or bare LF). */
export function headerSection(message: Buffer): Buffer {
  for (let i = 0; i < message.length; i++) {
    if (message[i] !== 0x0a) continue;
    if (message[i + 1] === 0x0a) return message.subarray(0, i + 1);
    if (message[i + 1] === 0x0d && message[i + 2] === 0x0a) return message.subarray(0, i + 1);
  }
  return message;
}

/** Bare LF → CRLF (the queue file may hold either; a DSN goes out in CRLF). */
function crlf(b: Buffer): Buffer {
  const s = b.toString('latin1').replace(/\r?\n/g, '\r\n');
  return Buffer.from(s, 'latin1');
}

/** "mx.example.org[192.0.2.1]:25" → "mx.example.org"; undefined for a local delivery. */
export function remoteMta(relay: string | undefined): string | undefined {
  if (relay === undefined) return undefined;
  const m = /^([^[\]\s:]+)\[[^\]]*\](?::\d+)?$/.exec(relay);
  return m?.[1];
}

/**
 * One text line with no CR/LF (a diagnostic is one line, but a remote reply may carry several), cut so
 * that no line of the DSN passes RFC 5322's 998 characters.
 */
const oneLine = (s: string): string => {
  const line = s.replace(/[\r\n]+/g, ' ').trim();
  return line.length > 900 ? `${line.slice(0, 900)}...` : line;
};

/** RFC 6533: an address with non-ASCII characters (SMTPUTF8) is of type utf-8, else rfc822. */
const addressField = (address: string): string => (/[^\p{ASCII}]/u.test(address) ? `utf-8; ${address}` : `rfc822; ${address}`);

const TEXT: Record<DsnKind, { subject: string; body: string[]; third: string }> = {
  failure: {
    subject: 'Undelivered Mail Returned to Sender',
    body: [
      "I'm sorry to have to inform you that your message could not",
      "be delivered to one or more recipients. It's attached below.",
      '',
      'For further assistance, please send mail to postmaster.',
      '',
      'If you do so, please include this problem report. You can',
      'delete your own text from the attached returned message.',
    ],
    third: 'Undelivered Message',
  },
  delay: {
    subject: 'Delayed Mail (still being retried)',
    body: [
      '####################################################################',
      '# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #',
      '####################################################################',
      '',
      'Your message could not be delivered for some time.',
      'It will be retried until it is too old.',
    ],
    third: 'Undelivered Message Headers',
  },
  success: {
    subject: 'Successful Mail Delivery Report',
    body: [
      'Your message was successfully delivered to the destination(s)',
      'listed below. If the message was delivered to mailbox you will',
      'receive no further notifications. Otherwise you may still receive',
      'notifications of mail delivery errors from other systems.',
    ],
    third: 'Delivered Message Headers',
  },
};

export function composeDsn(input: DsnInput): Buffer {
  const { kind, hostname, envelope: env, now } = input;
  const text = TEXT[kind];
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const boundary = `${input.dsnId}.${Math.floor(now.getTime() / 1000)}/${hostname}`;
  const full = kind === 'failure' && input.returnFull;
  const returned = full ? crlf(input.original) : crlf(headerSection(input.original));
  const lines: string[] = [
    `From: MAILER-DAEMON@${hostname} (Mail Delivery System)`,
    `To: ${env.sender}`,
    `Subject: ${text.subject}`,
    `Auto-Submitted: auto-replied`,
    `MIME-Version: 1.0`,
    `Content-Type: multipart/report; report-type=delivery-status;`,
    `\tboundary="${boundary}"`,
    `Content-Transfer-Encoding: 8bit`,
    `Message-Id: <${stamp}.${input.dsnId}@${hostname}>`,
    `Date: ${rfc5322Date(now)}`,
    ``,
    `This is a MIME-encapsulated message.`,
    ``,
    `--${boundary}`,
    `Content-Description: Notification`,
    `Content-Type: text/plain; charset=utf-8`,
    `Content-Transfer-Encoding: 8bit`,
    ``,
    `This is the mail system at host ${hostname}.`,
    ``,
    ...text.body,
    ``,
    `                   The mail system`,
    ``,
  ];
  for (const r of input.recipients) {
    const why = kind === 'success' ? `${r.action} to ${r.relay ?? 'mailbox'}` : (r.diagnostic ?? r.status);
    lines.push(`<${r.address}>${r.original !== r.address ? ` (expanded from <${r.original}>)` : ''}: ${oneLine(why)}`, '');
  }
  lines.push(`--${boundary}`, `Content-Description: Delivery report`, `Content-Type: message/delivery-status`, ``);
  if (env.envid !== undefined) lines.push(`Original-Envelope-Id: ${oneLine(env.envid)}`);
  lines.push(
    `Reporting-MTA: dns; ${hostname}`,
    `X-Mailgate-Queue-ID: ${env.id}`,
    `X-Mailgate-Sender: ${addressField(env.sender)}`,
    `Arrival-Date: ${rfc5322Date(new Date(env.arrival))}`,
  );
  for (const r of input.recipients) {
    lines.push('', `Final-Recipient: ${addressField(r.address)}`);
    // RFC 3464 §2.3.1: from ORCPT when the client gave one; else, as Postfix, the address before alias expansion.
    if (r.orcpt !== undefined) lines.push(`Original-Recipient: ${oneLine(r.orcpt)}`);
    else if (r.original !== r.address) lines.push(`Original-Recipient: ${addressField(r.original)}`);
    lines.push(`Action: ${r.action}`, `Status: ${r.status}`);
    const mta = remoteMta(r.relay);
    if (mta !== undefined) lines.push(`Remote-MTA: dns; ${mta}`);
    if (r.remoteReply !== undefined) lines.push(`Diagnostic-Code: smtp; ${oneLine(r.remoteReply)}`);
    else if (r.diagnostic !== undefined && kind !== 'success') lines.push(`Diagnostic-Code: X-Mailgate; ${oneLine(r.diagnostic)}`);
    if (kind === 'delay' && input.retryUntil !== undefined) lines.push(`Will-Retry-Until: ${rfc5322Date(input.retryUntil)}`);
  }
  lines.push(
    '',
    `--${boundary}`,
    `Content-Description: ${full ? text.third : text.third.replace(/( Headers)?$/, ' Headers')}`,
    `Content-Type: ${full ? 'message/rfc822' : 'text/rfc822-headers'}`,
    `Content-Transfer-Encoding: 8bit`,
    '',
    '',
  );
  const head = Buffer.from(lines.join('\r\n'), 'utf8');
  const tail = Buffer.from(`${returned.length > 0 && !returned.subarray(-2).equals(Buffer.from('\r\n')) ? '\r\n' : ''}\r\n--${boundary}--\r\n`, 'latin1');
  return Buffer.concat([head, returned, tail]);
}
