/**
 * The contract between the SMTP server (smtp/) and the queue (queue/): services never import each other,
 * they meet here (docs/architecture.md). The queue implements Spool; the SMTP server receives one.
 */
import type { Readable } from 'node:stream';

/** RFC 3461 NOTIFY: a list of conditions, or NEVER. Absent: the default (FAILURE, and DELAY at will). */
export type DsnNotify = readonly ('SUCCESS' | 'FAILURE' | 'DELAY')[] | 'NEVER';

/** One recipient as the queue keeps it: the final address after alias expansion, and where it came from. */
export interface QueuedRecipient {
  /** Final envelope address without angle brackets, e.g. "alice@example.org". */
  readonly address: string;
  /** The address as the client gave it at RCPT (before alias expansion), for the DSN's Original-Recipient. */
  readonly original: string;
  /** RFC 3461 ORCPT as given ("rfc822;alice@example.org"), if any. */
  readonly orcpt?: string;
  readonly notify?: DsnNotify;
}

/** What the SMTP server hands over at end of message, once the chain accepted it and its edits are applied. */
export interface SpoolInput {
  /** The id from Spool.newId(), assigned at MAIL FROM (it is in the Received field and the `i` macro). */
  readonly id: string;
  /** Envelope sender without angle brackets; "" for the null sender <>. */
  readonly sender: string;
  readonly recipients: readonly QueuedRecipient[];
  /** RFC 3461 RET and ENVID from MAIL FROM. */
  readonly ret?: 'FULL' | 'HDRS';
  readonly envid?: string;
  /** The client, for the log and for DSNs ("Received-From-MTA"): "[192.0.2.1]" or "host [192.0.2.1]". */
  readonly client: string;
  /** Set by a filter's quarantine change: the message goes to hold, not to delivery (Postfix's HOLD). */
  readonly hold?: string;
  /** The whole message as it goes into the queue file (our Received field first). */
  readonly message: Readable;
}

export interface Spool {
  /** A new queue id, unique for the life of the spool directory: [0-9A-Z]{10,}, as Postfix's long ids. */
  newId(): string;
  /**
   * Writes the message and its envelope, fsyncs the file and its directory, and only then resolves:
   * the caller sends 250 after this. Rejects (the caller answers 451 4.3.0) and leaves nothing behind
   * when anything fails, the message stream erroring included.
   */
  enqueue(input: SpoolInput): Promise<void>;
}
