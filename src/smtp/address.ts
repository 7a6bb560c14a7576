/**
 * The RFC 5321 path of MAIL FROM / RCPT TO, parsed strictly: a pure function from the text to either the
 * parts the relay decision and the accounts need, or the reply Postfix gives for bad syntax. Kept apart from
 * the relay policy so that both can be fuzzed on their own (issue 10 §2, "Reliability and bad input").
 *
 * What reaches us (smtp-server 3.21, _parseAddressCommand, checked on the wire in relay-wire.test.ts):
 * onMailFrom/onRcptTo get `address.address` with the angle brackets gone and a leading source route
 * silently dropped ("<@a,@b:user@c>" arrives as "user@c"); the parameters are split off at the first
 * whitespace, so a space anywhere inside the path (even quoted) is already its 501; a path with more than
 * one "@" (so "user@other"@local and user\@other@local), a domain with a trailing dot, "..", or a
 * character outside [A-Za-z0-9.-] and U+0080..U+FFFF, and any control or zero-width character are also
 * refused there ("501 Error: Bad recipient address syntax"). What does get through includes "%", "!",
 * backslashes and comments in the local part, quoted local parts, IP literals (IPv6 ones normalised,
 * zone ids such as "%lo" kept), a bare dotted quad as the domain, full-width look-alike domains, and case
 * as typed; an A-label domain is turned into Unicode (U-labels) even without SMTPUTF8. This parser takes
 * that bare form and the full bracketed form ("<@a,@b:user@domain>") alike and is strict on its own: it
 * relies on none of smtp-server's checks, so it can be given the raw command text as well.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';
import type { Reply } from '../mail/reply.js';

export interface ParseOptions {
  /** The MAIL FROM carried SMTPUTF8 (RFC 6531): a non-ASCII local part is allowed. */
  readonly smtputf8: boolean;
  /** Which command the path came from: decides the reply (5.1.7 or 5.1.3), `<>` and bare postmaster. Default 'recipient'. */
  readonly role?: 'sender' | 'recipient';
}

/** An address literal's IP, normalised (IPv4 dotted quad; IPv6 as node:net's canonical lower-case form). */
export interface IpLiteral {
  readonly family: 4 | 6;
  readonly address: string;
}

export interface ParsedPath {
  /** 'null' is the sender `<>`; 'postmaster' the domainless RCPT TO:<Postmaster> of RFC 5321 §4.1.1.3. */
  readonly kind: 'mailbox' | 'null' | 'postmaster';
  /** The local part as meant: quotes and quoted-pair backslashes removed, case kept ('' for a null path). */
  readonly localPart: string;
  /** The local part was written as a quoted string. */
  readonly quoted: boolean;
  /**
   * The domain, lower-cased, in ASCII (IDN as A-labels), one trailing dot removed (as Postfix's
   * trivial-rewrite does); an address literal as "[192.0.2.1]" or "[ipv6:2001:db8::1]". '' when kind is not 'mailbox'.
   */
  readonly domain: string;
  /** The same domain with U-labels (equal to `domain` when it has no IDN label). */
  readonly domainUnicode: string;
  /** Set when the domain is an address literal; such a domain is never a local domain unless configured. */
  readonly ipLiteral?: IpLiteral;
  /** The source route's domains ("@a,@b:" → ["a", "b"], lower-cased) when one was given. */
  readonly sourceRoute?: readonly string[];
  /** The domain had one trailing dot (removed in `domain`). */
  readonly trailingDot: boolean;
  /** "localPart@domain" with the local part re-quoted when it needs quotes: the key for Accounts.resolve. */
  readonly address: string;
}

export interface PathError {
  /** Why, for the log line (never sent to the client). */
  readonly error: string;
  /** Postfix's reply: 501 5.1.3 Bad recipient address syntax / 501 5.1.7 Bad sender address syntax (553 5.6.7 for UTF-8 without SMTPUTF8). */
  readonly reply: Reply;
}

export function isPathError(r: ParsedPath | PathError): r is PathError {
  return 'error' in r;
}

/** Longer input is refused before any scanning: RFC 5321 §4.5.3.1.3 caps a path at 256 octets. */
const MAX_PATH_OCTETS = 256;
/** RFC 1035: 253 characters of name without the root dot, 63 per label. */
const MAX_DOMAIN = 253;
const MAX_LABEL = 63;

/** RFC 5321 atext (RFC 5322 §3.2.3): ASCII letters, digits and these; a table by char code (every RCPT reads it). */
const ATEXT = new Uint8Array(128);
for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~") ATEXT[ch.charCodeAt(0)] = 1;
/** Printable ASCII and the space: text made only of these holds nothing FORBIDDEN or UNICODE_SPACE looks for. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;
/**
 * Characters that never belong in an address, even under SMTPUTF8: controls (C0, DEL, C1), the
 * replacement character (undecodable 8-bit input), lone surrogates, invisible formatting and bidi controls.
 */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\ufffd\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff0-\ufff8]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** Unicode spaces and separators other than the ASCII space (which only a quoted string may hold). */
