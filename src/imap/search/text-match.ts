/**
 * Case-insensitive substring matching over Unicode text (RFC 3501 §6.4.4: "case-insensitive substring"):
 * both sides are NFKC-normalised and lower-cased, close to Dovecot's i;unicode-casemap comparator (which
 * also folds titlecase and decomposes). What is matched is the decoded text: header values with their
 * RFC 2047 words decoded, body parts undone from base64/quoted-printable and their charset
 * (src/mail/mime/decode-text.ts). Line breaks of folded header values are removed first.
 */
import { parseAddressList } from '../../mail/mime/address-list.js';
import { searchedAsText } from '../../mail/mime/content-params.js';
import { decodeBodyText, decodeCharset, decodeHeaderValue, decodeTransfer } from '../../mail/mime/decode-text.js';
import { parseHeaderBlock, type HeaderField } from '../../mail/mime/header-block.js';
import type { MimePart } from '../../mail/mime/structure.js';

/** The form both sides are compared in. */
export function fold(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

const utf8 = new TextDecoder('utf-8');

/**
 * A raw header value (byte string) decoded for searching. 8-bit bytes that are not UTF-8 become U+FFFD
 * first, as Dovecot reads them (it does not guess Latin-1, so such bytes never match; checked against it),
 * then decode-text.ts decodes the RFC 2047 words.
 */
function decodeHeader(raw: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\x7f]/.test(raw)) return decodeHeaderValue(raw);
  return decodeHeaderValue(Buffer.from(utf8.decode(Buffer.from(raw, 'latin1')), 'utf8').toString('latin1'));
}

/** A header value as searched: unfolded, encoded words decoded, folded for comparison. */
export function headerText(field: HeaderField): string {
  return fold(decodeHeader(field.value.replace(/\r?\n/g, '')));
}

const ATEXT_OR_SPACE = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ \u0080-\uffff]*$/;

/**
 * An address header as FROM/TO/CC/BCC search it, rebuilt from its parsed addresses as Dovecot does
 * (checked against it): `Name <local@host>`, the decoded name quoted when it is not a plain phrase, a bare
 * address as `<local@host>`, groups as `group: <a@b>;`, addresses separated by ", ". So `FROM "<"` matches
 * every message with a From address, and a display name matches decoded.
 */
export function addressText(field: HeaderField): string {
  const list = parseAddressList(field.value);
  if (list === null) return '';
  let out = '';
  let inGroup = false;
  let first = true;
  for (const a of list) {
    if (a.mailbox === null && a.host === null && a.name === null && a.route === null) {
      out += ';';
      inGroup = false;
      continue;
    }
    if (!first && !(inGroup && out.endsWith(': '))) out += ', ';
    first = false;
    if (a.host === null) {
      out += `${decodeHeader(a.mailbox ?? '')}: `;
      inGroup = true;
      continue;
    }
    const addr = `<${a.mailbox ?? ''}@${a.host}>`;
    if (a.name === null || a.name === '') out += addr;
    else {
      const name = decodeHeader(a.name);
      out += `${ATEXT_OR_SPACE.test(name) ? name : `"${name.replace(/["\\]/g, '\\$&')}"`} ${addr}`;
    }
  }
  return fold(out);
}

/** The message's own header fields (the plain form; SEARCH reads them up to the first blank line). */
export function rootFields(stored: Buffer, root: MimePart): HeaderField[] {
  return parseHeaderBlock(stored, root.headerStart, root.bodyStart);
}

/**
 * Whether BODY and TEXT look into this leaf's body, as Dovecot's message-search.c decides: a part with
 * no Content-Type (text/plain by default), or one whose type is text/* or message/*. Attachments
 * (application/*, image/*, ...) are not searched, nor is a body whose Content-Type has no subtype
 * ("text", "garbage", empty: Dovecot matches the parsed "type/" prefix). Checked against Dovecot.
 */
export function bodySearched(part: Pick<MimePart, 'type' | 'subtype' | 'searchText'>): boolean {
  // with two Content-Type fields or more, Dovecot goes by the last (the parser kept it as searchText)
  if (part.searchText !== undefined) return part.searchText;
  if (part.type === null) return true;
  return searchedAsText(part.type, part.subtype ?? '');
}

/**
 * Every searched leaf body's decoded text (bodySearched), and (with `headers`) every embedded message's
 * and MIME part's header decoded: what BODY (without) and TEXT (with, plus the message's own header)
 * search. The plain form of what body-match.ts does part by part with shortcuts, and what its tests
 * compare it with.
 */
export function bodyTexts(stored: Buffer, root: MimePart, headers: boolean): string[] {
  const out: string[] = [];
  const walk = (part: MimePart, isRoot: boolean): void => {
    if (headers && !isRoot) for (const f of parseHeaderBlock(stored, part.headerStart, part.bodyStart)) out.push(`${f.name}: ${headerText(f)}`);
    // a multipart's own body is preamble and epilogue: not searched (Dovecot), even without parts
    if (part.kind === 'multipart' || part.children.length > 0) {
      for (const child of part.children) walk(child, false);
      return;
    }
    if (!bodySearched(part)) return;
    const bytes = stored.subarray(part.bodyStart, part.end);
    const textual = part.type === null || part.type.toLowerCase() === 'text';
    out.push(fold(textual ? decodeBodyText(bytes, part) : decodeCharset(decodeTransfer(bytes, part.encoding), null)));
  };
  walk(root, true);
  return out;
}

/** Whether `needle` (already folded) is in any of `haystack` (already folded). Empty matches everything. */
export function containsAny(haystack: readonly string[], needle: string): boolean {
  if (needle === '') return true;
  for (const h of haystack) if (h.includes(needle)) return true;
  return false;
}
