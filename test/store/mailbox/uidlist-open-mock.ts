/**
 * For tests that make reads of dovecot-uidlist fail through a vi.mock of node:fs/promises (imported inside
 * the mock's factory): whether an open() call is a read-only open of a uidlist (not its lock, not a write).
 */
export function isUidlistRead(path: unknown, flags?: string | number): boolean {
  const readOnly = flags === undefined || flags === 'r' || (typeof flags === 'number' && (flags & 3) === 0);
  return readOnly && String(path).endsWith('/dovecot-uidlist');
}
