/**
 * Accounts as the servers see them: local domains, users with their passwords, aliases. SMTP uses them
 * for AUTH, the relay decision and RCPT checks; delivery for mailbox paths; IMAP, POP3 and the webmail
 * later for logins. The SQLite implementation lives beside this file.
 */

/** Where one address goes, after alias expansion. */
export type Resolution =
  /** Not a local domain: a remote destination (the relay policy decides whether it may be sent there). */
  | { readonly kind: 'remote' }
  /** A local domain, but no such user or alias: refused at RCPT with 550 5.1.1. */
  | { readonly kind: 'unknown' }
  /** Expansion looped or went too deep: refused at RCPT (Postfix: 5.4.6 "mail forwarding loop"). */
  | { readonly kind: 'loop'; readonly detail: string }
  /** Local: the final recipients, each a local mailbox (user address) or a remote address. */
  | { readonly kind: 'local'; readonly targets: readonly Target[] };

export type Target =
  | { readonly type: 'mailbox'; readonly user: string }
  | { readonly type: 'remote'; readonly address: string };

/**
 * A user's own quota, overriding `[mailbox] quota` / `quota_messages` (Dovecot: a userdb quota_rule):
 * a field that is absent takes the configured value; 0 means no limit.
 */
export interface UserQuota {
  readonly bytes?: number;
  readonly messages?: number;
}

export interface Accounts {
  /** Whether mail for this domain is ours (case-insensitive; a trailing dot is not stripped here). */
  isLocalDomain(domain: string): boolean;
  /**
   * Every local domain, lower-cased and sorted (the configuration's and the database's): SMTP resolves a
   * bare RCPT TO:<postmaster> against postmaster@ of each.
   */
  localDomains(): readonly string[];
  /** Looks up a bare address ("local@domain", no brackets), expanding aliases recursively. */
  resolve(address: string): Resolution;
  /**
   * Checks a login (a user's address, case-insensitive domain) and password; the canonical user address
   * when both match, undefined otherwise. Slow on purpose (password hashing); never throws for bad input.
   */
  authenticate(login: string, password: string): Promise<string | undefined>;
  /** Whether the logged-in user may use this envelope sender (Postfix's reject_sender_login_mismatch). */
  mayUseSender(user: string, sender: string): boolean;
  /** Where a user's Maildir is (the directory holding cur/ new/ tmp/), for delivery and the mailbox server. */
  maildirOf(user: string): string;
  /** The user's own quota (mailgate user quota), or undefined when the configured one applies. */
  quotaOf(user: string): UserQuota | undefined;
  close(): void;
}
