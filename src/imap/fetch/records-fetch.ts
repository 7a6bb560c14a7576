/**
 * FETCH of items the store's records answer (UID, FLAGS, MODSEQ, RFC822.SIZE) when nothing sets \Seen:
 * `UID FETCH 1:* (FLAGS)`, what a client sends after SELECT to learn a mailbox's flags. No details, dates
 * or files: one records() call per batch (columns, no object per message), each response line written
 * straight into byte chunks (the flag lists encoded once per distinct flag set), the chunks handed to the
 * socket as they are — so 100,000 lines cost some number writes, not 100,000 strings and records to collect.
 */
import type { Flag, RecordColumns } from '../../store/mailbox/mailbox-store.js';
import { lowerBound } from '../../store/mailbox/message-list.js';
import type { ResponseWriter } from '../command.js';
import type { SelectedMailbox } from '../selected.js';
import { ByteChunks, CHUNK_BYTES, DECIMAL_MAX, putBytes, putDecimal } from '../wire/byte-lines.js';
import type { FetchRequest } from './items.js';
import type { FetchOutcome } from './writer.js';
import { flagsValue } from './writer.js';

/**
 * Messages per batch: one store call, one turn for the other sessions and one socket wait each. A batch
 * is about 80 kB of response and well under a millisecond of work once the code is optimised.
 */
const BATCH = 2048;
/**
 * The first batch is small: it runs all of RecordLines.write once, so that V8 has seen every path of it
 * before it optimises the loop (code it optimised unseen is thrown away when first reached).
 */
const FIRST_BATCH = 256;

/** Items records carry: the request can be answered here when it asks for no others. */
export const RECORD_ITEMS: ReadonlySet<string> = new Set(['UID', 'FLAGS', 'MODSEQ', 'RFC822.SIZE']);

/** Items the session's view holds for a message it still shows. */
const VIEW_ITEMS: ReadonlySet<string> = new Set(['UID', 'FLAGS', 'MODSEQ']);

/** Whether records answer the request (such items never set \Seen). */
export function recordsAnswer(request: FetchRequest): boolean {
  return request.items.every((i) => i.kind === 'simple' && RECORD_ITEMS.has(i.name));
}

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
const LINE_START = ascii('* ');
const FETCH_OPEN = ascii(' FETCH (');
const LINE_END = ascii(')\r\n');
/** Each item's name as it starts the item, the first item's and the others' (after a space). */
const ITEM_START: ReadonlyMap<string, readonly [Buffer, Buffer]> = new Map(
  [
    ['UID', 'UID '],
    ['FLAGS', 'FLAGS '],
    ['MODSEQ', 'MODSEQ ('],
    ['RFC822.SIZE', 'RFC822.SIZE '],
  ].map(([name, start]) => [name!, [ascii(start!), ascii(` ${start!}`)]] as const),
);
const MODSEQ_END = ascii(')');
const NO_FLAGS: Buffer = Buffer.alloc(0);

/** flagsValue's bytes, made once per distinct flag set (the store shares one array per set) and \Recent or not. */
const shownBytes = new WeakMap<readonly Flag[], [plain: Buffer | undefined, recent: Buffer | undefined]>();
function flagsBytes(flags: readonly Flag[], recent: boolean): Buffer {
  let memo = shownBytes.get(flags);
  if (memo === undefined) shownBytes.set(flags, (memo = [undefined, undefined]));
  const k = recent ? 1 : 0;
  return (memo[k] ??= Buffer.from(flagsValue(flags, recent), 'utf8'));
}

const enum Item {
  Uid,
  Flags,
  Modseq,
  Size,
}
const ITEM_OF: Readonly<Record<string, Item>> = { UID: Item.Uid, FLAGS: Item.Flags, MODSEQ: Item.Modseq, 'RFC822.SIZE': Item.Size };

