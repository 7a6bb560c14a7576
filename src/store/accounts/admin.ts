/**
 * What the `mailgate domain|user|alias` commands do to the accounts, beside the servers' read-only view
 * (Accounts in accounts.ts). Every method refuses bad input with an AccountsError whose message is shown
 * to the administrator as it is.
 */
import type { UserQuota } from './accounts.js';
import type { PasswordScheme } from './password.js';

/** A refusal with a message for the administrator (not local, already exists, would loop...). */
export class AccountsError extends Error {
  override readonly name = 'AccountsError';
}

export interface DomainEntry {
  readonly name: string;
  /** Where it is local from: the configuration's [domains] local list, the database, or both. */
  readonly source: 'config' | 'database' | 'both';
}

export interface UserEntry {
  readonly address: string;
  /** How the password is stored (undefined: a value this version does not know). */
  readonly scheme: PasswordScheme | undefined;
  /** The user's own quota, when set. */
  readonly quota: UserQuota | undefined;
}

export interface AliasEntry {
  readonly address: string;
  /** In the order they were added. */
  readonly targets: readonly string[];
}

/** One user of an import: the address and the password already in stored form (`{SCHEME}data`). */
export interface ImportedUser {
  readonly address: string;
  readonly stored: string;
  /** From the passwd-file's quota_rule extra field, when it has one. */
  readonly quota?: UserQuota;
}

/** A change of a user's quota: a number sets that limit (0: none), null goes back to the configured one. */
export interface QuotaChange {
  readonly bytes?: number | null;
  readonly messages?: number | null;
}

export interface AccountsAdmin {
  /** The database file (for messages). */
  readonly file: string;
  addDomain(domain: string): void;
  /** Refused while users or aliases of the domain exist. */
  deleteDomain(domain: string): void;
  listDomains(): DomainEntry[];
  /** Adds a user with a new password (hashed with scrypt); returns the normalised address. */
  addUser(address: string, password: string): Promise<string>;
  setPassword(address: string, password: string): Promise<void>;
  /** Sets or clears (null) the user's own quota limits; a field left out stays as it is. */
  setQuota(address: string, change: QuotaChange): void;
  /** Whether a user exists (before asking for a password that would be refused). */
  hasUser(address: string): boolean;
  /** Refused while an alias points at the user. The Maildir is left on disk (as Postfix and Dovecot do). */
  deleteUser(address: string): void;
  /** Sorted by domain, then address; only those of `domain` when given. */
  listUsers(domain?: string): UserEntry[];
  /** All or nothing: adds the new users and replaces the passwords (and, when given, the quotas) of existing ones. */
  importUsers(users: readonly ImportedUser[]): { added: number; updated: number };
  /** Adds targets to an alias (created if new); refused when a local target does not exist or it would loop. */
  addAlias(alias: string, targets: readonly string[]): void;
  /** Removes the given targets, or the whole alias when none are given. */
  deleteAlias(alias: string, targets?: readonly string[]): void;
  listAliases(): AliasEntry[];
}
