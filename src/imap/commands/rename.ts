/**
 * RENAME (RFC 3501 §6.3.5): children move with the folder; renaming INBOX moves its messages into the new
 * folder and leaves INBOX empty (the store does both). [NONEXISTENT] for a missing source, [ALREADYEXISTS]
 * for an existing target (Dovecot's texts come from the store), [CANNOT] for unusable or traversal names.
 */
import { AUTHENTICATED, command, no, ok } from '../command.js';
import { readMailbox, type MailboxArg } from '../mailbox-name.js';

export const rename = command<{ from: MailboxArg; to: MailboxArg }>({
  name: 'RENAME',
  states: AUTHENTICATED,
  expungeSafe: true,
  parse(args) {
    args.sp();
    const from = readMailbox(args);
    args.sp();
    return { from, to: readMailbox(args) };
  },
  async run(session, { from, to }) {
    const problem = from.problem ?? to.problem;
    if (problem !== undefined) return no(problem);
    await session.mailboxes!.rename(from.name, to.name);
    return ok('Rename completed.');
  },
});
