/**
 * What SELECT/EXAMINE (QRESYNC ...) tells a client whose UIDVALIDITY still matches (RFC 7162 §3.2.5.1),
 * after the HIGHESTMODSEQ line and before the tagged OK, in Dovecot's order: `* VANISHED (EARLIER)` for
 * the UIDs it knew that are gone (imap/vanished.ts: all of them, narrowed by the sequence match data),
 * then `* n FETCH (UID FLAGS MODSEQ)` for each message changed since its MODSEQ. Like Dovecot, both are
 * limited to the known UIDs when the client names them. VANISHED is sent even when the client's MODSEQ is
 * the mailbox's highest: a client may have taken that MODSEQ from a FETCH while an expunge was still held
 * back from it (non-UID FETCH/STORE/SEARCH, RFC 3501 §7.4.1), which the RFC 7162 §3.2 errata asks servers
 * to prevent; reporting every gone UID makes that harmless.
 */
import type { ResponseWriter } from './command.js';
import type { QresyncParam } from './qresync-param.js';
import type { SelectedMailbox } from './selected.js';
import { matchedFloor } from './vanished.js';
import { atom, list, num } from './wire/encoder.js';
import { setMatcher } from './wire/sequence-set.js';

/** Characters of a VANISHED (EARLIER) set per line. */
const LINE = 4000;

/** FETCH lines between two turns for the other sessions (a resync from MODSEQ 0 lists every message). */
const BATCH = 2048;

export async function writeResync(out: ResponseWriter, selected: SelectedMailbox, q: QresyncParam): Promise<void> {
  if (q.uidValidity !== selected.uidValidity) return;
  const view = selected.allUids();
  const floor = q.seqMatch === undefined ? 0 : matchedFloor(q.seqMatch.seqs, q.seqMatch.uids, view);
  const vanished = selected.vanishedEarlier(q.knownUids, floor);
  // a long set (every other UID of a large folder gone) in lines of about 4 kB, as other servers send it
  for (const part of lines(vanished)) out.untagged([atom('VANISHED'), list([atom('EARLIER')]), atom(part)]);
  const known = q.knownUids === undefined ? undefined : setMatcher(q.knownUids, 0);
  let sent = 0;
  for (let i = 0; i < view.length; i++) {
    const uid = view[i]!;
    const modseq = selected.modseqOf(uid)!;
    if (modseq <= q.modseq || (known !== undefined && !known(uid))) continue;
    out.untagged([num(i + 1), atom('FETCH'), list([atom('UID'), num(uid), atom('FLAGS'), selected.flagsValue(uid), atom('MODSEQ'), list([num(modseq)])])]);
    if (++sent % BATCH === 0) {
      await out.drained();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

/** A sequence-set text cut at commas into pieces of about LINE characters (none when it is empty). */
function lines(set: string): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < set.length) {
    let end = set.length;
    if (end - start > LINE) {
      const comma = set.indexOf(',', start + LINE);
      end = comma < 0 ? set.length : comma;
    }
    out.push(set.slice(start, end));
    start = end + 1;
  }
  return out;
}
