/**
 * The mailbox store as IMAP, POP3 and local delivery see it: a user's folders, each a list of messages with
 * UIDs, flags, MODSEQs and their stored bytes. Two implementations meet this contract: the Maildir store on
 * disk (the default; Dovecot can read its files) and an in-memory store used as the reference in tests, as
 * go-imap's server keeps a memory backend. The shared rules are tested by one suite against both.
 *
 * Rules every implementation keeps (the contract suite checks each):
 * - UIDs strictly increase in a mailbox and are never reused within one UIDVALIDITY; a mailbox created again
 *   under an old name gets a UIDVALIDITY strictly greater than any it had before.
 * - MODSEQ (RFC 7162) is per mailbox and strictly increases with every change (new message, flag change,
 *   expunge); the mailbox's highest MODSEQ is the largest ever given out there.
 * - Every mutation is all-or-nothing per message; a refused one (quota, bad name) leaves nothing behind.
 * - A change made through one handle (another session, delivery, another process) is visible to every other
 *   handle at its next `changesSince`/`snapshot`, and fires their `watch` listeners soon after.
 * - A user's handle reaches only that user's mail: no name, however crafted, leads outside it.
 * Names are Unicode with '/' as the hierarchy separator ("INBOX", "Archive/2024"); INBOX is case-insensitive
 * at the top level (RFC 3501 §5.1) and reported as "INBOX"; every other name is case-sensitive.
 */
import type { Readable } from 'node:stream';

/** '\\Seen' '\\Answered' '\\Flagged' '\\Deleted' '\\Draft', or a keyword atom; never '\\Recent' (session state). */
export type Flag = string;
export const SYSTEM_FLAGS: readonly Flag[] = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'];

export type SpecialUse = '\\Drafts' | '\\Sent' | '\\Trash' | '\\Junk';
/** The folders every user has (created and subscribed at the first `openUser`), as Dovecot's `auto = subscribe`. */
export const SPECIAL_FOLDERS: readonly (readonly [string, SpecialUse])[] = [
  ['Drafts', '\\Drafts'],
  ['Sent', '\\Sent'],
  ['Trash', '\\Trash'],
  ['Junk', '\\Junk'],
];

/** The reasons a store refuses; IMAP maps them to response codes (RFC 5530), POP3 to -ERR texts. */
export type MailboxErrorCode =
  | 'NONEXISTENT'
  | 'ALREADYEXISTS'
  | 'CANNOT'
  | 'INUSE'
  | 'OVERQUOTA'
  | 'LIMIT'
  | 'TOOBIG'
  | 'EXPUNGEISSUED'
  | 'NOPERM'
  | 'SERVERBUG';

export class MailboxError extends Error {
  constructor(
    readonly code: MailboxErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MailboxError';
  }
}

export interface MailboxStore {
  /** The only way to a user's mail. The special-use folders are made here the first time. */
  openUser(user: string): Promise<UserMailboxes>;
  /** For local delivery: quota check, write, announce to open sessions. */
  readonly delivery: MailboxDelivery;
  close(): Promise<void>;
}

export interface DeliveryOptions {
  /** A stable file name (delivery's exactly-once key: a repeated delivery replaces its own file). */
  readonly baseName?: string;
  /** The host name part of a new Maildir name. */
  readonly hostname: string;
  /** The folder, INBOX when absent. */
  readonly mailbox?: string;
}

export interface MailboxDelivery {
  /**
   * Stores one message (read from `source`, opened only once the store is ready to write) into a user's
   * folder; throws MailboxError('OVERQUOTA') when it does not fit.
   */
  deliver(user: string, source: () => Readable, options: DeliveryOptions): Promise<{ readonly size: number; readonly vsize: number }>;
}

export interface MailboxInfo {
  readonly name: string;
  readonly specialUse?: SpecialUse;
  readonly subscribed: boolean;
  readonly hasChildren: boolean;
  /** False for a folder that only exists as the parent of others (LIST \Noselect). */
  readonly selectable: boolean;
}

export interface MailboxStatus {
  readonly uidValidity: number;
  readonly uidNext: number;
  readonly highestModseq: number;
  readonly messages: number;
  /** Messages no session has claimed as \Recent yet. */
  readonly recent: number;
  readonly unseen: number;
  /** Sum of the messages' sizes in CRLF octets (RFC 8438 STATUS SIZE). */
  readonly size: number;
  /** Keywords ever used in the mailbox (the FLAGS response). */
  readonly keywords: readonly string[];
}

export interface QuotaUsage {
  readonly bytes: number;
  readonly bytesLimit?: number;
  readonly messages: number;
  readonly messagesLimit?: number;
}

