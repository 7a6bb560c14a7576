/**
 * milter-manager's merge rules, in one place:
 *
 * - Envelope stages (connect, helo, MAIL, RCPT, DATA, unknown) ask every live child at once, and the
 *   most important status wins: discard > reject > tempfail > continue > skip > accept (so accept
 *   merged with continue gives continue). On a tie the later child's reply wins, with its SMTP code,
 *   enhanced code and text (milter-manager keeps the last SMFIR_REPLYCODE).
 * - A final status (accept, reject, tempfail, discard) ends a child's part: at connect or HELO for the
 *   whole session, at MAIL or DATA for the message; at RCPT accept and discard end its message, while
 *   reject and tempfail refuse that recipient only. Accept ends only that child's part, the others go
 *   on; the merged reject, tempfail or discard at MAIL or DATA ends the message for every child.
 * - Message stages take effect child after child instead (see ChainSession.runMessage): the first
 *   refusal (reject, tempfail, discard) in chain order answers the MTA; the later children never get
 *   end of message, only ABORT.
 * - A child that fails contributes its fallback status to the merge of that stage.
 */
import type { FallbackStatus } from '../config/schema.js';
import type { Reply, Status } from '../mail/reply.js';

const RANK: Record<Status, number> = { discard: 5, reject: 4, tempfail: 3, continue: 2, skip: 1, accept: 0 };

/** The merge of two replies to one stage: the stronger status; on a tie the later reply `b`. */
export function stronger(a: Reply | undefined, b: Reply): Reply {
  if (a === undefined) return b;
  return RANK[b.status] >= RANK[a.status] ? b : a;
}

export function fallbackReply(status: FallbackStatus): Reply {
  return { status };
}

/** Statuses that end a child's part (in the session at connect/helo, else in the message). */
export function isFinal(status: Status): boolean {
  return status === 'accept' || status === 'reject' || status === 'tempfail' || status === 'discard';
}
