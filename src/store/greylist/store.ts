/**
 * Where greylist state lives: pending tuples and auto-whitelisted ones (milter-greylist's greylist.db).
 * One interface, three implementations: memory (tests), SQLite in the data directory (the default,
 * survives restarts) and Redis (several MX hosts share one greylist). All times are milliseconds since
 * the epoch and come from the caller, so a test clock drives expiry everywhere.
 */

/** The greylisted triple: client address (already masked by subnetmatch), envelope sender, recipient. */
export interface GreylistTuple {
  /** Masked client address, e.g. "192.0.2.0/24" or "2001:db8::/64" (or a full address with no mask). */
  readonly address: string;
  /** Envelope sender without angle brackets, lowercased; '' for the null sender. */
  readonly sender: string;
  /** Recipient without angle brackets, lowercased. */
  readonly recipient: string;
}

export type GreylistEntryKind = 'pending' | 'autowhite';

export interface GreylistEntry extends GreylistTuple {
  readonly kind: GreylistEntryKind;
  /** When the tuple was first seen. */
  readonly created: number;
  /** pending: the earliest time a retry is accepted. autowhite: equal to the time it was whitelisted. */
  readonly acceptAfter: number;
  /** pending: when the pending entry is forgotten (milter-greylist's `timeout`); autowhite: end of the period. */
  readonly expires: number;
  /** Deliveries accepted through this entry (autowhite), 0 while pending. */
  readonly hits: number;
}

export interface GreylistQuery {
  /** Only entries for this masked address (mailgate greylist --addr). */
  readonly address?: string;
  /** Only entries of this kind. */
  readonly kind?: GreylistEntryKind;
}

export interface GreylistStore {
  /**
   * The entry for exactly this tuple if it is still valid at `now` (expires >= now). An expired entry
   * is never returned, whether or not a purge has removed it yet: an expired autowhite entry must
   * not let mail through.
   */
  get(tuple: GreylistTuple, now: number): Promise<GreylistEntry | undefined>;
  /** An auto-whitelist entry for this address with any sender and recipient (lazyaw), still valid at `now` (expires >= now). */
  getAutowhiteForAddress(address: string, now: number): Promise<GreylistEntry | undefined>;
  /** Inserts or replaces the entry for its tuple. */
  put(entry: GreylistEntry): Promise<void>;
  delete(tuple: GreylistTuple): Promise<void>;
  /** Entries matching `query`, in no particular order, expired ones not yet purged included (for the admin). */
  list(query?: GreylistQuery): AsyncIterable<GreylistEntry>;
  /** Deletes the entries matching `query` (all without one); returns how many. */
  flush(query?: GreylistQuery): Promise<number>;
  /** Deletes entries whose `expires` is before `now`; returns how many. */
  purgeExpired(now: number): Promise<number>;
  count(query?: GreylistQuery): Promise<number>;
  close(): Promise<void>;
}
