/**
 * The RFC 5321 path of MAIL FROM / RCPT TO, parsed strictly: a pure function from the text to either the
 * parts the relay decision and the accounts need, or the reply Postfix gives for bad syntax. Kept apart from
 * the relay policy so that both can be fuzzed on their own (issue 10 §2, "Reliability and bad input").
 *
 * What reaches us: smtp-server's _parseAddressCommand hands onMailFrom/onRcptTo `address.address` with the
 * brackets gone, a leading source route silently dropped, the parameters split off at the first whitespace
 * (so a space anywhere inside the path, even quoted, is already a 501), addresses with more than one "@"
 * (so "user@other"@local and user\@other@local) already refused, a domain with a trailing dot, "..",
 * or characters outside [A-Za-z0-9.-] and U+0080..U+FFFF already refused, control characters refused, and
 * an ASCII (A-label) domain turned into Unicode (U-labels) even without SMTPUTF8. This parser takes both
 * that bare form and the full bracketed form ("<@a,@b:user@domain>"), and is strict on its own: it does not
 * rely on smtp-server's checks.
 */
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
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return fail('not local@domain');
  const localPart = text.slice(0, at);
  const domain = text.slice(at + 1).toLowerCase();
  return { kind: 'mailbox', localPart, quoted: false, domain, domainUnicode: domain, trailingDot: false, address: `${localPart}@${domain}` };
}
