/**
 * SELECT/EXAMINE's QRESYNC parameter (RFC 7162 §3.2.5):
 *   "QRESYNC" SP "(" uidvalidity SP mod-sequence-value [SP known-uids [SP seq-match-data]] ")"
 *   seq-match-data = "(" known-sequence-set SP known-uid-set ")"
 * The cursor stands after the word QRESYNC. A bad parameter is a ParseError (→ BAD) whose text starts as
 * Dovecot 2.3's does ("Invalid QRESYNC known-uids") and then says where and why. Like Dovecot, 0 is taken
 * as a UIDVALIDITY (it matches no mailbox) and as a mod-sequence (everything changed since).
 * The two match sets must be the same length and ascending (the RFC's MUST), so that the session can walk
 * them pairwise without expanding them (a client may write 1:4294967295).
 */
import { ParseError, type ArgCursor } from './command.js';
import type { SeqRange, SequenceSet } from './wire/sequence-set.js';

export interface QresyncParam {
  readonly uidValidity: number;
  /** The client's last known HIGHESTMODSEQ (a 63-bit value; a double is exact enough to compare). */
  readonly modseq: number;
  /** The UIDs the client knows (no `*`); absent: 1:UIDNEXT-1 (RFC 7162 §3.2.5). */
  readonly knownUids?: SequenceSet;
  /** Message sequence match data: pairs of a sequence number and the UID the client has there. */
  readonly seqMatch?: { readonly seqs: SequenceSet; readonly uids: SequenceSet };
}

/** Runs `read`, turning its ParseError into one that starts with `prefix` (unless an inner one did). */
function within<T>(prefix: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof ParseError) || err.message.startsWith('Invalid QRESYNC')) throw err;
    throw new ParseError(`${prefix}: ${err.message}`, err.position);
  }
}

/**
 * A sequence set without `*`; with `ascending` (the two sets of the match data, RFC 7162's MUST), its
 * ranges ascending and not overlapping (5:2 counts as 2:5). known-uids is any set (5,1:3 is fine).
 */
function plainSet(args: ArgCursor, what: string, ascending: boolean): SequenceSet {
  return within(`Invalid QRESYNC ${what}`, () => {
    const at = args.position;
    const set = args.sequenceSet();
    let last = 0;
    for (const r of set) {
      if (r.from === '*' || r.to === '*') throw new ParseError(`"*" is not allowed at column ${at}`, at);
      if (ascending && Math.min(r.from, r.to) <= last) throw new ParseError(`numbers not ascending at column ${at}`, at);
      last = Math.max(r.from, r.to);
    }
    return set;
  });
}

/** How many numbers a plain set names. */
export function setSize(set: SequenceSet): number {
  let n = 0;
  for (const r of set as readonly (SeqRange & { from: number; to: number })[]) n += Math.abs(r.to - r.from) + 1;
  return n;
}

/** The QRESYNC parameter's value; the cursor stands after the word QRESYNC. */
export function parseQresync(args: ArgCursor): QresyncParam {
  if (!args.tryChar(' ') || args.peek() !== 0x28) throw new ParseError('QRESYNC parameters missing', args.position);
  return within('Invalid QRESYNC parameters', () => {
    args.expect('(');
    const uidValidity = args.number('a UIDVALIDITY');
    args.sp();
    const modseq = Number(args.number64('a mod-sequence'));
    let knownUids: SequenceSet | undefined;
    let seqMatch: QresyncParam['seqMatch'];
    if (args.tryChar(' ')) {
      knownUids = plainSet(args, 'known-uids', false);
      if (args.tryChar(' ')) {
        args.expect('(');
        const seqs = plainSet(args, 'known-sequence-set', true);
        if (!args.tryChar(' ')) throw new ParseError('Invalid QRESYNC known-uid-set: missing', args.position);
        const uids = plainSet(args, 'known-uid-set', true);
        args.expect(')');
        if (setSize(seqs) !== setSize(uids)) throw new ParseError('Invalid QRESYNC sets: not of the same size', args.position);
        seqMatch = { seqs, uids };
      }
    }
    args.expect(')');
    return { uidValidity, modseq, ...(knownUids === undefined ? {} : { knownUids }), ...(seqMatch === undefined ? {} : { seqMatch }) };
  });
}
