/**
 * APPEND (RFC 3501 §6.3.11) with UIDPLUS's [APPENDUID] (RFC 4315), [TRYCREATE] for a missing mailbox,
 * [TOOBIG] and [OVERQUOTA] (RFC 5530 / 9208) from the store, and the APPENDLIMIT (RFC 7889) the session
 * announces. The message arrives as the frame's literal: the wire reader has already dealt with `{n}`
 * (the session sent "+" or refused it unread as [TOOBIG]) and `{n+}` (LITERAL+), so its bytes are here
 * exactly as sent, 8-bit and binary included. Messages appended to the selected mailbox are announced
 * by the session's update after the command (EXISTS). MULTIAPPEND (RFC 3502) is not offered.
 *
 * A synchronising literal is refused unread (no "+", so the client never sends the message) when the
 * command is doomed by what came before it: bad syntax (BAD), a name that is not valid mUTF-7 or that the
 * store would refuse, traversal names included (NO), or a zero-byte message. [TRYCREATE] for a missing
 * mailbox still comes after the literal: the session's literal hook is synchronous and the store is not.
 */
import { MailboxError, type Flag, type InternalDate } from '../../store/mailbox/mailbox-store.js';
import { checkMailboxName } from '../../store/maildir/mailbox-names.js';
import { AUTHENTICATED, ParseError, bad, command, no, ok, type Completion } from '../command.js';
import { ArgCursor } from '../wire/cursor.js';
import type { LiteralAnnouncement } from '../wire/frame.js';
import { settableFlagList } from '../flags-arg.js';
import { readMailbox, type MailboxArg } from '../mailbox-name.js';

interface AppendArgs {
  readonly mailbox: MailboxArg;
  readonly flags: readonly Flag[];
  readonly date?: InternalDate;
  readonly content: Buffer;
}

/** Checks the part of an APPEND before a synchronising literal: a Completion refuses the literal unread. */
function beforeLiteral(announcement: LiteralAnnouncement): Completion | undefined {
  const args = new ArgCursor(announcement);
  try {
    args.sp();
    // This literal is the mailbox name itself: nothing to judge yet.
    if (args.atEnd()) return undefined;
    const mailbox = readMailbox(args);
    if (mailbox.problem !== undefined) return no(mailbox.problem);
    const check = checkMailboxName(mailbox.name);
    if (!check.ok) return no(check.reason, 'CANNOT');
    args.sp();
    if (args.peek() === 0x28) {
      settableFlagList(args);
      args.sp();
    }
    if (args.peek() === 0x22) {
      args.dateTime();
      args.sp();
    }
    // Something else is announcing this literal: the parse after it will say what.
    if (!args.atEnd()) return undefined;
    if (announcement.size === 0) return no("Can't save a zero byte message.");
    return undefined;
  } catch (err) {
    if (err instanceof ParseError) return bad(`Error in IMAP command APPEND: ${err.message}`, err.code);
    throw err;
  }
}

export const append = command<AppendArgs>({
  name: 'APPEND',
  states: AUTHENTICATED,
  expungeSafe: true,
  literal: (_session, announcement) => beforeLiteral(announcement),
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
