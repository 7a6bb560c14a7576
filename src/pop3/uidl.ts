/**
 * UIDL values (RFC 1939 §7): Dovecot's default pop3_uidl_format `%08Xu%08Xv` — the message's UID then the
 * mailbox's UIDVALIDITY, each as 8 upper-case hex digits. Stable across sessions (UIDs are never reused in a
 * UIDVALIDITY) and derived from IMAP's view, so a client moving from Dovecot keeps its "already seen" list
 * when the Maildir (and its dovecot-uidlist) comes along.
 */
export function uidl(uid: number, uidValidity: number): string {
  return hex8(uid) + hex8(uidValidity);
}

/** At least 8 digits, as printf's %08X (a 32-bit value never needs more). */
function hex8(n: number): string {
  return n.toString(16).toUpperCase().padStart(8, '0');
}
