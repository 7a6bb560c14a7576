/**
 * The tuple life cycle (milter-greylist's pending.c / autowhite.c) over a GreylistStore:
 *
 *   unknown or expired      → new pending entry, accept after `delay`; tempfail
 *   pending, too early      → tempfail with the remaining time
 *   pending, delay over     → auto-whitelisted for `autowhite` (or forgotten when it is 0); accept,
 *                             the message is reported "Delayed for <elapsed>"
 *   auto-whitelisted        → accept; the period starts again from now
 *
 * A pending entry is forgotten `timeout` after its accept time. With lazyaw an auto-whitelisted
 * address passes whatever the sender and recipient. All times come from the caller's clock.
 */
import type { GreylistEntry, GreylistStore, GreylistTuple } from '../../store/greylist/store.js';

export type TupleVerdict =
  | { readonly kind: 'autowhite' }
  /** Just passed its delay: `elapsedMs` since the first attempt. */
  | { readonly kind: 'matured'; readonly elapsedMs: number }
  | { readonly kind: 'pending'; readonly remainingMs: number; readonly first: boolean };

export interface LifecycleSettings {
  readonly delayMs: number;
  readonly autowhiteMs: number;
  readonly timeoutMs: number;
  readonly lazyaw: boolean;
}

export async function checkTuple(store: GreylistStore, tuple: GreylistTuple, s: LifecycleSettings, now: number): Promise<TupleVerdict> {
  if (s.lazyaw) {
    const aw = await store.getAutowhiteForAddress(tuple.address, now);
    if (aw !== undefined) {
      await extend(store, aw, s, now);
      return { kind: 'autowhite' };
    }
  }
  // The store never returns an entry expired at `now` (its contract), autowhite or pending.
  const entry = await store.get(tuple, now);
  if (entry !== undefined && entry.kind === 'autowhite') {
    await extend(store, entry, s, now);
    return { kind: 'autowhite' };
  }
  if (entry !== undefined && entry.kind === 'pending' && now - entry.acceptAfter <= s.timeoutMs) {
    if (now < entry.acceptAfter) return { kind: 'pending', remainingMs: entry.acceptAfter - now, first: false };
    await whitelist(store, tuple, entry.created, s, now);
    return { kind: 'matured', elapsedMs: now - entry.created };
  }
  // Unknown, or an entry that expired: a first attempt.
  if (s.delayMs <= 0) {
    await whitelist(store, tuple, now, s, now);
    return { kind: 'matured', elapsedMs: 0 };
  }
  const acceptAfter = now + s.delayMs;
  await store.put({ ...pick(tuple), kind: 'pending', created: now, acceptAfter, expires: acceptAfter + s.timeoutMs, hits: 0 });
  return { kind: 'pending', remainingMs: s.delayMs, first: true };
}

async function whitelist(store: GreylistStore, tuple: GreylistTuple, created: number, s: LifecycleSettings, now: number): Promise<void> {
  if (s.autowhiteMs <= 0) {
    await store.delete(tuple);
    return;
  }
  await store.put({ ...pick(tuple), kind: 'autowhite', created, acceptAfter: now, expires: now + s.autowhiteMs, hits: 1 });
}

async function extend(store: GreylistStore, entry: GreylistEntry, s: LifecycleSettings, now: number): Promise<void> {
  if (s.autowhiteMs <= 0) return;
  await store.put({ ...entry, expires: Math.max(entry.expires, now + s.autowhiteMs), hits: entry.hits + 1 });
}

function pick(t: GreylistTuple): GreylistTuple {
  return { address: t.address, sender: t.sender, recipient: t.recipient };
}