/** An internal date: when, and the zone it was given in (minutes east of UTC) so INTERNALDATE prints it back. */
export interface InternalDate {
  readonly ms: number;
  readonly tzMinutes: number;
}

export interface AppendInput {
  /** The message as received (CRLF or LF); the store keeps it in its own form. */
  readonly content: Buffer;
  readonly flags?: readonly Flag[];
  readonly internalDate?: InternalDate;
}

/** UIDPLUS (RFC 4315): the destination's UIDVALIDITY and [source uid, new uid] pairs. */
export interface CopyResult {
  readonly uidValidity: number;
  readonly pairs: readonly (readonly [number, number])[];
}

export interface UserMailboxes {
  readonly user: string;
  /** Every folder, INBOX first then by name. */
  list(): Promise<readonly MailboxInfo[]>;
  /** Creates the folder and any missing parents; ALREADYEXISTS, CANNOT (bad name). */
  create(name: string): Promise<void>;
  /** INBOX: CANNOT. A folder with children becomes \Noselect (RFC 3501 §6.3.4); NONEXISTENT. */
  delete(name: string): Promise<void>;
  /** Children move with it; renaming INBOX moves its messages into the new folder and leaves INBOX empty. */
  rename(from: string, to: string): Promise<void>;
  subscribe(name: string, subscribed: boolean): Promise<void>;
  /** Every subscribed name, including names that are no folder (RFC 3501 §6.3.6 allows subscribing to them). */
  subscriptions(): Promise<readonly string[]>;
  status(name: string): Promise<MailboxStatus>;
  /** OVERQUOTA, TOOBIG, NONEXISTENT (IMAP answers [TRYCREATE]). */
  append(name: string, input: AppendInput): Promise<{ readonly uidValidity: number; readonly uid: number }>;
  open(name: string, mode: 'read-write' | 'read-only'): Promise<Mailbox>;
  quota(): Promise<QuotaUsage>;
  /** POP3's exclusive maildrop lock on INBOX; undefined when another session holds it ([IN-USE]). */
  lockMaildrop(holder: string): Promise<{ release(): Promise<void> } | undefined>;
  /** Ends this handle (open Mailboxes are closed with it). */
  release(): Promise<void>;
}

export interface MessageRecord {
  readonly uid: number;
  readonly flags: readonly Flag[];
  readonly modseq: number;
  /** Size in CRLF octets (RFC822.SIZE, POP3's sizes). */
  readonly vsize: number;
}

/**
 * Messages' records as parallel arrays (position i of each array is one message), with no object per
 * message. Shared and never modified: a reader treats it as frozen.
 */
export interface RecordColumns {
  readonly uids: readonly number[];
  /** Each message's flags; messages with equal flags may share one array. */
  readonly flags: readonly (readonly Flag[])[];
  readonly modseqs: readonly number[];
  /** Sizes in CRLF octets. */
  readonly vsizes: readonly number[];
}

/**
 * A mailbox's messages as columns in ascending UID order: what SELECT takes, so a store can hand the same
 * arrays to every session of the mailbox.
 */
export interface MessageList extends RecordColumns {
  /** The position of the first message without \Seen, -1 when every message has it. */
  readonly firstUnseen: number;
}

/** The whole mailbox at SELECT. */
export interface MailboxSnapshot {
  readonly list: MessageList;
  /** The same messages as records, made on first use (IMAP reads `list`). */
  readonly records: readonly MessageRecord[];
  readonly status: MailboxStatus;
  /** The UIDs this handle claimed as \Recent. */
  readonly recent: readonly number[];
}

/** Everything that happened in a mailbox after a MODSEQ, for one handle. */
export interface ChangeSet {
  readonly highestModseq: number;
  readonly uidNext: number;
  /** New messages, ascending UIDs. */
  readonly added: readonly MessageRecord[];
  /** Messages (already known before) whose flags changed. */
  readonly changed: readonly MessageRecord[];
  /** UIDs removed, ascending. */
  readonly expunged: readonly number[];
  /** UIDs among `added` that this handle claimed as \Recent. */
  readonly recent: readonly number[];
}

export type FlagOp = { readonly mode: 'add' | 'remove' | 'replace'; readonly flags: readonly Flag[] };

export interface MessageDetails extends MessageRecord {
  readonly internalDate: InternalDate;
  /** Bytes as stored (LF or CRLF form); `vsize` is the CRLF size IMAP reports. */
  readonly size: number;
}

