/**
 * The contract between the queue (queue/) and delivery (delivery/): the queue's scheduler decides when,
 * a Transport decides how and where. Services never import each other; they meet here.
 */
import type { Readable } from 'node:stream';
import type { QueuedRecipient } from './spool.js';

export interface DeliveryRequest {
  readonly queueId: string;
  /** Envelope sender, "" for <>. */
  readonly sender: string;
  /** The recipients still to be delivered (the queue leaves out those done before). */
  readonly recipients: readonly QueuedRecipient[];
  readonly envid?: string;
  /** RFC 3461 RET from MAIL FROM, passed on to a next hop that offers DSN. */
  readonly ret?: 'FULL' | 'HDRS';
  /** When the message arrived (ms since the epoch): with queueId it names the message's Maildir file, so a
   * delivery repeated after a crash replaces the file it wrote before instead of adding a second copy. */
  readonly arrival?: number;
  /** Size of the message in bytes (for SIZE= and the Maildir's S=). */
  readonly size: number;
  /** Opens the message (headers and body, CRLF line ends) from the queue file; may be called more than once. */
  openMessage(): Readable;
}

/** The outcome for one recipient. */
export interface RecipientResult {
  /** The recipient's `address`, as in the request. */
  readonly address: string;
  /** delivered: done; deferred: try again later; failed: permanent, bounce it. */
  readonly status: 'delivered' | 'deferred' | 'failed';
  /** Enhanced status code, e.g. "2.0.0", "4.4.1", "5.1.1". */
  readonly enhanced: string;
  /** Why, in one line, as Postfix's "status=deferred (…)": the remote reply or our own reason. */
  readonly diagnostic: string;
  /** The remote reply's SMTP code and text when there was one (DSN Diagnostic-Code: smtp; …). */
  readonly remoteReply?: string;
  /**
   * Delivered to a next hop that offers DSN and was given this recipient's NOTIFY: notifications are its
   * job from here (RFC 3461 §6.2.3), so the queue sends no "relayed" success notice of its own.
   */
  readonly dsnPassedOn?: boolean;
  /** Who took it: "mx.example.org[192.0.2.1]:25", "maildir", "lmtp:[127.0.0.1]:24". */
  readonly relay?: string;
}

export interface Transport {
  /**
   * Delivers one queued message to every recipient of the request, grouped by destination as the transport
   * sees fit, and reports each one. Never rejects: a failure is a deferred or failed result.
   */
  deliver(request: DeliveryRequest): Promise<RecipientResult[]>;
  /**
   * Ends pooled connections at once and takes no new deliveries (they defer). Deliveries in flight may finish
   * for `graceMs`; then their connections are cut, they defer, and their destination slots are freed; close()
   * resolves soon after, even when one of them is still stuck (its result is of no use to anyone by then).
   * Without `graceMs`, it waits for every delivery in flight, however long that takes.
   */
  close(graceMs?: number): Promise<void>;
}
