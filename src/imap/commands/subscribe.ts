/**
 * SUBSCRIBE and UNSUBSCRIBE (RFC 3501 §6.3.6-7). SUBSCRIBE checks that the mailbox exists, as Dovecot does
 * (the RFC allows either); UNSUBSCRIBE never does, since a name must stay removable from the list after
 * its mailbox is gone (RFC 3501 §6.3.6).
 */
import { MailboxError } from '../../store/mailbox/mailbox-store.js';
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
        if (!known) throw new MailboxError('NONEXISTENT', `Mailbox doesn't exist: ${mailbox.name}`);
      }
      await mailboxes.subscribe(mailbox.name, subscribed);
      return ok(`${subscribed ? 'Subscribe' : 'Unsubscribe'} completed.`);
    },
  });
}

export const subscribe = subscription('SUBSCRIBE');
export const unsubscribe = subscription('UNSUBSCRIBE');