/** The stored bytes of one message. */
export interface MessageContent {
  readonly size: number;
  /** A stream of bytes [start, end) of the stored form (end exclusive, defaults to the whole message). */
  read(start?: number, end?: number): Readable;
  /** The whole stored message in memory (small messages, parsing). */
  readAll(): Promise<Buffer>;
  close(): Promise<void>;
}

/**
 * Derived data kept beside a message (parsed structure, envelope...) so it is computed once: opaque text
 * (JSON, or IMAP's finished FETCH text for 'fetch-text'). 'search' (the header summary), 'layout' (the
 * parts BODY/TEXT search) and `header:<field>` (one kind per header field name, lower case: SEARCH's header
 * cache) are read for a whole batch of messages at once, so a store keeps them where a UID range of one
 * kind reads cheaply. A message's derived data goes when the message goes.
 */
export type MetaKind = 'structure' | 'envelope' | 'search' | 'fetch-text' | 'layout' | `header:${string}`;

/** One session's handle on one mailbox. */
export interface Mailbox {
  readonly name: string;
  readonly readOnly: boolean;
  readonly uidValidity: number;
  /**
   * Brings the store up to date with the files, then the whole mailbox (SELECT): its messages in ascending UID
   * order, the status, and the UIDs this handle claimed as \Recent (read-write handles only claim).
   */
  snapshot(): Promise<MailboxSnapshot>;
  /** What changed since `modseq` (cheap when nothing did). */
  changesSince(modseq: number): Promise<ChangeSet>;
  /**
   * The records of these UIDs as the store has them now, as columns, in the order given (UIDs that no
   * longer exist are left out): FETCH of FLAGS, UID, MODSEQ or RFC822.SIZE needs nothing more than this,
   * no file and no object per message (`UID FETCH 1:* (FLAGS)` asks it for a whole mailbox).
   */
  records(uids: readonly number[]): Promise<RecordColumns>;
  /** Per-message details for FETCH/SEARCH, in the order given; UIDs that no longer exist are left out. */
  details(uids: readonly number[]): Promise<readonly MessageDetails[]>;
  /** The stored bytes; undefined once the message is expunged and gone. */
  openContent(uid: number): Promise<MessageContent | undefined>;
  /**
   * The stored bytes of those of `uids` no larger than `maxSize`, in one call (FETCH parsing many messages):
   * larger and expunged ones are left out (openContent tells which). Bounded slices of work, a yield between.
   */
  readSmall(uids: readonly number[], maxSize: number): Promise<ReadonlyMap<number, Buffer>>;
  /**
   * The whole stored bytes of several messages, for a scan (SEARCH BODY): read a few at a time and handed
   * to `each` as they arrive, in no particular order, so that only those few are held at once; messages
   * that are gone are left out. `stored` is valid during the call only (its memory may be reused).
   */
  scanContent(uids: readonly number[], each: (uid: number, stored: Buffer) => void): Promise<void>;
  /** Cached derived data for these UIDs (absent ones are not in the map). */
  meta(uids: readonly number[], kind: MetaKind): Promise<ReadonlyMap<number, string>>;
  saveMeta(kind: MetaKind, entries: ReadonlyMap<number, string>): Promise<void>;
  /**
   * For a search over many messages' records of one kind, without handing over every record: those of
   * `uids` whose record contains `text` (plain, case-sensitive substring of the stored string; `text` not
   * empty), with their records — and those that have no record (a message that is gone among them).
   * Records without the text are in neither.
   */
  metaContaining(uids: readonly number[], kind: MetaKind, text: string): Promise<{ readonly found: ReadonlyMap<number, string>; readonly missing: readonly number[] }>;
  /**
   * Changes flags; `unchangedSince` (CONDSTORE) leaves out messages whose MODSEQ is higher and lists them
   * in `modified`. Read-only handles: NOPERM.
   */
  setFlags(
    uids: readonly number[],
    op: FlagOp,
    options?: { readonly unchangedSince?: number },
  ): Promise<{ readonly updated: readonly MessageRecord[]; readonly modified: readonly number[] }>;
  /** Copies into another folder of the same user (NONEXISTENT → IMAP [TRYCREATE]; OVERQUOTA). */
  copy(uids: readonly number[], to: string): Promise<CopyResult>;
  /** Moves (RFC 6851): copy, then expunge here, as one operation per message. */
  move(uids: readonly number[], to: string): Promise<CopyResult>;
  /** Removes the \Deleted messages (only those among `uids` when given: UID EXPUNGE); the UIDs removed. */
  expunge(uids?: readonly number[]): Promise<readonly number[]>;
  /** Called, without payload, whenever anything may have changed; returns the unsubscribe function. */
  watch(listener: () => void): () => void;
  close(): Promise<void>;
}
