/**
 * Flags a client may set (APPEND, STORE): the system flags in any case (written back canonically) and
 * keyword atoms. \Recent and any other "\" name are refused as Dovecot refuses them: BAD "Invalid system
 * flag \RECENT" (\Recent is the server's to give, RFC 3501 §2.3.2).
 */
import { SYSTEM_FLAGS, type Flag } from '../store/mailbox/mailbox-store.js';
import { ParseError, type ArgCursor } from './command.js';

/** One settable flag, or ParseError. */
export function settableFlag(args: ArgCursor): Flag {
  const at = args.position;
  const flag = args.flag();
  if (flag.startsWith('\\') && !SYSTEM_FLAGS.includes(flag)) throw new ParseError(`Invalid system flag ${flag.toUpperCase()}`, at);
  return flag;
}

/** flag-list of settable flags, duplicates dropped. */
export function settableFlagList(args: ArgCursor): Flag[] {
  return [...new Set(args.list((c) => settableFlag(c), { what: 'a flag list' }))];
}

