/**
 * What the one statistics line per SMTP session says about its messages, in the words of Postfix's own
 * log (`QUEUEID: from=<...>`, `to=<...>`), so that a line can be matched with Postfix's. One entry per
 * message that reached DATA or end of message, however many a connection carries; a transaction that
 * ended earlier (refused at MAIL or at every RCPT, or aborted) has no message and leaves none. Updated
 * at the envelope stages and at end of message only: nothing is done per header or body packet.
 */
import type { Macros } from '../mail/macros.js';
import type { Reply } from '../mail/reply.js';

/** An address as Postfix logs it: in angle brackets, `<>` for the null sender. */
export function postfixAddress(address: string): string {
  const bare = address.startsWith('<') && address.endsWith('>') ? address.slice(1, -1) : address;
  return `<${bare}>`;
}

/** Messages listed on the line; a connection carrying more gives only their count (`moreMessages`). */
export const MAX_LOGGED_MESSAGES = 10;
/** Recipients listed per message; the rest are counted (`moreTo`). Postfix takes up to 1,000. */
export const MAX_LOGGED_RECIPIENTS = 50;

/** How a message ended for the chain: its reply at DATA or end of message, or aborted before it. */
export type MessageStatus = Reply['status'] | 'aborted';

interface Transaction {
  queueId: string | undefined;
  from: string;
  to: string[];
  moreTo: number;
  /** It reached DATA or end of message: it is a message and gets an entry when it ends. */
  isMessage: boolean;
}

export interface MessageEntry {
  readonly queueId?: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly moreTo?: number;
  readonly status: MessageStatus;
}

export class SessionStats {
  private current: Transaction | undefined;
  private readonly messages: MessageEntry[] = [];
  private moreMessages = 0;

  /** MAIL FROM: a new transaction (its queue id is known here only if Postfix opened the queue file). */
  mail(sender: string, macros: Macros): void {
    this.abort();
    this.current = { queueId: undefined, from: postfixAddress(sender), to: [], moreTo: 0, isMessage: false };
    this.seeQueueId(macros);
  }

  /** A recipient the chain did not refuse. */
  recipient(recipient: string, macros: Macros): void {
    const t = this.current;
    if (t === undefined) return;
    if (t.to.length < MAX_LOGGED_RECIPIENTS) t.to.push(postfixAddress(recipient));
    else t.moreTo++;
    this.seeQueueId(macros);
  }

  /** DATA or end of message: the transaction is a message. */
  message(macros: Macros): void {
    if (this.current) this.current.isMessage = true;
    this.seeQueueId(macros);
  }

  /** The message ended with this answer of the chain (a refusal at DATA, or end of message). */
  finish(status: MessageStatus): void {
    const t = this.current;
    this.current = undefined;
    if (t === undefined || !t.isMessage) return;
    if (this.messages.length >= MAX_LOGGED_MESSAGES) {
      this.moreMessages++;
      return;
    }
    this.messages.push({
      ...(t.queueId !== undefined ? { queueId: t.queueId } : {}),
      from: t.from,
      to: t.to,
      ...(t.moreTo > 0 ? { moreTo: t.moreTo } : {}),
      status,
    });
  }

  /** The transaction ended without an answer at end of message (abort, a new MAIL, the connection closed). */
  abort(): void {
    this.finish('aborted');
  }

  /** The `i` macro (Postfix's queue id), at any stage that carries it. */
  private seeQueueId(macros: Macros): void {
    const id = macros.get('i');
    if (id && this.current) this.current.queueId = id;
  }

  /** The fields of the statistics line: every message of the session (up to the limit), then how many more. */
  fields(): Record<string, unknown> {
    return {
      ...(this.messages.length > 0 ? { messages: this.messages } : {}),
      ...(this.moreMessages > 0 ? { moreMessages: this.moreMessages } : {}),
    };
  }
}
