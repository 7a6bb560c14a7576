/**
 * Alias expansion, as Postfix's virtual_alias_maps: an address that is an alias is replaced by its
 * targets, recursively; each final target is a local mailbox or a remote address. An alias that lists
 * itself keeps a copy in its own mailbox (Postfix: an address that expands to itself is not expanded
 * again). A cycle, a chain deeper than the depth limit or more addresses than the expansion limit is a
 * `loop` (Postfix refuses those with 5.4.6). Pure over the lookups, so the database stays out of it.
 */
import type { Resolution, Target } from './accounts.js';
import { domainOf, normaliseAddress } from './address.js';

export interface AccountLookups {
  isLocalDomain(domain: string): boolean;
  /** Whether a normalised address is a user (has a mailbox). */
  isUser(address: string): boolean;
  /** The targets of a normalised alias address as stored, or an empty list when it is not an alias. */
  aliasTargets(address: string): readonly string[];
}

export interface ExpansionLimits {
  /** Nested aliases followed (Postfix's virtual_alias_recursion_limit is 1000; real chains are short). */
  readonly depth: number;
  /** Addresses visited in one expansion (Postfix's virtual_alias_expansion_limit: 1000). */
  readonly addresses: number;
}

export const DEFAULT_LIMITS: ExpansionLimits = { depth: 20, addresses: 1000 };

/** Where `address` (bare `local@domain`) goes. */
export function resolveAddress(address: string, lookups: AccountLookups, limits: ExpansionLimits = DEFAULT_LIMITS): Resolution {
  if (!lookups.isLocalDomain(domainOf(address))) return { kind: 'remote' };
  const start = normaliseAddress(address);
  if (start === undefined) return { kind: 'unknown' };
  const targets: Target[] = [];
  const seen = new Set<string>();
  let visited = 0;
  const add = (t: Target, key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    targets.push(t);
  };

  /** Expands one local address; a loop's detail, or whether it led anywhere. */
  const expand = (addr: string, chain: readonly string[]): { loop: string } | boolean => {
    if (++visited > limits.addresses) return { loop: `expansion of ${start} exceeds ${limits.addresses} addresses` };
    const list = lookups.aliasTargets(addr);
    if (list.length === 0) {
      if (!lookups.isUser(addr)) return false;
      add({ type: 'mailbox', user: addr }, addr);
      return true;
    }
    if (chain.length >= limits.depth) return { loop: `alias nesting deeper than ${limits.depth}: ${[...chain, addr].join(' -> ')}` };
    let any = false;
    for (const raw of list) {
      const domain = domainOf(raw);
      if (!lookups.isLocalDomain(domain)) {
        // The local part of a remote address is the remote host's business (RFC 5321 §2.4): kept as stored.
        add({ type: 'remote', address: raw }, `${raw.slice(0, raw.lastIndexOf('@'))}@${domain}`);
        any = true;
        continue;
      }
      const t = normaliseAddress(raw);
      if (t === undefined) continue;
      if (t === addr) {
        if (lookups.isUser(addr)) {
          add({ type: 'mailbox', user: addr }, addr);
          any = true;
        }
        continue;
      }
      if (chain.includes(t)) return { loop: `alias loop: ${[...chain, addr, t].join(' -> ')}` };
      const r = expand(t, [...chain, addr]);
      if (typeof r === 'object') return r;
      // A target that no longer exists is skipped (the admin commands refuse to create one).
      any ||= r;
    }
    return any;
  };

  const r = expand(start, []);
  if (typeof r === 'object') return { kind: 'loop', detail: r.loop };
  return r && targets.length > 0 ? { kind: 'local', targets } : { kind: 'unknown' };
}

/**
 * Whether the user (a normalised address) may send as `sender`: their own address, and every local
 * alias whose expansion reaches their mailbox. The null sender is always allowed (Postfix's
 * reject_sender_login_mismatch does not apply to `<>`).
 */
export function ownsSender(user: string, sender: string, lookups: AccountLookups): boolean {
  if (sender === '') return true;
  const u = normaliseAddress(user);
  const s = normaliseAddress(sender);
  if (u === undefined || s === undefined) return false;
  if (s === u) return true;
  const r = resolveAddress(s, lookups);
  return r.kind === 'local' && r.targets.some((t) => t.type === 'mailbox' && t.user === u);
}
