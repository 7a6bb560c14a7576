/**
 * What the client and the message see, worded as milter-greylist words it: the tempfail and
 * blacklist replies and the X-Greylist header. `%V` names Mailgate instead of milter-greylist.
 */
import { hostname } from 'node:os';
import type { Macros } from '../../mail/macros.js';
import { reject, tempfail, type Reply } from '../../mail/reply.js';
import type { MatchedKind } from './acl.js';
import type { Acl } from './conf/ast.js';
import { hms } from './conf/time.js';

export const HEADER_NAME = 'X-Greylist';
export const PROGRAM = 'Mailgate greylist';

export interface FormatValues {
  readonly remainingS?: number;
  readonly elapsedS?: number;
  readonly acl?: Acl | undefined;
  readonly sender?: string;
  readonly recipient?: string;
  readonly address?: string;
  readonly hostname?: string;
  readonly macros: Macros;
  readonly now: number;
}

/** RFC 5322 date in UTC, as milter-greylist's "%a, %d %b %Y %T %z (%Z)". */
export function rfc5322Date(ms: number): string {
  const d = new Date(ms);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${day}, ${two(d.getUTCDate())} ${mon} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000 (UTC)`;
}

/** `%V`: program, host (the MTA's {j} or this host) and local address when the MTA gave one, then the date. */
export function versionString(macros: Macros, now: number): string {
  const host = macros.get('j') ?? hostname();
  const local = macros.get('{daemon_addr}') ?? macros.get('{if_addr}');
  return `${PROGRAM} (${host}${local !== undefined ? ` [${local}]` : ''}); ${rfc5322Date(now)}`;
}

/** milter-greylist's format expansion for msg/report texts: %r %f %i %d %h %a %E %R %V %M{macro} %%. */
export function expand(format: string, v: FormatValues): string {
  return format.replace(/%(M\{[^}]*\}|.)/g, (all, t: string) => {
    if (t.startsWith('M{')) return v.macros.get(t.slice(1)) ?? '';
    switch (t) {
      case 'r':
        return v.recipient ?? '';
      case 'f':
        return v.sender ?? '';
      case 'i':
        return v.address ?? '';
      case 'd':
      case 'h':
        return v.hostname ?? '';
      case 'a':
        return v.acl === undefined ? 'default' : (v.acl.id ?? String(v.acl.line));
      case 'E':
        return hms(v.elapsedS ?? 0);
      case 'R':
        return hms(v.remainingS ?? 0);
      case 'V':
        return versionString(v.macros, v.now);
      case '%':
        return '%';
      default:
        return all;
    }
  });
}

export interface ReplySettings {
  readonly code?: string;
  readonly ecode?: string;
  readonly msg?: string;
}

/** `451 4.7.1 Greylisting in action, please come back in HH:MM:SS` (or "later" when quiet), overridable per ACL. */
export function greylistReply(settings: ReplySettings, quiet: boolean, values: FormatValues): Reply {
  const text = settings.msg ?? (quiet ? 'Greylisting in action, please come back later' : 'Greylisting in action, please come back in %R');
  return build(settings.code ?? '451', settings.ecode ?? '4.7.1', expand(text, values));
}

/** `551 5.7.1 Go away!`, overridable per ACL. */
export function blacklistReply(settings: ReplySettings, values: FormatValues): Reply {
  return build(settings.code ?? '551', settings.ecode ?? '5.7.1', expand(settings.msg ?? 'Go away!', values));
}

function build(code: string, ecode: string, text: string): Reply {
  const n = Number(code);
  // A 4xx code makes it a temporary failure, a 5xx a rejection (milter-greylist's stat_from_code).
  return n >= 400 && n < 500 ? tempfail(n, ecode, text) : reject(n, ecode, text);
}

/** Why a message was not delayed, in milter-greylist's order, then ", not delayed by %V". */
export function notDelayedText(reasons: ReadonlySet<NotDelayedReason>, acl: Acl | undefined, values: FormatValues): string {
  const parts: string[] = [];
  for (const [reason, text] of REASON_TEXTS) if (reasons.has(reason)) parts.push(text);
  if (reasons.has('acl')) parts.push(`ACL ${acl === undefined ? 'default' : (acl.id ?? String(acl.line))} matched`);
  // No reason at all (greylist 0): no leading ", ".
  return expand(parts.length === 0 ? 'Not delayed by %V' : `${parts.join(', ')}, not delayed by %V`, values);
}

export function delayedText(values: FormatValues): string {
  return expand('Delayed for %E by %V', values);
}

export type NotDelayedReason = MatchedKind | 'nonip' | 'accessdb' | 'auto' | 'acl' | 'starttls' | 'authbypass';

const REASON_TEXTS: readonly (readonly [NotDelayedReason, string])[] = [
  ['domain', 'Sender DNS name whitelisted'],
  ['addr', 'Sender IP whitelisted'],
  ['from', 'Sender e-mail whitelisted'],
  ['auth', 'Sender succeeded SMTP AUTH'],
  ['authbypass', 'Sender succeeded SMTP AUTH'],
  ['accessdb', 'Message whitelisted by Sendmail access database'],
  ['spf', 'Sender passed SPF test'],
  ['nonip', 'Message not sent from an IPv4 neither IPv6 address'],
  ['tls', 'Sender succeeded STARTTLS authentication'],
  ['starttls', 'Sender succeeded STARTTLS authentication'],
  ['rcpt', 'Recipient e-mail whitelisted'],
  ['auto', 'IP, sender and recipient auto-whitelisted'],
  ['default', 'Default is to whitelist mail'],
];
