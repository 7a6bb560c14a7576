/**
 * The maildrop as one POP3 session sees it (RFC 1939 §5): INBOX's messages at login, numbered 1..n in UID
 * order, with their CRLF sizes; the DELE marks and the RETR'd messages of the session, both forgotten by RSET.
 * Nothing here touches the store: UPDATE (QUIT) reads `deletedUids` and `seenUids` and applies them.
 */
import type { MessageRecord } from '../store/mailbox/mailbox-store.js';
import { uidl } from './uidl.js';

export interface DropMessage {
  readonly number: number;
  readonly uid: number;
  readonly size: number;
}

export type Lookup = { readonly message: DropMessage } | { readonly problem: string };

export class Maildrop {
  private readonly messages: readonly DropMessage[];
  private readonly deleted = new Set<number>();
  private readonly seen = new Set<number>();

  constructor(
    records: readonly MessageRecord[],
    readonly uidValidity: number,
  ) {
    this.messages = [...records].sort((a, b) => a.uid - b.uid).map((r, i) => ({ number: i + 1, uid: r.uid, size: r.vsize }));
  }

  /** Messages at login, deleted ones included (DELE does not renumber: RFC 1939 §5). */
  get count(): number {
    return this.messages.length;
  }

  /** Octets of every message at login. */
  get totalSize(): number {
    return this.messages.reduce((s, m) => s + m.size, 0);
  }

  /** STAT: the messages not marked deleted, and their octets. */
  stat(): { readonly count: number; readonly size: number } {
    let count = 0;
    let size = 0;
    for (const m of this.live()) {
      count++;
      size += m.size;
    }
    return { count, size };
  }

  live(): DropMessage[] {
    return this.messages.filter((m) => !this.deleted.has(m.number));
  }

  /** The message numbered `n` when it exists and is not marked deleted (Dovecot's texts otherwise). */
  get(n: number): Lookup {
    const message = this.messages[n - 1];
    if (n < 1 || message === undefined) return { problem: `There's no message ${n}.` };
    if (this.deleted.has(n)) return { problem: 'Message is deleted.' };
    return { message };
  }

  uidl(message: DropMessage): string {
    return uidl(message.uid, this.uidValidity);
  }

  delete(message: DropMessage): void {
    this.deleted.add(message.number);
  }

  /** A RETR: \Seen at UPDATE, as Dovecot sets it. */
  retrieved(message: DropMessage): void {
    this.seen.add(message.number);
  }

  /** RSET: no message marked deleted, none retrieved (Dovecot forgets the \Seen changes too). */
  reset(): void {
    this.deleted.clear();
    this.seen.clear();
  }

  get deletedCount(): number {
    return this.deleted.size;
  }

  get deletedSize(): number {
    let size = 0;
    for (const n of this.deleted) size += this.messages[n - 1]!.size;
    return size;
  }

  deletedUids(): number[] {
    return [...this.deleted].sort((a, b) => a - b).map((n) => this.messages[n - 1]!.uid);
  }

  /** Retrieved and not deleted: those get \Seen. */
  seenUids(): number[] {
    return [...this.seen]
      .filter((n) => !this.deleted.has(n))
      .sort((a, b) => a - b)
      .map((n) => this.messages[n - 1]!.uid);
  }
}
