/**
 * HeaderEnvelope → the ENVELOPE value (RFC 3501 §7.4.2) exactly as Dovecot writes it
 * (src/lib-imap/imap-envelope.c, behaviour reproduced): date, in-reply-to and message-id as raw
 * nstrings (line breaks of folded values removed), the subject and display names cleaned "for humans", Sender and Reply-To defaulting to
 * From, NIL for an absent or empty address list, groups as (NIL NIL "name" NIL) ... (NIL NIL NIL NIL).
 * Nothing is decoded: RFC 2047 words and 8-bit bytes go out raw (8-bit ones as literals).
 */
import type { EnvelopeAddress, HeaderEnvelope } from '../../mail/mime/structure.js';
import { imapNString, imapNStringNoLf, imapStringForHumans } from './quote.js';

function addressList(list: readonly EnvelopeAddress[] | null): string {
  if (list === null || list.length === 0) return 'NIL';
  let out = '(';
  for (const a of list) {
    out += `(${a.name === null ? 'NIL' : imapStringForHumans(a.name)} ${imapNString(a.route)} ${imapNString(a.mailbox)} ${imapNString(a.host)})`;
  }
  return out + ')';
}

/** The inside of the ENVELOPE list (without the parentheses), as a byte string. */
export function envelopeFields(env: HeaderEnvelope | null): string {
  if (env === null) return 'NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL';
  return [
    imapNStringNoLf(env.date),
    env.subject === null ? 'NIL' : imapStringForHumans(env.subject),
    addressList(env.from),
    addressList(env.sender ?? env.from),
    addressList(env.replyTo ?? env.from),
    addressList(env.to),
    addressList(env.cc),
    addressList(env.bcc),
    imapNStringNoLf(env.inReplyTo),
    imapNStringNoLf(env.messageId),
  ].join(' ');
}

/** `(date subject from sender reply-to to cc bcc in-reply-to message-id)` as bytes. */
export function formatEnvelope(env: HeaderEnvelope | null): Buffer {
  return Buffer.from(`(${envelopeFields(env)})`, 'latin1');
}
