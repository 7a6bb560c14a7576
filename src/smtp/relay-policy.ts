/**
 * The relay decision at RCPT TO (issue 10 §2): mail for a local domain is taken from anyone, mail for any
 * other destination only from authenticated clients or from mynetworks; everything else gets Postfix's
 * `554 5.7.1 <addr>: Relay access denied` (smtpd_relay_restrictions = permit_mynetworks,
 * permit_sasl_authenticated, reject_unauth_destination). Pure, so that it can be fuzzed.
 *
 * Sender-specified routing is refused outright from a client that is neither authenticated nor trusted,
 * even when the final domain is local: a source route, or a local part holding "@", "%" or "!" (Postfix
 * applies the percent hack and the bang path, user%other@local and other!user@local becoming user@other,
 * and refuses those as relaying; it takes user%local@local as local mail, we refuse it too). We also
 * refuse, from such clients, a local part that needs quotes at all ("john smith"@local, ""@local,
 * "user."@local), which Postfix takes as local mail: no mailbox here has one, and each is a way to carry
 * routing characters past a simpler check. An address literal is never local unless it is listed in
 * `localIpLiterals` (Postfix takes its own [$inet_interfaces] addresses as local). Where a source route
 * reaches us at all: smtp-server drops it before onRcptTo, as Postfix does (RCPT TO:<@other:user@local>
 * is user@local to both), so only the raw form seen elsewhere carries one. test/interop/relay-postfix.test.ts
 * checks all of this against a private Postfix.
 */
import type { Reply } from '../mail/reply.js';
import { isDotString, parsePath, type ParsedPath } from './address.js';

export interface RelayClient {
  /** The session has authenticated (SMTP AUTH). */
  readonly authenticated: boolean;
  /** The client address is in mynetworks (Postfix's permit_mynetworks). */
  readonly trusted: boolean;
}

export interface RelayOptions {
  /** Address literals that are ours ("[192.0.2.1]", "[IPv6:2001:db8::1]"): none by default, so an IP literal is never local. */
  readonly localIpLiterals?: readonly string[];
  /** The address as the client wrote it (smtp-server's `address.address`), echoed in the reply; default `path.address`. */
  readonly shownAddress?: string;
}

export type RelayDecision =
  /** local: the final domain is ours (the mailbox lookup comes next); relay: a remote one, from an allowed client. */
  | { readonly allowed: true; readonly kind: 'local' | 'relay' }
  /** `reason` is for the log line; `reply` is what the client gets. */
  | { readonly allowed: false; readonly reason: string; readonly reply: Reply };

/** The reply for a refused relay, with the address as the client wrote it (control characters dropped). */
export function relayDenied(shownAddress: string): Reply {
  // eslint-disable-next-line no-control-regex
  const safe = shownAddress.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 300);
  return { status: 'reject', code: 554, enhancedCode: '5.7.1', text: `<${safe}>: Relay access denied` };
}

/** What in a path asks for routing other than "deliver to this domain"; undefined when nothing does. */
export function routingIn(path: ParsedPath): string | undefined {
  if (path.sourceRoute !== undefined) return 'source route';
  // NFKC too: a full-width "％" or "＠" (SMTPUTF8) becomes the routing character in whatever normalises it later
  if (/[@%!]/.test(path.localPart) || /[@%!]/.test(path.localPart.normalize('NFKC'))) return 'routing character in the local part';
  if (path.kind === 'mailbox' && !isDotString(path.localPart)) return 'local part needs quotes';
  return undefined;
}

function isLocalLiteral(domain: string, literals: readonly string[]): boolean {
  for (const literal of literals) {
    const parsed = parsePath(`postmaster@${literal}`, { smtputf8: false });
    if ('domain' in parsed && parsed.ipLiteral !== undefined && parsed.domain === domain) return true;
  }
  return false;
}

/** Whether the final domain of `path` is ours; the domain is asked in both its ASCII and Unicode forms. */
export function isLocalDestination(path: ParsedPath, isLocalDomain: (domain: string) => boolean, opts: RelayOptions = {}): boolean {
  if (path.kind !== 'mailbox') return path.kind === 'postmaster';
  if (path.ipLiteral !== undefined) return isLocalLiteral(path.domain, opts.localIpLiterals ?? []);
  if (path.domain === '') return false;
  return isLocalDomain(path.domain) || (path.domainUnicode !== path.domain && isLocalDomain(path.domainUnicode));
}

/** Whether `path` (a recipient) may be accepted from `client`. Never throws unless `isLocalDomain` does. */
export function relayDecision(
  path: ParsedPath,
  client: RelayClient,
  isLocalDomain: (domain: string) => boolean,
  opts: RelayOptions = {},
): RelayDecision {
  const deny = (reason: string): RelayDecision => ({ allowed: false, reason, reply: relayDenied(opts.shownAddress ?? path.address) });
  if (path.kind === 'null') return deny('null recipient');
  const local = isLocalDestination(path, isLocalDomain, opts);
  const kind = local ? 'local' : 'relay';
  // permit_mynetworks, permit_sasl_authenticated: anything that parsed
  if (client.authenticated || client.trusted) return { allowed: true, kind };
  if (!local) return deny(path.ipLiteral !== undefined ? 'address literal is not ours' : `${path.domain} is not a local domain`);
  const routing = routingIn(path);
  if (routing !== undefined) return deny(routing);
  return { allowed: true, kind };
}
