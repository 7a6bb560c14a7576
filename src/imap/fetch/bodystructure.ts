/**
 * MimePart → the BODY and BODYSTRUCTURE values (RFC 3501 §7.4.2) exactly as Dovecot writes them
 * (src/lib-imap/imap-bodystructure.c, behaviour reproduced): type and subtype as written in the
 * header (case kept), "text" "plain" with ("charset" "us-ascii") when there is no Content-Type, a
 * charset added to text/* parameters that lack one, "7bit" when there is no Content-Transfer-Encoding,
 * sizes in CRLF octets, line counts for text/* and message/rfc822, the embedded envelope and body of a
 * message/rfc822, extension data (md5, disposition, language, location) for BODYSTRUCTURE, and a
 * multipart without parts as one empty text/plain part.
 */
import type { MimeParam, MimePart } from '../../mail/mime/structure.js';
import { envelopeFields } from './envelope.js';
import { imapNStringNoLf, imapString } from './quote.js';

const EMPTY_BODY = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)';
const EMPTY_BODYSTRUCTURE = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)';

function params(list: readonly MimeParam[], defaultCharset: boolean): string {
  if (!defaultCharset && list.length === 0) return 'NIL';
  const items: string[] = [];
  let seenCharset = false;
  for (const p of list) {
    if (defaultCharset && p.name.toLowerCase() === 'charset') seenCharset = true;
    items.push(`${imapString(p.name)} ${imapString(p.value)}`);
  }
  if (defaultCharset && !seenCharset) items.push('"charset" "us-ascii"');
  return `(${items.join(' ')})`;
}

function extensionCommon(part: MimePart): string {
  const disposition =
    part.disposition === null ? 'NIL' : `(${imapString(part.disposition)} ${params(part.dispositionParams, false)})`;
  const language = part.language === null ? 'NIL' : `(${part.language.map(imapString).join(' ')})`;
  return ` ${disposition} ${language} ${imapNStringNoLf(part.location)}`;
}

function siblings(parts: readonly MimePart[], extended: boolean): string {
  return parts.map((p) => `(${write(p, extended)})`).join('');
}

function writeMultipart(part: MimePart, extended: boolean): string {
  let out = part.children.length > 0 ? siblings(part.children, extended) : extended ? EMPTY_BODYSTRUCTURE : EMPTY_BODY;
  out += ` ${imapString(part.subtype ?? '')}`;
  if (!extended) return out;
  return out + ` ${params(part.params, false)}` + extensionCommon(part);
}

function writeLeaf(part: MimePart, extended: boolean): string {
  let out: string;
  let text: boolean;
  if (part.kind === 'message') {
    out = '"message" "rfc822"';
    text = false;
  } else if (part.type === null) {
    out = '"text" "plain"';
    text = true;
  } else if (isContainer(part.type, part.subtype)) {
    // a multipart or message/rfc822 that was not parsed as one (broken Content-Type, or past the
    // nesting/part limits) is sent as an opaque blob, as Dovecot does
    out = '"application" "octet-stream"';
    text = false;
  } else {
    text = part.type.toLowerCase() === 'text';
    out = `${imapString(part.type)} ${imapString(part.subtype ?? '')}`;
  }
  out += ` ${params(part.params, text)}`;
  out += ` ${imapNStringNoLf(part.id)} ${imapNStringNoLf(part.description)}`;
  out += ` ${part.encoding === null ? '"7bit"' : imapString(part.encoding)} ${part.body.virtual}`;
  const child = part.children[0];
  if (text) out += ` ${part.body.lines}`;
  else if (part.kind === 'message' && child !== undefined) {
    out += ` (${envelopeFields(child.envelope)}) ${siblings([child], extended)} ${part.body.lines}`;
  }
  if (!extended) return out;
  return out + ` ${imapNStringNoLf(part.md5)}` + extensionCommon(part);
}

function isContainer(type: string, subtype: string | null): boolean {
  const t = type.toLowerCase();
  return t === 'multipart' || (t === 'message' && (subtype ?? '').toLowerCase() === 'rfc822');
}

function write(part: MimePart, extended: boolean): string {
  return part.kind === 'multipart' ? writeMultipart(part, extended) : writeLeaf(part, extended);
}

/** The BODYSTRUCTURE value (extension data included), parenthesised, as a byte string. */
export function bodystructureString(root: MimePart): string {
  return `(${write(root, true)})`;
}

/** The BODY value (no extension data), parenthesised, as a byte string. */
export function bodyString(root: MimePart): string {
  return `(${write(root, false)})`;
}

/** BODYSTRUCTURE as bytes. */
export function formatBodystructure(root: MimePart): Buffer {
  return Buffer.from(bodystructureString(root), 'latin1');
}

/** BODY (the non-extensible form) as bytes. */
export function formatBody(root: MimePart): Buffer {
  return Buffer.from(bodyString(root), 'latin1');
}