export async function writeRecordsFetch(out: ResponseWriter, selected: SelectedMailbox, request: FetchRequest, uids: readonly number[]): Promise<FetchOutcome> {
  const names = request.items.map((i) => (i.kind === 'simple' ? i.name : ''));
  const viewAnswers = names.every((n) => VIEW_ITEMS.has(n));
  const lines = new RecordLines(names, request.changedSince, uids.length);
  let missing = 0;
  for (let b = 0, end = 0; b < uids.length; b = end) {
    end = Math.min(uids.length, b + (b === 0 ? FIRST_BATCH : BATCH));
    const batch = uids.slice(b, end);
    const found = await selected.handle.records(batch);
    const absent = found.uids.length < batch.length ? absentUids(batch, found.uids) : [];
    const shown = lines.write(found, selected, absent);
    // Expunged by another session, not yet announced to this one: UID, FLAGS and MODSEQ are answered from
    // the session's view, as Dovecot answers from its view (imaptest's expunge script); a FETCH of
    // anything else of it is left out, and the command answers NO [EXPUNGEISSUED].
    let text = '';
    for (const uid of absent) {
      const line = viewAnswers ? fromView(selected, request, names, uid) : undefined;
      if (line === undefined) missing++;
      else text += line;
    }
    if (shown.length > 0) {
      selected.recordColumns(found, shown);
      // A keyword another session made is announced before a FETCH shows it, as writer.ts does (Dovecot
      // too); each distinct flag set (the store shares one array per set) is looked at once.
      const keywords = keywordsShown(found, shown);
      if (keywords.length > 0 && selected.learnKeywords(keywords)) {
        out.untagged(selected.flagsResponse());
        if (!selected.readOnly) out.status('*', 'OK', 'Flags permitted.', selected.permanentFlags());
      }
    }
    for (const chunk of lines.take()) out.raw(chunk);
    if (text !== '') out.raw(Buffer.from(text, 'utf8'));
    await out.drained();
    // a turn for the other sessions between batches
    if (end < uids.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { missing };
}

/**
 * One FETCH's response lines, a batch at a time. Kept out of the async command on purpose: V8 does not
 * optimise a loop inside an async function while it runs (no on-stack replacement there), so the first
 * FETCH of a mailbox would write all its lines in the interpreter; a plain method is optimised within the
 * first batches.
 */
class RecordLines {
  private readonly items: readonly Item[];
  private readonly starts: readonly Buffer[];
  private readonly flagsAsked: boolean;
  /** The most bytes a line takes besides its flag list. */
  private readonly lineMax: number;
  private readonly out: ByteChunks;
  /** The view position after the last message written (sequence numbers are found from there). */
  private pos = 0;

  constructor(
    names: readonly string[],
    private readonly changedSince: number | undefined,
    messages: number,
  ) {
    this.items = names.map((n) => ITEM_OF[n]!);
    this.starts = names.map((n, k) => ITEM_START.get(n)![k === 0 ? 0 : 1]);
    this.flagsAsked = names.includes('FLAGS');
    this.lineMax = LINE_START.length + FETCH_OPEN.length + LINE_END.length + (names.length + 1) * DECIMAL_MAX + this.starts.reduce((n, b) => n + b.length, 0) + MODSEQ_END.length;
    // a first chunk for a few messages' lines (and a flag list each) when the FETCH is small
    this.out = new ByteChunks(undefined, Math.min(CHUNK_BYTES, messages * (this.lineMax + 64)));
  }

  /**
   * Writes the lines of `found`'s messages still in the view; those expunged but not yet announced go to
   * `absent`. The positions in `found` of the messages whose FLAGS were written.
   */
  write(found: RecordColumns, selected: SelectedMailbox, absent: number[]): number[] {
    const shown: number[] = [];
    const n = found.uids.length;
    for (let i = this.run(found, selected, absent, shown, 0); i < n; i = this.run(found, selected, absent, shown, i)) {
      // what run() leaves to here, seldom: a flag list not encoded yet, or a full chunk
      const flags = this.flagsAsked ? flagsBytes(found.flags[i]!, selected.hasRecent && selected.isRecent(found.uids[i]!)) : NO_FLAGS;
      this.out.room(this.lineMax + flags.length);
    }
    return shown;
  }

  /**
   * The loop of write(), from `from`: the index of the message it stopped at (n when done). It stops
   * before a message whose flag list has no bytes yet, or that does not fit in the chunk, and leaves those
   * to write(): so its optimised code holds no path that runs only now and then (V8 throws away optimised
   * code that reaches a path it never saw run, and compiling this loop again costs more than the loop).
   */
  private run(found: RecordColumns, selected: SelectedMailbox, absent: number[], shown: number[], from: number): number {
    const { items, starts, out, changedSince, lineMax, flagsAsked } = this;
    const view = selected.allUids();
    const pending = selected.hasPendingExpunges;
    const anyRecent = selected.hasRecent;
    const n = found.uids.length;
    const buf = out.buf;
    let at = out.at;
    let pos = this.pos;
    // the last flag set written and its bytes: neighbours mostly share one
    let lastFlags: readonly Flag[] | undefined;
    let lastRecent = false;
    let flagBytes: Buffer = NO_FLAGS;
    let i = from;
    for (; i < n; i++) {
      const uid = found.uids[i]!;
      if (pending && selected.isExpungePending(uid)) {
        absent.push(uid);
        continue;
      }
      if (changedSince !== undefined && found.modseqs[i]! <= changedSince) continue;
      // Both ascending: the sequence number is found from where the last one was.
      if (view[pos] !== uid) pos = lowerBound(view, uid, view[pos] !== undefined && view[pos]! <= uid ? pos : 0);
      if (view[pos] !== uid) continue;
      if (flagsAsked) {
        const flags = found.flags[i]!;
        const recent = anyRecent && selected.isRecent(uid);
        if (flags !== lastFlags || recent !== lastRecent) {
          const bytes = shownBytes.get(flags)?.[recent ? 1 : 0];
          if (bytes === undefined) break;
          lastFlags = flags;
          lastRecent = recent;
          flagBytes = bytes;
        }
      }
      if (at + lineMax + flagBytes.length > buf.length) break;
      if (flagsAsked) shown.push(i);
      at = putBytes(buf, at, LINE_START);
      at = putDecimal(buf, at, ++pos);
      at = putBytes(buf, at, FETCH_OPEN);
      for (let k = 0; k < items.length; k++) {
        at = putBytes(buf, at, starts[k]!);
        switch (items[k]) {
          case Item.Uid:
            at = putDecimal(buf, at, uid);
            break;
          case Item.Flags:
            at = putBytes(buf, at, flagBytes);
            break;
          case Item.Modseq:
            at = putDecimal(buf, at, found.modseqs[i]!);
            at = putBytes(buf, at, MODSEQ_END);
            break;
          case Item.Size:
            at = putDecimal(buf, at, found.vsizes[i]!);
            break;
        }
      }
      at = putBytes(buf, at, LINE_END);
    }
    out.at = at;
    this.pos = pos;
    return i;
  }

  /** The bytes written since the last take. */
  take(): Buffer[] {
    return this.out.take();
  }
}

/** The keywords among the flags of the messages at `positions`, each distinct flag set looked at once. */
function keywordsShown(found: RecordColumns, positions: readonly number[]): Flag[] {
  const keywords: Flag[] = [];
  const seen = new Set<readonly Flag[]>();
  let last: readonly Flag[] | undefined;
  for (const i of positions) {
    const flags = found.flags[i]!;
    if (flags === last) continue;
    last = flags;
    if (seen.has(flags)) continue;
    seen.add(flags);
    for (const f of flags) if (!f.startsWith('\\')) keywords.push(f);
  }
  return keywords;
}

/** The UIDs of `batch` that `found` (the same UIDs, in the same order, some left out) lacks. */
function absentUids(batch: readonly number[], found: readonly number[]): number[] {
  const have = new Set(found);
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
