/**
 * UIDL values (RFC 1939 §7): Dovecot's default pop3_uidl_format `%08Xu%08Xv` — the message's UID then the
 * mailbox's UIDVALIDITY, each as at least 8 hex digits — lower-case: Dovecot's %X expands to lower-case hex
 * (its wiki's examples and the differential test agree), and a client compares UIDLs byte for byte. Stable across sessions (UIDs are never reused in a
 * UIDVALIDITY) and derived from IMAP's view, so a client moving from Dovecot keeps its "already seen" list
 * when the Maildir (and its dovecot-uidlist) comes along.
 */
export function uidl(uid: number, uidValidity: number): string {
  return hex8(uid) + hex8(uidValidity);
}

/** At least 8 digits (a 32-bit value never needs more). */
function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}
