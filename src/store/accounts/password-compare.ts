/**
 * Constant-time comparison for password checks: the time taken does not depend on where two values
 * first differ, so that an attacker timing failed logins learns nothing about the stored hash.
 */
import { timingSafeEqual } from 'node:crypto';

/** Whether two byte strings are equal, in time independent of their contents (only of their lengths). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  // timingSafeEqual throws on different lengths; compare a with itself so both paths do the same work.
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

/** Whether two strings are equal as UTF-8, in constant time. */
export function sameText(a: string, b: string): boolean {
  return sameBytes(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
