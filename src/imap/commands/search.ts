/**
 * SEARCH and UID SEARCH (RFC 3501 §6.4.4, §6.4.8; MODSEQ of RFC 7162 §3.1.5): the keys parsed by
 * search/parse.ts and evaluated by search/evaluate.ts over the client's view; `* SEARCH` lists sequence
 * numbers (UIDs for UID SEARCH), ascending, followed by `(MODSEQ n)` — the highest MODSEQ of the matches —
 * when MODSEQ was a key and something matched. An unknown CHARSET: NO [BADCHARSET (UTF-8 US-ASCII)].
 */
import { command, no, ok, SELECTED } from '../command.js';
import { searchMailbox } from '../search/evaluate.js';
import { KNOWN_CHARSETS, parseSearch, type SearchQuery } from '../search/parse.js';
import { atom, list, num, type ImapValue } from '../wire/encoder.js';

export const search = command<SearchQuery>({
  name: 'SEARCH',
  states: SELECTED,
  uidForm: true,
  expungeSafe: false,
  parse(args) {
    return parseSearch(args);
  },
  async run(session, query, info) {
    if (query.badCharset) return no(`Unsupported charset ${query.charset ?? ''}`.trim(), { name: 'BADCHARSET', args: [list(KNOWN_CHARSETS.map(atom))] });
    const selected = session.selected!;
    if (query.modseq && !session.enabled.has('CONDSTORE')) {
      session.enable('CONDSTORE');
      const status = await session.mailboxes!.status(selected.name);
      session.out.status('*', 'OK', 'Highest', { name: 'HIGHESTMODSEQ', args: String(status.highestModseq) });
    }
    const { uids, highestModseq } = await searchMailbox(selected, query.key);
    const numbers = info.uid ? uids : uids.map((uid) => selected.seqOf(uid)!);
    const values: ImapValue[] = [atom('SEARCH'), ...numbers.map((n) => num(n))];
    if (query.modseq && numbers.length > 0) values.push(list([atom('MODSEQ'), num(highestModseq)]));
    session.out.untagged(values);
    return ok('Search completed.');
  },
});
