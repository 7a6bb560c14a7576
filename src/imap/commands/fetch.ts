/**
 * FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8; CONDSTORE's CHANGEDSINCE and MODSEQ, RFC 7162 §3.1.4-5).
 * The sequence set is resolved against the client's view (one past EXISTS: BAD, as Dovecot); the items are
 * parsed by fetch/items.ts and written by fetch/writer.ts. The first CONDSTORE-using FETCH turns CONDSTORE
 * on and announces HIGHESTMODSEQ first (RFC 7162 §3.1). Messages expunged by another session meanwhile are
 * left out and the reply is NO [EXPUNGEISSUED] (RFC 5530), as Dovecot answers. A streamed literal that
 * breaks part-way (the store's read failed) ends the session: the client could not find the next response.
 * UID FETCH's VANISHED modifier (RFC 7162 §3.2.6; QRESYNC must be on, else BAD as Dovecot) sends
 * `* VANISHED (EARLIER)` for the set's UIDs that are gone before the FETCH lines (imap/vanished.ts).
 */
import { bad, command, no, ok, SELECTED } from '../command.js';
import { parseFetchItems, type FetchRequest } from '../fetch/items.js';
import { BrokenLiteral, writeFetch } from '../fetch/writer.js';
import { recordsAnswer, writeRecordsFetch } from '../fetch/records-fetch.js';
import { atom, list } from '../wire/encoder.js';
import type { SequenceSet } from '../wire/sequence-set.js';

export interface FetchArgs {
  readonly set: SequenceSet;
  readonly request: FetchRequest;
}

export const fetch = command<FetchArgs>({
  name: 'FETCH',
  states: SELECTED,
  uidForm: true,
  expungeSafe: false,
  parse(args, info) {
    args.sp();
    const set = args.sequenceSet();
    return { set, request: parseFetchItems(args, info.uid) };
  },
  async run(session, { set, request: asked }, info) {
    const selected = session.selected!;
    const request = session.enabled.has('QRESYNC') ? { ...asked, seenModseq: true } : asked;
    if (request.vanished === true && !session.enabled.has('QRESYNC')) return bad(`Error in IMAP command ${info.uid ? 'UID ' : ''}FETCH: QRESYNC not enabled`);
    const uids = selected.resolve(set, info.uid);
    if (request.condstore && !session.enabled.has('CONDSTORE')) {
      session.enable('CONDSTORE');
      const status = await session.mailboxes!.status(selected.name);
      session.out.status('*', 'OK', 'Highest', { name: 'HIGHESTMODSEQ', args: String(status.highestModseq) });
    }
    // whatever CHANGEDSINCE says (RFC 7162 §5 allows it; resync.ts says why it is needed)
    if (request.vanished === true) {
      const gone = selected.vanishedEarlier(set);
      if (gone !== '') session.out.untagged([atom('VANISHED'), list([atom('EARLIER')]), atom(gone)]);
    }
    let missing: number;
    try {
      // UID/FLAGS/MODSEQ/RFC822.SIZE only (the FLAGS sync after SELECT): from the store's records, as text
      ({ missing } = recordsAnswer(request)
        ? await writeRecordsFetch(session.out, selected, request, uids)
        : await writeFetch(session.out, selected, request, uids, (task) => session.afterReply(task)));
    } catch (err) {
      // a literal cut short leaves the client out of step: the session ends after this reply
      if (err instanceof BrokenLiteral) session.logout();
      throw err;
    }
    // UID FETCH: the EXPUNGE responses follow at once, so the client learns why (Dovecot answers OK too)
    if (missing > 0 && !info.uid) return no('Some of the requested messages no longer exist.', 'EXPUNGEISSUED');
    return ok('Fetch completed.');
  },
});
