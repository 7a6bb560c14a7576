/**
 * "Trust": never stops the child, but tells it with {trusted_domain}=yes that the envelope sender is
 * from a domain worth trusting if SPF passes (milter-greylist then whitelists on "spf pass" instead of
 * greylisting big webmail providers whose retries come from other hosts).
 */
import { APPLY, type Condition, type ConditionStage, type ConditionVerdict } from '../condition.js';
import { nameMatcher, type NamePattern } from './patterns.js';

export interface TrustOptions {
  /** Trusted sender domains: strings match exactly (case-insensitively), RegExps are tested on the lowercased domain. */
  domains?: readonly NamePattern[];
  /** Use only `domains`, not the defaults (milter-manager's trust.clear before adding). */
  replaceDefaults?: boolean;
}

export const DEFAULT_TRUSTED_DOMAINS: readonly string[] = Object.freeze([
  'gmail.com',
  'hotmail.com',
  'msn.com',
  'yahoo.co.jp',
  'softbank.ne.jp',
  'ezweb.ne.jp',
  'docomo.ne.jp',
  'clear-code.com',
]);

const STAGES: ReadonlySet<ConditionStage> = new Set<ConditionStage>(['mail']);

const TRUSTED: ConditionVerdict = Object.freeze({ stop: false, macros: Object.freeze({ '{trusted_domain}': 'yes' }) });

/**
 * The lowercased domain of a MAIL FROM address: "<user@Example.COM>" and "user@example.com" give
 * "example.com"; "<>" and addresses without a domain give undefined. The domain is what follows the
 * last "@", so quoted local parts ("a@b"@example.com) and source routes (<@relay:u@example.com>)
 * work; one trailing dot (a fully qualified name) is dropped.
 */
export function senderDomain(sender: string | undefined): string | undefined {
  if (sender === undefined) return undefined;
  let s = sender.trim();
  if (s.startsWith('<') && s.endsWith('>')) s = s.slice(1, -1).trim();
  const at = s.lastIndexOf('@');
  if (at <= 0) return undefined;
  let domain = s.slice(at + 1).toLowerCase();
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  return domain === '' ? undefined : domain;
}

export function createTrust(options: TrustOptions = {}): Condition {
  const domains = [...(options.replaceDefaults ? [] : DEFAULT_TRUSTED_DOMAINS), ...(options.domains ?? [])];
  const trusted = nameMatcher(domains);
  return {
    name: 'Trust',
    description: 'Set {trusted_domain}=yes macro for senders from trusted domains',
    stages: STAGES,
    check(stage, ctx) {
      if (stage !== 'mail') return APPLY;
      const domain = senderDomain(ctx.sender);
      return domain !== undefined && trusted.matches(domain) ? TRUSTED : APPLY;
    },
  };
}

/** The domains_file parser lives with the configuration that reads it; kept here under its old name. */
export { parseTrustDomains as loadTrustDomains } from '../../config/trust-domains.js';
