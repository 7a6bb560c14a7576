/**
 * DELETE (RFC 3501 §6.3.4). The store decides: INBOX can't be deleted ([CANNOT]); a folder with children
 * loses its messages and stays as \Noselect; a \Noselect name or a missing one is [NONEXISTENT]. Deleting
 * the mailbox this session has selected ends the session as Dovecot does (`* BYE Selected mailbox was
 * deleted, have to disconnect.`, then the tagged OK and the close): RFC 3501 says nothing, and a client
 * must not go on sending commands about a mailbox that is gone. A refused DELETE leaves the selection.
 */
import { AUTHENTICATED, command, no, ok } from '../command.js';
import { readMailbox, type MailboxArg } from '../mailbox-name.js';

export const deleteCommand = command<MailboxArg>({
  name: 'DELETE',
  states: AUTHENTICATED,
  expungeSafe: true,
  parse(args) {
    args.sp();
    return readMailbox(args);
  },
  async run(session, mailbox) {
    if (mailbox.problem !== undefined) return no(mailbox.problem);
    // Dovecot's answer, without a response code (the store would say [CANNOT]).
    if (mailbox.name === 'INBOX') return no("INBOX can't be deleted.");
    await session.mailboxes!.delete(mailbox.name);
    if (session.selected?.name === mailbox.name) {
      await session.unselect();
      session.out.status('*', 'BYE', 'Selected mailbox was deleted, have to disconnect.');
      session.logout();
    }
    return ok('Delete completed.');
  },
});
