/**
 * SELECT and EXAMINE (RFC 3501 §6.3.1-2), minimal: the mailbox opened read-write or read-only, the
 * previous selection closed first (so a failed SELECT leaves the authenticated state, as the RFC says),
 * and the responses in Dovecot's order (checked against Dovecot 2.3): [CLOSED] when one was selected, FLAGS,
 * PERMANENTFLAGS, EXISTS, RECENT, UNSEEN, UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ (only once CONDSTORE is on,
 * as Dovecot), then [READ-WRITE] or [READ-ONLY].
 * The (CONDSTORE) parameter (RFC 7162 §3.1.8) turns CONDSTORE on. (QRESYNC (...)) (§3.2.5, parsed by
 * qresync-param.ts) needs ENABLE QRESYNC first (else BAD, as the RFC and Dovecot say) and adds VANISHED
 * (EARLIER) and FETCH lines after HIGHESTMODSEQ (resync.ts). Unlike Dovecot, a bad parameter is BAD before
 * the previous mailbox is closed (the command did nothing, as a BAD should).
 */
import { AUTHENTICATED, ParseError, command, ok, type ArgCursor, type CommandHandler } from '../command.js';
import { parseQresync, type QresyncParam } from '../qresync-param.js';
import { writeResync } from '../resync.js';
import { SelectedMailbox } from '../selected.js';
import { atom, num } from '../wire/encoder.js';

interface SelectArgs {
  readonly mailbox: string;
  readonly condstore: boolean;
  readonly qresync?: QresyncParam;
}

/** select-params: "(" CONDSTORE / QRESYNC (...) ")"; anything else is BAD (Dovecot's text for an unknown one). */
function selectParams(args: ArgCursor, mailbox: string): SelectArgs {
  let condstore = false;
  let qresync: QresyncParam | undefined;
  args.list((c) => {
    const at = c.position;
    const word = c.atom('a select parameter').toUpperCase();
    if (word === 'CONDSTORE') condstore = true;
    else if (word === 'QRESYNC') qresync = parseQresync(c);
    else throw new ParseError('Unknown FETCH modifier', at);
  }, { what: 'a list of select parameters' });
  return { mailbox, condstore, ...(qresync === undefined ? {} : { qresync }) };
}

function selectCommand(name: 'SELECT' | 'EXAMINE'): CommandHandler<SelectArgs> {
  const readOnly = name === 'EXAMINE';
  return command<SelectArgs>({
    name,
    states: AUTHENTICATED,
    expungeSafe: true,
    parse(args) {
      args.sp();
      const mailbox = args.mailbox();
      return args.tryChar(' ') ? selectParams(args, mailbox) : { mailbox, condstore: false };
    },
    async run(session, { mailbox, condstore, qresync }) {
      if (qresync !== undefined && !session.enabled.has('QRESYNC')) throw new ParseError('QRESYNC not enabled', 0);
      if (condstore) session.enable('CONDSTORE');
      // Dovecot says so whenever a selection ends by another SELECT (RFC 7162 §3.2.11's CLOSED code).
      if (session.selected !== undefined) session.out.status('*', 'OK', 'Previous mailbox closed.', { name: 'CLOSED' });
      await session.unselect();
      const handle = await session.mailboxes!.open(mailbox, readOnly ? 'read-only' : 'read-write');
      let selected: SelectedMailbox;
      try {
        selected = await SelectedMailbox.open(handle);
      } catch (err) {
        await handle.close();
        throw err;
      }
      await session.select(selected);
      const status = selected.selectStatus;
      const out = session.out;
      out.untagged(selected.flagsResponse());
      out.status('*', 'OK', selected.readOnly ? 'Read-only mailbox.' : 'Flags permitted.', selected.permanentFlags());
      out.untagged([num(selected.count), atom('EXISTS')]);
      // A read-only selection claims nothing, but still says how many are recent (RFC 3501 §6.3.2).
      out.untagged([num(selected.readOnly ? status.recent : selected.recentCount), atom('RECENT')]);
      const unseen = selected.firstUnseen();
      if (unseen !== undefined) out.status('*', 'OK', 'First unseen.', { name: 'UNSEEN', args: String(unseen) });
      out.status('*', 'OK', 'UIDs valid', { name: 'UIDVALIDITY', args: String(status.uidValidity) });
      out.status('*', 'OK', 'Predicted next UID', { name: 'UIDNEXT', args: String(status.uidNext) });
      // Only to a client that turned CONDSTORE on, as Dovecot does (it is all the client can use it for).
      if (session.enabled.has('CONDSTORE')) out.status('*', 'OK', 'Highest', { name: 'HIGHESTMODSEQ', args: String(status.highestModseq) });
      if (qresync !== undefined) await writeResync(out, selected, qresync);
      return selected.readOnly ? ok(`${readOnly ? 'Examine' : 'Select'} completed.`, 'READ-ONLY') : ok('Select completed.', 'READ-WRITE');
    },
  });
}

export const select = selectCommand('SELECT');
export const examine = selectCommand('EXAMINE');
