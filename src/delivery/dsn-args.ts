/**
 * The RFC 3461 RCPT parameters a recipient carries on to the next hop, a pure function: NOTIFY as queued
 * and ORCPT as given (xtext, RFC 3461 §4; a value that is not valid xtext is encoded, so a raw one works too).
 */
import type { QueuedRecipient } from '../store/spool.js';

/** RFC 3461 §4: xtext is printable ASCII except '+' and '=', with "+XX" hex escapes for the rest. */
const XTEXT = /^(?:[!-*,-<>-~]|\+[0-9A-F]{2})*$/;

export function encodeXtext(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte > 32 && byte < 127 && byte !== 0x2b && byte !== 0x3d ? String.fromCharCode(byte) : `+${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** " NOTIFY=… ORCPT=…" (leading space) or "" when the recipient has neither. */
export function rcptDsnArgs(recipient: QueuedRecipient): string {
  let args = '';
  const notify = recipient.notify;
  if (notify !== undefined && (notify === 'NEVER' || notify.length > 0)) {
    args += ` NOTIFY=${notify === 'NEVER' ? 'NEVER' : notify.join(',')}`;
  }
  if (recipient.orcpt !== undefined && recipient.orcpt !== '') {
    const orcpt = recipient.orcpt;
    const semi = orcpt.indexOf(';');
    if (semi > 0) {
      const type = orcpt.slice(0, semi);
      const value = orcpt.slice(semi + 1);
      if (/^[A-Za-z0-9-]+$/.test(type)) args += ` ORCPT=${type};${XTEXT.test(value) ? value : encodeXtext(value)}`;
    }
  }
  return args;
}
