/**
 * The envelope of one message: MAIL FROM and RCPT TO with their ESMTP parameters, which is where
 * mail is delivered (not the From:/To: header fields). Addresses are kept as the client sent them,
 * usually in angle brackets, the way the milter stages and changes carry them.
 */
export interface Recipient {
  /** As given, e.g. "<user@example.org>". */
  readonly address: string;
  /** ESMTP parameters as given (NOTIFY=..., ORCPT=...). */
  readonly args: readonly string[];
}

export interface Envelope {
  /** As given, e.g. "<user@example.org>", "<>" for a bounce. */
  sender: string;
  senderArgs: readonly string[];
  recipients: Recipient[];
}

export function emptyEnvelope(): Envelope {
  return { sender: '', senderArgs: [], recipients: [] };
}

/** The address without its enclosing angle brackets, as Postfix compares a milter's deleted recipient. */
export function bareAddress(address: string): string {
  const a = address.trim();
  return a.startsWith('<') && a.endsWith('>') ? a.slice(1, -1) : a;
}

/** ESMTP parameters as the milter protocol sends them (one space-separated string) to a list. */
export function esmtpArgs(args: string | undefined): string[] {
  return args === undefined ? [] : args.split(' ').filter((a) => a !== '');
}
