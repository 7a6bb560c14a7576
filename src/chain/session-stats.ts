/**
 * What the one statistics line per SMTP session says about the envelope, in the words of Postfix's own
 * log (`QUEUEID: from=<...>`, `to=<...>`), so that a line can be matched with Postfix's. Updated at the
 * envelope stages and at end of message only: nothing is done per header or body packet.
 */
import type { Macros } from '../mail/macros.js';

/** An address as Postfix logs it: in angle brackets, `<>` for the null sender. */
export function postfixAddress(address: string): string {
  const bare = address.startsWith('<') && address.endsWith('>') ? address.slice(1, -1) : address;
  return `<${bare}>`;
}

export class SessionStats {
  private queueId: string | undefined;
  private from: string | undefined;
  private to: string[] = [];
  private messages = 0;

  /** MAIL FROM: a new message (its queue id is known here only if Postfix opened the queue file). */
  mail(sender: string, macros: Macros): void {
    this.messages++;
    this.from = postfixAddress(sender);
    this.to = [];
    this.queueId = undefined;
    this.seeQueueId(macros);
  }

  /** A recipient the chain did not refuse. */
  recipient(recipient: string, macros: Macros): void {
    this.to.push(postfixAddress(recipient));
    this.seeQueueId(macros);
  }

  /** The `i` macro (Postfix's queue id), at any stage that carries it. */
  seeQueueId(macros: Macros): void {
    const id = macros.get('i');
    if (id) this.queueId = id;
  }

  /** The envelope fields of the statistics line: those of the session's last message. */
  fields(): Record<string, unknown> {
    if (this.messages === 0) return {};
    return {
      ...(this.queueId !== undefined ? { queueId: this.queueId } : {}),
      from: this.from,
      to: this.to,
      ...(this.messages > 1 ? { messages: this.messages } : {}),
    };
  }
}
