/**
 * CREATE (RFC 3501 §6.3.3): the folder and any missing parents. A trailing separator ("foo/", the client
 * saying it means to make children) is dropped and the folder made selectable, as Dovecot does. The store
 * refuses existing names (INBOX included: [ALREADYEXISTS]) and unusable or traversal names such as
 * "../bob/INBOX" or "INBOX/../../" ([CANNOT]); nothing here touches paths.
 */
import { AUTHENTICATED, command, no, ok } from '../command.js';
import { readMailbox, SEPARATOR, type MailboxArg } from '../mailbox-name.js';

export const create = command<MailboxArg>({
  name: 'CREATE',
  states: AUTHENTICATED,
  expungeSafe: true,
  parse(args) {
    args.sp();
    return readMailbox(args);
  },
  async run(session, mailbox) {
    if (mailbox.problem !== undefined) return no(mailbox.problem);
    const name = mailbox.name.endsWith(SEPARATOR) ? mailbox.name.slice(0, -1) : mailbox.name;
    await session.mailboxes!.create(name);
    return ok('Create completed.');
  },
});
