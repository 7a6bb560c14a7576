/**
 * The relay decision at RCPT TO (issue 10 §2): mail for a local domain is taken from anyone, mail for any
 * other destination only from authenticated clients or from mynetworks; everything else gets Postfix's
 * `554 5.7.1 <addr>: Relay access denied` (smtpd_relay_restrictions = permit_mynetworks,
 * permit_sasl_authenticated, reject_unauth_destination). Pure, so that it can be fuzzed.
 */
import type { Reply } from '../mail/reply.js';
import type { ParsedPath } from './address.js';

export interface RelayClient {
  /** The session has authenticated (SMTP AUTH). */
  readonly authenticated: boolean;
  /** The client address is in mynetworks (Postfix's permit_mynetworks). */
  readonly trusted: boolean;
}

export interface RelayOptions {
  /** Address literals that are ours ("[192.0.2.1]", "[ipv6:2001:db8::1]"): none by default, so an IP literal is never local. */
  readonly localIpLiterals?: readonly string[];
}

export type RelayDecision =
  /** local: the domain is ours and the local part plain; relay: anything else, from an allowed client. */
  | { readonly allowed: true; readonly kind: 'local' | 'relay' }
  | { readonly allowed: false; readonly reason: string; readonly reply: Reply };

/** The reply for a refused relay, with the address as the client wrote it. */
export function relayDenied(shownAddress: string): Reply {
  return { status: 'reject', code: 554, enhancedCode: '5.7.1', text: `<${shownAddress}>: Relay access denied` };
}

/**
 * Whether `path` may be accepted from `client`. `shownAddress` is the address as received (smtp-server's
 * `address.address`), echoed in the reply; default: `path.address`.
 */
export function relayDecision(
  path: ParsedPath,
  client: RelayClient,
  isLocalDomain: (domain: string) => boolean,
  opts: RelayOptions & { readonly shownAddress?: string } = {},
): RelayDecision {
  const local = path.kind !== 'mailbox' || (path.ipLiteral === undefined && isLocalDomain(path.domain));
  if (local) return { allowed: true, kind: 'local' };
  if (client.authenticated || client.trusted) return { allowed: true, kind: 'relay' };
  return { allowed: false, reason: 'not a local domain', reply: relayDenied(opts.shownAddress ?? path.address) };
}
