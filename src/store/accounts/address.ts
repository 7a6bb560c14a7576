/**
 * Account addresses: the one normal form under which users, aliases and domains are stored and looked up,
 * so that `Alice@Example.COM` and `alice@example.com` are the same account. Postfix folds the whole address
 * to lower case for its table lookups (virtual_mailbox_maps, virtual_alias_maps); so do we, local part
 * included. Names that could not be a Maildir directory or that carry a relay trick are refused here,
 * once, rather than at each use.
 */

export interface AccountAddress {
  /** The lower-cased local part. */
  readonly local: string;
  /** The lower-cased domain. */
  readonly domain: string;
  /** `local@domain`. */
  readonly address: string;
}

/** A DNS name: dot-separated labels of letters, digits and inner hyphens (IDNs in their A-label form). */
const DOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * A local part as an account name: RFC 5322 dot-atom characters (and UTF-8 for SMTPUTF8), minus those
 * that route mail elsewhere (`%` `!` `@`, the percent hack and bang paths) or that a path cannot hold
 * (`/`, `\`, NUL and controls). No leading, trailing or double dot, so never `.` or `..`.
 */
const LOCAL_CHAR = /^[a-z0-9#$&'*+\-=?^_`{|}~\u0080-\u{10ffff}]$/u;

/** Why a domain name is not acceptable, or undefined when it is (after lower-casing). */
export function domainProblem(domain: string): string | undefined {
  if (domain.length === 0) return 'empty domain';
  if (!DOMAIN.test(domain)) return `"${domain}" is not a domain name (letters, digits, hyphens and dots)`;
  return undefined;
}

/** Why a local part is not acceptable as an account name, or undefined when it is (after lower-casing). */
export function localPartProblem(local: string): string | undefined {
  if (local.length === 0) return 'empty local part';
  if (local.length > 64) return 'local part longer than 64 characters';
  for (const label of local.split('.')) {
    if (label.length === 0) return `"${local}": a dot at the start, at the end or twice in a row`;
    for (const ch of label) {
      if (!LOCAL_CHAR.test(ch)) return `"${local}": the character ${JSON.stringify(ch)} is not allowed in an account name`;
    }
  }
  return undefined;
}

/** The lower-cased domain, or undefined when it is not a domain name. */
export function normaliseDomain(domain: string): string | undefined {
  const d = domain.toLowerCase();
  return domainProblem(d) === undefined ? d : undefined;
}

/** Splits and lower-cases `local@domain`; a string saying why when it cannot be an account address. */
export function parseAccountAddress(text: string): AccountAddress | string {
  const at = text.lastIndexOf('@');
  if (at < 0) return `"${text}" is not an address (local@domain)`;
  const local = text.slice(0, at).toLowerCase();
  const domain = text.slice(at + 1).toLowerCase();
  const why = localPartProblem(local) ?? domainProblem(domain);
  if (why !== undefined) return `"${text}": ${why}`;
  return { local, domain, address: `${local}@${domain}` };
}

/** The normal form of an account address, or undefined when it cannot be one. */
export function normaliseAddress(text: string): string | undefined {
  const a = parseAccountAddress(text);
  return typeof a === 'string' ? undefined : a.address;
}

/** The lower-cased domain of any address (the part after the last `@`), for the local-domain test. */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}
