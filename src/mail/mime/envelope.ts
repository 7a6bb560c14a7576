/**
 * A header's fields → HeaderEnvelope, as Dovecot collects them (message-part-data.c): of a repeated
 * Date, Subject, In-Reply-To or Message-ID the last one wins, a repeated address field (From, To...)
 * adds its addresses to the list; strings are the raw unfolded values
 * (a NUL byte becomes U+FFFD's UTF-8 bytes, as Dovecot's message_header_strdup does), address fields
 * are parsed by address-list.ts. RFC 3501's defaults (Sender and Reply-To fall back to From) are the
 * formatter's job (imap/fetch/envelope.ts), so the cached value stays what the message says.
 */
import { parseAddressList } from './address-list.js';
import type { HeaderField } from './header-block.js';
import type { EnvelopeAddress, HeaderEnvelope } from './structure.js';

const NUL_REPLACEMENT = '\xef\xbf\xbd';

/** A raw value with NULs replaced (byte string in, byte string out). */
export function headerString(value: string): string {
  return value.includes('\0') ? value.replace(/\0/g, NUL_REPLACEMENT) : value;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export const EMPTY_ENVELOPE: HeaderEnvelope = {
  date: null,
  subject: null,
  from: null,
  sender: null,
  replyTo: null,
  to: null,
  cc: null,
  bcc: null,
  inReplyTo: null,
  messageId: null,
};

const STRING_FIELDS: Record<string, 'date' | 'subject' | 'inReplyTo' | 'messageId'> = {
  date: 'date',
  subject: 'subject',
  'in-reply-to': 'inReplyTo',
  'message-id': 'messageId',
};
const ADDRESS_FIELDS: Record<string, 'from' | 'sender' | 'replyTo' | 'to' | 'cc' | 'bcc'> = {
  from: 'from',
  sender: 'sender',
  'reply-to': 'replyTo',
  to: 'to',
  cc: 'cc',
  bcc: 'bcc',
};

/** The envelope of a message whose header fields are `fields`. */
export function envelopeFromFields(fields: readonly HeaderField[]): HeaderEnvelope {
  const env: Mutable<HeaderEnvelope> = { ...EMPTY_ENVELOPE };
  for (const f of fields) {
    if (!f.hasColon) continue; // a line without ':' names no field
    const name = f.name.toLowerCase();
    const s = STRING_FIELDS[name];
    if (s !== undefined) {
      env[s] = headerString(f.value);
      continue;
    }
    const a = ADDRESS_FIELDS[name];
    if (a !== undefined) {
      // a repeated address field adds its addresses to the list
      const more = parseAddressList(f.value);
      if (more !== null) env[a] = env[a] === null ? more : [...(env[a] as EnvelopeAddress[]), ...more];
    }
  }
  return env;
}
