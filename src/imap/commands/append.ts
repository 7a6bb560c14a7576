/**
 * APPEND (RFC 3501 §6.3.11) with UIDPLUS's [APPENDUID] (RFC 4315), [TRYCREATE] for a missing mailbox,
 * [TOOBIG] and [OVERQUOTA] (RFC 5530 / 9208) from the store, and the APPENDLIMIT (RFC 7889) the session
 * announces. The message arrives as the frame's literal: the wire reader has already dealt with `{n}`
 * (the session sent "+" or refused it unread as [TOOBIG]) and `{n+}` (LITERAL+), so its bytes are here
 * exactly as sent, 8-bit and binary included. Messages appended to the selected mailbox are announced
 * by the session's update after the command (EXISTS). MULTIAPPEND (RFC 3502) is not offered.
 */
import { MailboxError, type Flag, type InternalDate } from '../../store/mailbox/mailbox-store.js';
import { AUTHENTICATED, command, no, ok } from '../command.js';
import { settableFlagList } from '../flags-arg.js';
import { readMailbox, type MailboxArg } from '../mailbox-name.js';

interface AppendArgs {
  readonly mailbox: MailboxArg;
  readonly flags: readonly Flag[];
  readonly date?: InternalDate;
  readonly content: Buffer;
}

export const append = command<AppendArgs>({
  name: 'APPEND',
  states: AUTHENTICATED,
  expungeSafe: true,
  parse(args) {
    args.sp();
    const mailbox = readMailbox(args);
    args.sp();
    let flags: Flag[] = [];
    if (args.peek() === 0x28) {
      flags = settableFlagList(args);
      args.sp();
    }
    let date: InternalDate | undefined;
    if (args.peek() === 0x22) {
      date = args.dateTime();
      args.sp();
    }
    const content = args.literal();
    return date === undefined ? { mailbox, flags, content } : { mailbox, flags, date, content };
  },
  async run(session, { mailbox, flags, date, content }) {
    if (mailbox.problem !== undefined) return no(mailbox.problem);
    if (content.length === 0) return no("Can't save a zero byte message.");
    if (content.length > session.appendLimit) return no(`Message is larger than the ${session.appendLimit}-byte limit`, 'TOOBIG');
    try {
      const { uidValidity, uid } = await session.mailboxes!.append(mailbox.name, { content, flags, ...(date === undefined ? {} : { internalDate: date }) });
      return ok('Append completed.', { name: 'APPENDUID', args: `${uidValidity} ${uid}` });
    } catch (err) {
      // RFC 3501 §6.3.11: a missing mailbox is [TRYCREATE], so the client may CREATE it and try again.
      if (err instanceof MailboxError && err.code === 'NONEXISTENT') return no(err.message, 'TRYCREATE');
      throw err;
    }
  },
});
