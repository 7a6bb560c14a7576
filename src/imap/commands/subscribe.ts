/**
 * SUBSCRIBE and UNSUBSCRIBE (RFC 3501 §6.3.6-7). SUBSCRIBE checks that the mailbox exists, as Dovecot does
 * (the RFC allows either), with Dovecot's answer (NO without a response code); UNSUBSCRIBE never does, since a name must stay removable from the list after
 * its mailbox is gone (RFC 3501 §6.3.6).
 */
import { AUTHENTICATED, command, no, ok, type CommandHandler } from '../command.js';
import { readMailbox, type MailboxArg } from '../mailbox-name.js';

function subscription(name: 'SUBSCRIBE' | 'UNSUBSCRIBE'): CommandHandler<MailboxArg> {
  const subscribed = name === 'SUBSCRIBE';
  return command<MailboxArg>({
    name,
    states: AUTHENTICATED,
    expungeSafe: true,
    parse(args) {
      args.sp();
      return readMailbox(args);
    },
    async run(session, mailbox) {
      if (mailbox.problem !== undefined) return no(mailbox.problem);
      const mailboxes = session.mailboxes!;
      if (subscribed) {
        const known = (await mailboxes.list()).some((m) => m.name === mailbox.name && m.selectable);
        if (!known) return no(`Mailbox doesn't exist: ${mailbox.name}`);
      }
      await mailboxes.subscribe(mailbox.name, subscribed);
      return ok(`${subscribed ? 'Subscribe' : 'Unsubscribe'} completed.`);
    },
  });
}

export const subscribe = subscription('SUBSCRIBE');
export const unsubscribe = subscription('UNSUBSCRIBE');
