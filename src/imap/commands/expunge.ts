/**
 * EXPUNGE (RFC 3501 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1: only the \Deleted messages among the given
 * UIDs). The store removes them; the untagged EXPUNGE responses (highest sequence number first, as
 * Dovecot writes them) come from the session's update right after, which also reports anything another
 * session expunged meanwhile. In a read-only mailbox nothing is removed and the answer is still OK, as
 * Dovecot answers (RFC 3501 is silent).
 */
import { SELECTED, command, ok } from '../command.js';
import type { SequenceSet } from '../wire/sequence-set.js';

export const expunge = command<SequenceSet | undefined>({
  name: 'EXPUNGE',
  states: SELECTED,
  uidForm: true,
  expungeSafe: true,
  parse(args, info) {
    if (!info.uid) return undefined;
    args.sp();
    return args.sequenceSet();
  },
  async run(session, set, info) {
    const selected = session.selected!;
    if (selected.readOnly) return ok('Expunge completed.');
    const uids = info.uid && set !== undefined ? selected.resolve(set, true) : undefined;
    if (uids !== undefined && uids.length === 0) return ok('Expunge completed.');
    await selected.handle.expunge(uids);
    return ok('Expunge completed.');
  },
});
