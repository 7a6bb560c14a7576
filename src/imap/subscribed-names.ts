/**
 * The names LSUB and LIST (SUBSCRIBED) answer from: the store's folders plus every subscribed name that is
 * no folder (any more). RFC 3501 §6.3.9 has LSUB list subscribed names whether they exist or not (a server
 * MUST NOT drop a subscription because its mailbox is gone), and RFC 5258 §3 has LIST (SUBSCRIBED) list
 * them with \NonExistent. Dovecot does both: LSUB shows such a name with no attributes, LIST (SUBSCRIBED)
 * with (\Subscribed \NonExistent).
 */
import type { MailboxInfo } from '../store/mailbox/mailbox-store.js';

export interface ListedName extends MailboxInfo {
  /** A subscribed name with no folder and no folder below it. */
  readonly nonexistent?: boolean;
}

export function withSubscribedNames(all: readonly MailboxInfo[], subscriptions: readonly string[]): ListedName[] {
  const known = new Set(all.map((m) => m.name));
  const missing = [...new Set(subscriptions)].filter((name) => !known.has(name)).sort();
  return [...all, ...missing.map((name) => ({ name, subscribed: true, hasChildren: false, selectable: false, nonexistent: true }))];
}
