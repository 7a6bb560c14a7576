/**
 * FETCH of items the store's records answer (UID, FLAGS, MODSEQ, RFC822.SIZE) when nothing sets \Seen:
 * `UID FETCH 1:* (FLAGS)`, what a client sends after SELECT to learn a mailbox's flags. No details, dates
 * or files: one records() call per batch, each response line written as text in the items' order, and one
 * queued chunk per batch — so 100,000 lines cost string appends, not 100,000 response values.
 */
import type { Flag, MessageRecord } from '../../store/mailbox/mailbox-store.js';
import { lowerBound } from '../../store/mailbox/message-list.js';
import type { ResponseWriter } from '../command.js';
import type { SelectedMailbox } from '../selected.js';
import type { FetchRequest } from './items.js';
import type { FetchOutcome } from './writer.js';
import { flagsValue } from './writer.js';

/** Messages per batch: one store call and one socket wait each. */
const BATCH = 2048;

/** Items records carry: the request can be answered here when it asks for no others. */
export const RECORD_ITEMS: ReadonlySet<string> = new Set(['UID', 'FLAGS', 'MODSEQ', 'RFC822.SIZE']);

/** Items the session's view holds for a message it still shows. */
const VIEW_ITEMS: ReadonlySet<string> = new Set(['UID', 'FLAGS', 'MODSEQ']);

/** Whether records answer the request (such items never set \Seen). */
export function recordsAnswer(request: FetchRequest): boolean {
  return request.items.every((i) => i.kind === 'simple' && RECORD_ITEMS.has(i.name));
}

export async function writeRecordsFetch(out: ResponseWriter, selected: SelectedMailbox, request: FetchRequest, uids: readonly number[]): Promise<FetchOutcome> {
  const names = request.items.map((i) => (i.kind === 'simple' ? i.name : ''));
  const flagsAsked = names.includes('FLAGS');
  const viewAnswers = names.every((n) => VIEW_ITEMS.has(n));
  let missing = 0;
  let pos = 0;
  for (let b = 0; b < uids.length; b += BATCH) {
    const batch = uids.slice(b, b + BATCH);
    const found = await selected.handle.records(batch);
    const view = selected.allUids();
    let text = '';
    const shown: MessageRecord[] = [];
    const absent = found.length < batch.length ? absentUids(batch, found) : [];
    for (const r of found) {
      if (selected.isExpungePending(r.uid)) {
        absent.push(r.uid);
        continue;
      }
      if (request.changedSince !== undefined && r.modseq <= request.changedSince) continue;
      // Both ascending: the sequence number is found from where the last one was.
      if (view[pos] !== r.uid) pos = lowerBound(view, r.uid, view[pos] !== undefined && view[pos]! <= r.uid ? pos : 0);
      if (view[pos] !== r.uid) continue;
      const seq = ++pos;
      let line = `* ${seq} FETCH (`;
      for (let k = 0; k < names.length; k++) {
        if (k > 0) line += ' ';
        switch (names[k]) {
          case 'UID':
            line += `UID ${r.uid}`;
            break;
          case 'FLAGS':
            line += `FLAGS ${flagsValue(r.flags, selected.isRecent(r.uid))}`;
            break;
          case 'MODSEQ':
            line += `MODSEQ (${r.modseq})`;
            break;
          case 'RFC822.SIZE':
            line += `RFC822.SIZE ${r.vsize}`;
            break;
        }
      }
      text += `${line})\r\n`;
      if (flagsAsked) shown.push(r);
    }
    // Expunged by another session, not yet announced to this one: UID, FLAGS and MODSEQ are answered from
    // the session's view, as Dovecot answers from its view (imaptest's expunge script); a FETCH of
    // anything else of it is left out, and the command answers NO [EXPUNGEISSUED].
    for (const uid of absent) {
      const line = viewAnswers ? fromView(selected, request, names, uid) : undefined;
      if (line === undefined) missing++;
      else text += line;
    }
    if (shown.length > 0) {
      selected.recordFlags(shown);
      // A keyword another session made is announced before a FETCH shows it, as writer.ts does (Dovecot
      // too); each distinct flag set (the store shares one array per set) is looked at once.
      const sets = new Set<readonly Flag[]>();
      for (const r of shown) sets.add(r.flags);
      if (selected.learnKeywords([...sets].flat())) {
        out.untagged(selected.flagsResponse());
        if (!selected.readOnly) out.status('*', 'OK', 'Flags permitted.', selected.permanentFlags());
      }
    }
    if (text !== '') out.raw(Buffer.from(text, 'utf8'));
    await out.drained();
    // a turn for the other sessions between batches
    if (b + BATCH < uids.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { missing };
}

/** The UIDs of `batch` that `found` (the same UIDs' records, in the same order, some left out) lacks. */
function absentUids(batch: readonly number[], found: readonly MessageRecord[]): number[] {
  const have = new Set(found.map((r) => r.uid));
  return batch.filter((uid) => !have.has(uid));
}

/** A FETCH line from the session's view of `uid` ('' when CHANGEDSINCE leaves it out), or undefined when the view lacks it. */
function fromView(selected: SelectedMailbox, request: FetchRequest, names: readonly string[], uid: number): string | undefined {
  const seq = selected.seqOf(uid);
  const flags = selected.flagsOf(uid);
  const modseq = selected.modseqOf(uid);
  if (seq === undefined || flags === undefined || modseq === undefined) return undefined;
  if (request.changedSince !== undefined && modseq <= request.changedSince) return '';
  const items = names.map((name) => (name === 'UID' ? `UID ${uid}` : name === 'FLAGS' ? `FLAGS (${flags.join(' ')})` : `MODSEQ (${modseq})`));
  return `* ${seq} FETCH (${items.join(' ')})\r\n`;
}
