/** milter-manager's merge order: the most important status wins. */
import type { Reply, Status } from '../mail/reply.js';

const RANK: Record<Status, number> = { discard: 5, reject: 4, tempfail: 3, continue: 2, skip: 1, accept: 0 };

/** The reply whose status wins; on a tie the later one, so its code and text are kept. */
export function stronger(a: Reply | undefined, b: Reply): Reply {
  if (a === undefined) return b;
  return RANK[b.status] >= RANK[a.status] ? b : a;
}

/** A child's fallback, milter-manager's names included ("temporary-failure"). */
export type FallbackStatus = 'accept' | 'tempfail' | 'reject' | 'discard';

export function fallbackReply(status: FallbackStatus): Reply {
  return { status };
}

/** Statuses that end a child's part (in the session at connect/helo, else in the message). */
export function isFinal(status: Status): boolean {
  return status === 'accept' || status === 'reject' || status === 'tempfail' || status === 'discard';
}
