/** What ACL clauses look at: the session and message as the greylist filter saw them. */
import type { Macros } from '../../mail/macros.js';
import type { SpfResult } from '../shared/spf.js';

export interface MessageFacts {
  /** Header fields in order, values without the leading space. */
  readonly headers: readonly { readonly name: string; readonly value: string }[];
  /** The body as text (bytes read as UTF-8). */
  readonly body: string;
  /** Size of the message in bytes (headers + body). */
  readonly size: number;
}

export interface AclFacts {
  /** Client IP address; undefined for a non-IP (local) client. */
  readonly address: string | undefined;
  /** Client host name as the MTA reported it ("[192.0.2.1]" when it did not resolve). */
  readonly hostname: string;
  readonly helo: string;
  /** Envelope sender without angle brackets ('' for the null sender). */
  readonly sender: string;
  /** At RCPT: the recipient being checked; at DATA: undefined (every recipient is tested). */
  readonly recipient: string | undefined;
  /** Recipients accepted so far (at RCPT: before this one). */
  readonly recipients: readonly string[];
  readonly macros: Macros;
  /** SPF for (address, helo, sender); asked only when an spf clause is reached. */
  spf(): Promise<SpfResult>;
  /** Present at DATA. */
  readonly message: MessageFacts | undefined;
}
