/**
 * Mailbox names as the mailbox commands read and write them. Reading: an astring decoded from modified
 * UTF-7 (RFC 3501 §5.1.3) with INBOX made canonical; a name that is not valid mUTF-7 is still a
 * syntactically correct astring, so it is answered NO with Dovecot's exact text, not BAD — hence the
 * `problem` field, which also lets a command refuse before touching the store. Writing: mUTF-7,
 * then an atom when it can be one, else a quoted string, which is Dovecot's choice in LIST, LSUB and
 * STATUS responses. The store refuses traversal names ('..', '.', empty levels) itself; nothing here
 * builds paths.
 */
import { decodeMutf7, encodeMutf7 } from '../mail/mutf7.js';
import { canonicalInbox, type ArgCursor } from './wire/cursor.js';
import { atom, quoted, type ImapValue } from './wire/encoder.js';
import { isAtom } from './wire/grammar.js';

/** The hierarchy separator on the wire and in the store. */
export const SEPARATOR = '/';

export interface MailboxArg {
  /** Unicode, INBOX canonical (the raw text when `problem` is set). */
  readonly name: string;
  /** Why the name cannot be used (answered NO), or undefined. */
  readonly problem?: string;
}

/** Reads a `mailbox` argument without throwing on bad mUTF-7. */
export function readMailbox(args: ArgCursor): MailboxArg {
  const raw = args.astringBytes('a mailbox name').toString('latin1');
  const name = decodeMutf7(raw);
  if (name === undefined) return { name: raw, problem: 'Mailbox name is not valid mUTF-7' };
  return { name: canonicalInbox(name) };
}

/** A mailbox name for a response: mUTF-7, an atom when it is one (and not NIL), else quoted. */
export function mailboxValue(name: string): ImapValue {
  const wire = encodeMutf7(name);
  if (isAtom(wire) && wire.toUpperCase() !== 'NIL') return atom(wire);
  return quoted(wire);
}
