/**
 * STATUS (RFC 3501 §6.3.10) with the items MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN, HIGHESTMODSEQ
 * (RFC 7162; asking for it turns CONDSTORE on, §3.1), SIZE (RFC 8438) and APPENDLIMIT (RFC 7889). The
 * answer lists the items in the order asked, as Dovecot does. Also used by LIST ... RETURN (STATUS ...)
 * (RFC 5819), hence the exported pieces.
 */
import type { MailboxStatus } from '../../store/mailbox/mailbox-store.js';
import { AUTHENTICATED, ParseError, command, no, ok, type ArgCursor, type SessionContext } from '../command.js';
import { mailboxValue, readMailbox, type MailboxArg } from '../mailbox-name.js';
import { atom, list, num } from '../wire/encoder.js';

export const STATUS_ITEMS = ['MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'HIGHESTMODSEQ', 'SIZE', 'APPENDLIMIT'] as const;
export type StatusItem = (typeof STATUS_ITEMS)[number];

/** "(" status-att *(SP status-att) ")": BAD for an empty list or an unknown item (Dovecot's texts). */
export function readStatusItems(args: ArgCursor): StatusItem[] {
  const at = args.position;
  const items = args.list((c) => {
    const word = c.atom('a status item').toUpperCase();
    if (!(STATUS_ITEMS as readonly string[]).includes(word)) throw new ParseError(`Invalid status item ${word}`, c.position);
    return word as StatusItem;
  }, { what: 'a list of status items' });
  if (items.length === 0) throw new ParseError('Empty status list', at);
  return items;
}

function value(item: StatusItem, status: MailboxStatus, session: SessionContext): number {
  switch (item) {
    case 'MESSAGES':
      return status.messages;
    case 'RECENT':
      return status.recent;
    case 'UIDNEXT':
      return status.uidNext;
    case 'UIDVALIDITY':
      return status.uidValidity;
    case 'UNSEEN':
      return status.unseen;
    case 'HIGHESTMODSEQ':
      return status.highestModseq;
    case 'SIZE':
      return status.size;
    case 'APPENDLIMIT':
      return session.appendLimit;
  }
}

/** Writes `* STATUS <name> (<item> <n> ...)`. */
export function writeStatus(session: SessionContext, name: string, items: readonly StatusItem[], status: MailboxStatus): void {
  if (items.includes('HIGHESTMODSEQ')) session.enable('CONDSTORE');
  session.out.untagged([atom('STATUS'), mailboxValue(name), list(items.flatMap((item) => [atom(item), num(value(item, status, session))]))]);
}

export const status = command<{ mailbox: MailboxArg; items: StatusItem[] }>({
  name: 'STATUS',
  states: AUTHENTICATED,
  expungeSafe: true,
  parse(args) {
    args.sp();
    const mailbox = readMailbox(args);
    args.sp();
    return { mailbox, items: readStatusItems(args) };
  },
  async run(session, { mailbox, items }) {
    if (mailbox.problem !== undefined) return no(mailbox.problem);
    const result = await session.mailboxes!.status(mailbox.name);
    writeStatus(session, mailbox.name, items, result);
    return ok('Status completed.');
  },
});