const UNICODE_SPACE = /(?! )\p{Z}/u;
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function octets(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** A local part that can be written without quotes (Dot-string; UTF-8 counted as atext, RFC 6531). */
export function isDotString(s: string): boolean {
  if (s === '' || s.startsWith('.') || s.endsWith('.') || s.includes('..')) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // '.' is 0x2e; anything above ASCII counts as atext (RFC 6531)
    if (c < 0x80 && c !== 0x2e && ATEXT[c] !== 1) return false;
  }
  return true;
}

/** The local part as written in a path: bare when it is a Dot-string, else quoted with backslashes before " and \\. */
export function quoteLocalPart(localPart: string): string {
  return isDotString(localPart) ? localPart : `"${localPart.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * An "xn--" label that is real Punycode for a U-label which maps back to it. Node's own checks differ by
 * version (Node 20 answers '' for "xn--zz", Node 24 hands it back unchanged), so both are caught here: the
 * decoded label must differ from the input and encode to it again.
 */
function isALabel(label: string): boolean {
  const unicode = domainToUnicode(label);
  return unicode !== '' && unicode !== label && domainToASCII(unicode) === label;
}

type DomainResult = { ascii: string; unicode: string; trailingDot: boolean } | { problem: string };

/**
 * A domain name (not an address literal): LDH labels, or U-labels that IDNA maps to themselves (so no
 * full-width letters or invisible characters standing in for ASCII ones). One trailing dot is allowed and
 * removed, as Postfix's trivial-rewrite strips it ("user@example.com." is user@example.com). A top label
 * made of digits only is refused: that is an IP address without brackets, never a domain.
 */
function parseDomain(raw: string, allowTrailingDot: boolean): DomainResult {
  let text = raw;
  let trailingDot = false;
  if (allowTrailingDot && text.endsWith('.') && !text.endsWith('..')) {
    text = text.slice(0, -1);
    trailingDot = true;
  }
  if (text === '') return { problem: 'empty domain' };
  const lower = text.toLowerCase();
  let ascii = lower;
  let unicode = lower;
  // eslint-disable-next-line no-control-regex
  const hasNonAscii = /[^\x00-\x7f]/.test(lower);
  if (hasNonAscii || /(^|\.)xn--/.test(lower)) {
    ascii = domainToASCII(lower);
    if (ascii === '') return { problem: 'invalid internationalised domain' };
    unicode = domainToUnicode(ascii);
    // the text must already be in the form IDNA maps it to, in whichever of the two forms it came
    if (hasNonAscii ? unicode !== lower.normalize('NFC') || lower !== lower.normalize('NFC') : ascii !== lower) {
      return { problem: 'domain not in IDNA canonical form' };
    }
  }
  if (ascii.length > MAX_DOMAIN) return { problem: 'domain too long' };
  const labels = ascii.split('.');
  for (const label of labels) {
    if (label.length > MAX_LABEL || !LDH_LABEL.test(label)) return { problem: 'bad domain label' };
    if (label.startsWith('xn--') && !isALabel(label)) return { problem: 'bad A-label' };
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) return { problem: 'numeric top-level label' };
  return { ascii, unicode, trailingDot };
}

/** "[192.0.2.1]" or "[IPv6:2001:db8::1]" (tag case-insensitive); General-address-literal is refused. */
function parseAddressLiteral(raw: string): { domain: string; ip: IpLiteral } | { problem: string } {
  if (!raw.startsWith('[') || !raw.endsWith(']')) return { problem: 'bad address literal' };
  const inner = raw.slice(1, -1);
  if (/^ipv6:/i.test(inner)) {
    const ip = inner.slice(5);
    // no zone id ("%eth0": also the percent hack), and the form node:net agrees is IPv6
    if (!/^[0-9A-Fa-f:.]+$/.test(ip) || !isIPv6(ip)) return { problem: 'bad IPv6 address literal' };
    const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
    return { domain: `[ipv6:${canonical}]`, ip: { family: 6, address: canonical } };
  }
  // Snum without leading zeros: "010" reads as octal to some resolvers, decimal to others
  if (!/^(?:0|[1-9][0-9]{0,2})(?:\.(?:0|[1-9][0-9]{0,2})){3}$/.test(inner) || !isIPv4(inner)) {
    return { problem: 'bad address literal' };
  }
  return { domain: `[${inner}]`, ip: { family: 4, address: inner } };
}

/**
 * Reads a Quoted-string starting at text[start] === '"'; returns its content with quoted-pairs resolved
 * and the index after the closing quote, or a problem.
 */
function readQuoted(text: string, start: number, smtputf8: boolean): { value: string; end: number } | { problem: string } {
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"') return { value, end: i + 1 };
    if (ch === '\\') {
      const next = text[i + 1];
      // quoted-pairSMTP = "\" %d32-126
      if (next === undefined || next < ' ' || next > '~') return { problem: 'bad quoted pair' };
      value += next;
      i += 2;
      continue;
    }
    const code = ch.charCodeAt(0);
    if (code > 0x7f) {
      if (!smtputf8) return { problem: 'utf8' };
    } else if (code < 32 || code > 126) {
      return { problem: 'control character in quoted string' };
    }
    value += ch;
    i++;
  }
  return { problem: 'unterminated quoted string' };
}

/** Parses one path; never throws, linear in the length of `text`. */
export function parsePath(text: string, opts: ParseOptions): ParsedPath | PathError {
  const role = opts.role ?? 'recipient';
  const fail = (error: string): PathError => ({
    error,
    reply:
      role === 'sender'
        ? { status: 'reject', code: 501, enhancedCode: '5.1.7', text: 'Bad sender address syntax' }
        : { status: 'reject', code: 501, enhancedCode: '5.1.3', text: 'Bad recipient address syntax' },
  });
  if (typeof text !== 'string') return fail('not a string');
  // a quick bound before anything else: nothing below may be asked to scan megabytes
  if (text.length > MAX_PATH_OCTETS || octets(text) > MAX_PATH_OCTETS) return fail('path too long');
  if (!PRINTABLE_ASCII.test(text) && (FORBIDDEN.test(text) || UNICODE_SPACE.test(text))) return fail('control, invisible or space character');

  let inner = text;
  if (text.startsWith('<') || text.endsWith('>')) {
    if (!(text.startsWith('<') && text.endsWith('>')) || text.length < 2) return fail('unbalanced angle brackets');
    inner = text.slice(1, -1);
  } else if (octets(text) + 2 > MAX_PATH_OCTETS) {
    return fail('path too long');
  }
  const empty = { localPart: '', quoted: false, domain: '', domainUnicode: '', trailingDot: false };
  if (inner === '') {
    return role === 'sender' ? { kind: 'null', ...empty, address: '' } : fail('empty recipient');
  }
  // RFC 5321 §4.1.1.3: RCPT TO:<Postmaster> without a domain, any case
  if (role === 'recipient' && inner.toLowerCase() === 'postmaster') {
    return { kind: 'postmaster', ...empty, localPart: inner, address: inner };
  }

  // A-d-l ":" : the source route, kept so that the policy can refuse it (RFC 5321 §4.1.2, appendix C)
  let pos = 0;
  let sourceRoute: string[] | undefined;
  if (inner.startsWith('@')) {
    const colon = inner.indexOf(':');
    if (colon < 0) return fail('source route without ":"');
    sourceRoute = [];
    for (const hop of inner.slice(0, colon).split(',')) {
      if (!hop.startsWith('@')) return fail('bad source route');
      const d = parseDomain(hop.slice(1), false);
      if ('problem' in d) return fail(`source route: ${d.problem}`);
      sourceRoute.push(d.ascii);
    }
    pos = colon + 1;
  }

  // Local-part = Dot-string / Quoted-string
  let localPart: string;
  let quoted = false;
  if (inner[pos] === '"') {
    const q = readQuoted(inner, pos, opts.smtputf8);
    if ('problem' in q) return q.problem === 'utf8' ? utf8Refused() : fail(q.problem);
    localPart = q.value;
    quoted = true;
    pos = q.end;
    if (inner[pos] !== '@') return fail('quoted local part not followed by "@"');
  } else {
    const at = inner.indexOf('@', pos);
    if (at < 0) return fail('no "@"');
    localPart = inner.slice(pos, at);
    if (!isDotString(localPart)) return fail('bad local part');
    pos = at;
  }
  if (!opts.smtputf8 && NON_ASCII.test(localPart)) return utf8Refused();

  // "@" ( Domain / address-literal ); no second "@", no trailing text
  const domainText = inner.slice(pos + 1);
  if (domainText.includes('@')) return fail('more than one "@"');
  // Object literals written out, not spread: a spread costs more than the rest of the parse (every MAIL and RCPT).
  let path: ParsedPath;
  if (domainText.startsWith('[')) {
    const lit = parseAddressLiteral(domainText);
    if ('problem' in lit) return fail(lit.problem);
    const address = `${quoteLocalPart(localPart)}@${lit.domain}`;
    path = { kind: 'mailbox', localPart, quoted, domain: lit.domain, domainUnicode: lit.domain, ipLiteral: lit.ip, trailingDot: false, address };
  } else {
    const d = parseDomain(domainText, true);
    if ('problem' in d) return fail(d.problem);
    path = { kind: 'mailbox', localPart, quoted, domain: d.ascii, domainUnicode: d.unicode, trailingDot: d.trailingDot, address: `${quoteLocalPart(localPart)}@${d.ascii}` };
  }
  return sourceRoute ? { ...path, sourceRoute } : path;
}

/** Postfix's reply to a UTF-8 address in a transaction that did not declare SMTPUTF8. */
function utf8Refused(): PathError {
  return {
    error: 'non-ASCII local part without SMTPUTF8',
    reply: { status: 'reject', code: 553, enhancedCode: '5.6.7', text: 'Must declare SMTPUTF8 to send unicode address' },
  };
}
