/**
 * INTERIM — until src/imap/wire/encoder.ts (branch i11-wire) lands. Strings in responses: an atom when it
 * is one, a quoted string when it is short 7-bit text without CR/LF, otherwise a literal (as Dovecot
 * chooses); mailbox names modified-UTF-7 encoded first; flag lists.
 */
import type { Flag } from '../../store/mailbox/mailbox-store.js';
import { encodeMutf7 } from '../../mail/mutf7.js';

/** 7-bit, no NUL, CR or LF (TEXT-CHAR of RFC 3501 §9). */
function quotable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0 || c === 10 || c === 13 || c > 0x7f) return false;
  }
  return true;
}

/** A quoted string, or undefined when the text cannot be one (CR, LF, NUL, 8-bit, or over 1,000 chars). */
export function quoted(text: string): string | undefined {
  if (text.length > 1000 || !quotable(text)) return undefined;
  return '"' + text.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}

/** `{n}\r\n` + bytes, for ResponseWriter.untaggedParts. */
export function literal(bytes: Buffer | string): [string, Buffer] {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  return [`{${b.length}}\r\n`, b];
}

/** A string value as one piece of text: quoted when possible, else a literal inline (`{n}\r\n...`). */
export function stringValue(text: string): string {
  const q = quoted(text);
  if (q !== undefined) return q;
  return `{${Buffer.byteLength(text, 'utf8')}}\r\n${text}`;
}

/** nstring: NIL or a string. */
export function nstringValue(text: string | null | undefined): string {
  return text === null || text === undefined ? 'NIL' : stringValue(text);
}

/** A mailbox name as Dovecot writes it: mUTF-7, then quoted (always, as Dovecot does in LIST/STATUS). */
export function mailboxValue(name: string): string {
  return stringValue(encodeMutf7(name));
}

/** `(\Seen $Junk)`. */
export function flagList(flags: readonly Flag[]): string {
  return `(${flags.join(' ')})`;
}
