/**
 * FETCH's output: one `* n FETCH (...)` per message, items in the order items.ts decided, written in
 * batches of messages (one details/meta/setFlags call per batch, one response queued per message on the
 * wire's batching ResponseWriter, a wait for the socket only between batches). Section bytes come from the
 * message's stored bytes through the MIME tree's byte ranges (fetch/section.ts), converted LF → CRLF: a
 * small message is read whole; a large one only for the ranges asked, and a large range is a streamed
 * literal (MessageContent.read(start, end) through CrlfStream), so BODY[] of a 50 MiB message is never
 * in memory and BODY[HEADER] of it reads only the header once its structure is cached.
 *
 * ENVELOPE, BODY and BODYSTRUCTURE are copied from their cached finished text (fetch/text-cache.ts), as
 * Dovecot copies them from its cache file. A request without sections is answered as text: a batch's
 * responses are one string and one write. A request of only those items (and UID) needs nothing else from
 * the store: the texts, read in one range scan, answer alone (writeTextsOnly).
 *
 * The implicit \Seen (RFC 3501 §6.4.5): BODY[...] (not .PEEK), RFC822 and RFC822.TEXT set \Seen on a
 * read-write mailbox, once per batch in one store call; as Dovecot does, the response then carries FLAGS
 * (after the small items) when the flags changed and FLAGS was not asked for. The session's view records
 * the flags sent, so its update after the command does not repeat them.
 */
import { pipeline } from 'node:stream';
import { CrlfConverter, CrlfStream } from '../../mail/mime/line-ends.js';
import type { MimePart } from '../../mail/mime/structure.js';
import type { Flag, Mailbox, MessageContent, MessageDetails, MessageRecord } from '../../store/mailbox/mailbox-store.js';
import type { ResponseWriter } from '../command.js';
import { list, literal, raw, streamed, type ImapValue } from '../wire/encoder.js';
import type { SelectedMailbox } from '../selected.js';
import { formatDateTime } from '../wire/datetime.js';
import type { FetchItem, FetchRequest } from './items.js';
import { saveFetchTexts } from './save-texts.js';
import { filterHeaderFields, locateSection, partialSlip } from './section.js';
import { loadStructures } from './structure-cache.js';
import { loadFetchTexts, type FetchTexts } from './text-cache.js';

/** Messages per batch: one store round trip and one socket wait each. */
const BATCH = 256;
/** Messages up to this size are read whole; larger ones by the ranges asked. */
const READ_WHOLE = 256 * 1024;

/**
 * A streamed literal failed part-way (the store's stream broke, or gave another size than announced): the
 * client has a literal of the wrong length, so the connection cannot go on (the command ends the session).
 */
export class BrokenLiteral extends Error {
  constructor(
    readonly uid: number,
    readonly reason: unknown,
  ) {
    super(`streaming message UID ${uid} failed: ${(reason as Error)?.message ?? String(reason)}`);
    this.name = 'BrokenLiteral';
  }
}

export interface FetchOutcome {
  /** some messages of the set were expunged meanwhile and could not be sent (NO [EXPUNGEISSUED]) */
  readonly missing: number;
}

const SYSTEM_ORDER = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

/**
 * FLAGS as Dovecot lists them: the system flags in its fixed order, then \Recent, then the keywords as
 * stored — so the differential test compares whole lines.
 */
export function flagsValue(flags: readonly Flag[], recent: boolean): string {
  // The store shares one array per distinct flag set: each is written out once per FETCH of the mailbox.
  const memo = recent ? undefined : shownFlags.get(flags);
  if (memo !== undefined) return memo;
  const out: string[] = [];
  for (const f of SYSTEM_ORDER) if (flags.includes(f)) out.push(f);
  if (recent) out.push('\\Recent');
  for (const f of flags) if (!f.startsWith('\\')) out.push(f);
  const shown = `(${out.join(' ')})`;
  if (!recent) shownFlags.set(flags, shown);
  return shown;
}

const shownFlags = new WeakMap<readonly Flag[], string>();

/** The stored bytes of one message: read whole when small, else by range (streamed when large). */
class Source {
  private constructor(
    private readonly content: MessageContent | undefined,
    private readonly whole: Buffer | undefined,
  ) {}

  /** Undefined when the message is gone by now (expunged by another session or process since `details`). */
  static async open(handle: Mailbox, uid: number, whole: Buffer | undefined): Promise<Source | undefined> {
    if (whole !== undefined) return new Source(undefined, whole);
    const content = await handle.openContent(uid);
    if (content === undefined) return undefined;
    if (content.size <= READ_WHOLE) {
      try {
        return new Source(undefined, await content.readAll());
      } finally {
        await content.close();
      }
    }
    return new Source(content, undefined);
  }

  get size(): number {
    return this.whole?.length ?? this.content!.size;
  }

  /** Whether the stored byte before `start` is CR (a LF at `start` is then not bare). */
  private async afterCr(start: number): Promise<boolean> {
    if (start === 0) return false;
    if (this.whole !== undefined) return this.whole[start - 1] === 0x0d;
    for await (const chunk of this.content!.read(start - 1, start)) return (chunk as Buffer)[0] === 0x0d;
    return false;
  }

  /** Stored bytes [start, end) in memory (headers: small). */
  async raw(start: number, end: number): Promise<Buffer> {
    if (this.whole !== undefined) return this.whole.subarray(start, end);
    const chunks: Buffer[] = [];
    for await (const chunk of this.content!.read(start, end)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /**
   * Stored [start, end) as CRLF cut to [skip, skip + length), `size` octets: a literal in memory, or
   * streamed from the store when the message was not read whole.
   */
  /**
   * Dovecot's one-byte slip for a partial offset landing just after a lone stored CR (section.ts,
   * partialSlip): 1 or 0 more octets to skip. A streamed message is scanned up to the offset, not held.
   */
  async slip(start: number, end: number, vsize: number, offset: number): Promise<number> {
    if (offset === 0 || vsize === end - start) return 0;
    if (this.whole !== undefined) return partialSlip(this.whole, start, end, vsize, offset);
    let v = 0;
    let prev = (await this.afterCr(start)) ? 0x0d : -1;
    let pendingCr = false;
    let pos = start;
    for await (const data of this.content!.read(start, Math.min(end + 1, this.content!.size))) {
      const chunk = data as Buffer;
      for (let i = 0; i < chunk.length; i++, pos++) {
        const c = chunk[i]!;
        if (pendingCr) return c === 0x0a ? 0 : 1;
        if (pos >= end) return 0;
        v += c === 0x0a && prev !== 0x0d ? 2 : 1;
        prev = c;
        if (v >= offset) {
          if (v !== offset || c !== 0x0d) return 0;
          pendingCr = true;
        }
      }
    }
    return pendingCr ? 1 : 0;
  }

  async crlf(start: number, end: number, skip: number, length: number, size: number): Promise<ImapValue> {
    const options = { skip, length, nulTo80: true, afterCr: await this.afterCr(start) };
    if (this.whole === undefined) {
      // pipeline, not pipe: a failing read must fail the converted stream too (the writer then gives up)
      const converted = pipeline(this.content!.read(start, end), new CrlfStream(options), () => undefined);
      return streamed(size, converted);
    }
    const pieces = new CrlfConverter(options).push(this.whole.subarray(start, end));
    // two pieces per bare LF: one buffer, not thousands of writes
    return literal(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces));
  }

  close(): Promise<void> {
    return this.content?.close() ?? Promise.resolve();
  }
}

const EMPTY = literal(Buffer.alloc(0));

/** The value of one section item: a literal (in memory or streamed). */
async function sectionValue(item: Extract<FetchItem, { kind: 'section' }>, root: MimePart | undefined, source: Source, vsize: number): Promise<ImapValue> {
  const offset = item.partial?.offset ?? 0;
  const length = item.partial?.length ?? Number.POSITIVE_INFINITY;
  if (root === undefined) {
    // the whole message (BODY[], RFC822): no structure needed
    if (offset >= vsize) return EMPTY;
    const slip = await source.slip(0, source.size, vsize, offset);
    return source.crlf(0, source.size, offset + slip, length, Math.max(0, Math.min(length, vsize - offset - slip)));
  }
  const src = locateSection(root, item.spec);
  if (src.kind === 'empty') return EMPTY;
  if (src.kind === 'header-fields') {
    const bytes = await source.raw(src.start, src.end);
    const all = filterHeaderFields(bytes, 0, bytes.length, src.fields, src.exclude, src.root);
    return literal(all.subarray(Math.min(offset, all.length), Math.min(offset + length, all.length)));
  }
  if (offset >= src.vsize) return EMPTY;
  const slip = await source.slip(src.start, src.end, src.vsize, offset);
  return source.crlf(src.start, src.end, offset + slip, length, Math.max(0, Math.min(length, src.vsize - offset - slip)));
}

/**
 * Writes the FETCH responses for `uids` (ascending, in the client's view). Returns how many could not be
 * sent because they were expunged.
 */
export async function writeFetch(
  out: ResponseWriter,
  selected: SelectedMailbox,
  request: FetchRequest,
  uids: readonly number[],
  afterReply?: (task: () => Promise<void>) => void,
): Promise<FetchOutcome> {
  // The texts made here are saved after the reply (with `afterReply`; in chunks, save-texts.ts), not per
  // batch before it: the client need not wait for the cache of what it already has.
  const unsaved = afterReply === undefined ? undefined : new Map<number, string>();
  try {
    return request.needsDetails ? await writeDetailed(out, selected, request, uids, unsaved) : await writeTextsOnly(out, selected, request, uids, unsaved);
  } finally {
    if (unsaved !== undefined && unsaved.size > 0) afterReply!(() => saveFetchTexts(selected.handle, unsaved));
  }
}

async function writeDetailed(out: ResponseWriter, selected: SelectedMailbox, request: FetchRequest, uids: readonly number[], unsaved: Map<number, string> | undefined): Promise<FetchOutcome> {
  const handle = selected.handle;
  let missing = 0;
  const flagsAsked = request.items.some((i) => i.kind === 'simple' && i.name === 'FLAGS');
  const bufferedCount = request.items.filter((i) => i.kind === 'simple' && (i.name === 'UID' || i.name === 'FLAGS' || i.name === 'INTERNALDATE' || i.name === 'RFC822.SIZE' || i.name === 'MODSEQ')).length;
  const markSeen = request.setsSeen && !selected.readOnly;
  for (let b = 0; b < uids.length; b += BATCH) {
    const batch = uids.slice(b, b + BATCH);
    const found = await handle.details(batch);
    missing += batch.length - found.length;
    let messages: MessageDetails[] = found.filter((d) => !selected.isExpungePending(d.uid));
    missing += found.length - messages.length;
    if (request.changedSince !== undefined) messages = messages.filter((d) => d.modseq > request.changedSince!);
    if (messages.length === 0) continue;
    const flags = new Map<number, readonly Flag[]>();
    const modseqs = new Map<number, number>();
    for (const d of messages) {
      flags.set(d.uid, d.flags);
      modseqs.set(d.uid, d.modseq);
    }
    const seenChanged = new Set<number>();
    if (markSeen) {
      const unseen = messages.filter((d) => !d.flags.includes('\\Seen')).map((d) => d.uid);
      if (unseen.length > 0) {
        const { updated } = await handle.setFlags(unseen, { mode: 'add', flags: ['\\Seen'] });
        for (const r of updated) {
          flags.set(r.uid, r.flags);
          modseqs.set(r.uid, r.modseq);
          seenChanged.add(r.uid);
        }
        selected.recordFlags(updated);
      }
    }
    if (flagsAsked) selected.recordFlags(messages.map((d): MessageRecord => ({ uid: d.uid, flags: flags.get(d.uid)!, modseq: modseqs.get(d.uid)!, vsize: d.vsize })));
    // A keyword another session made is announced (FLAGS, PERMANENTFLAGS) before a FETCH shows it, as a
    // STORE does and Dovecot does (imaptest's state tracking reports a keyword used before FLAGS named it).
    if ((flagsAsked || seenChanged.size > 0) && selected.learnKeywords(messages.flatMap((d) => flags.get(d.uid)!))) {
      out.untagged(selected.flagsResponse());
      if (!selected.readOnly) out.status('*', 'OK', 'Flags permitted.', selected.permanentFlags());
    }
    const present = messages.map((d) => d.uid);
    const structures = request.needsTree ? await loadStructures(handle, present) : undefined;
    const texts = request.needsTexts ? await loadFetchTexts(handle, present, structures?.parts, unsaved) : undefined;
    let lines = '';
    for (const d of messages) {
      const uid = d.uid;
      const seq = selected.seqOf(uid);
      if (seq === undefined) continue;
      const root = structures?.parts.get(uid);
      const text = texts?.get(uid);
      if ((request.needsTree && root === undefined) || (request.needsTexts && text === undefined)) {
        missing++;
        continue;
      }
      const shown = flagsValue(flags.get(uid)!, selected.isRecent(uid));
      if (!request.needsContent) {
        // no literals: the response is text, queued with the batch's others as one string
        let line = `* ${seq} FETCH (`;
        for (let k = 0; k < request.items.length; k++) {
          const item = request.items[k] as Extract<FetchItem, { kind: 'simple' }>;
          if (k > 0) line += ' ';
          switch (item.name) {
            case 'FLAGS':
              line += `FLAGS ${asBytes(shown)}`;
              break;
            case 'INTERNALDATE':
              line += `INTERNALDATE "${formatDateTime(d.internalDate)}"`;
              break;
            case 'RFC822.SIZE':
              line += `RFC822.SIZE ${d.vsize}`;
              break;
            case 'MODSEQ':
              line += `MODSEQ (${modseqs.get(uid)!})`;
              break;
            default:
              line += textItem(item.name, uid, text!);
          }
        }
        lines += `${line})\r\n`;
        continue;
      }
      const items: ImapValue[] = [];
      let streams = false;
      let source: Source | undefined;
      let gone = false;
      try {
        for (let k = 0; k < request.items.length; k++) {
          if (k === bufferedCount && seenChanged.has(uid) && !flagsAsked) items.push(raw(`FLAGS ${shown}`));
          const item = request.items[k]!;
          if (item.kind === 'simple') {
            switch (item.name) {
              case 'UID':
                items.push(raw(`UID ${uid}`));
                break;
              case 'FLAGS':
                items.push(raw(`FLAGS ${shown}`));
                break;
              case 'INTERNALDATE':
                items.push(raw(`INTERNALDATE "${formatDateTime(d.internalDate)}"`));
                break;
              case 'RFC822.SIZE':
                items.push(raw(`RFC822.SIZE ${d.vsize}`));
                break;
              case 'MODSEQ':
                items.push(raw(`MODSEQ (${modseqs.get(uid)!})`));
                break;
              case 'ENVELOPE':
              case 'BODY':
              case 'BODYSTRUCTURE':
                items.push(raw(Buffer.from(textItem(item.name, uid, text!), 'latin1')));
                break;
            }
            continue;
          }
          source ??= await Source.open(handle, uid, structures?.bytes.get(uid));
          // Gone meanwhile: left out like any expunged message (NO [EXPUNGEISSUED]), never sent as empty
          // (imaptest's stress run saw empty HEADER.FIELDS for a message that had them).
          if (source === undefined) {
            gone = true;
            break;
          }
          const whole = item.spec.part.length === 0 && item.spec.text === 'full';
          const value = await sectionValue(item, whole ? undefined : root, source, d.vsize);
          if (value.kind === 'stream') streams = true;
          items.push(raw(item.partial !== undefined ? `${item.label}<${item.partial.offset}>` : item.label), value);
        }
        if (gone) {
          missing++;
          continue;
        }
        if (bufferedCount === request.items.length && seenChanged.has(uid) && !flagsAsked) items.push(raw(`FLAGS ${shown}`));
        const values = [raw(`${seq} FETCH`), list(items)];
        if (!streams) out.untagged(values);
        else {
          try {
            await out.send('*', values);
          } catch (err) {
            throw new BrokenLiteral(uid, err);
          }
        }
        if (request.seenModseq === true && seenChanged.has(uid)) out.untagged([raw(`${seq} FETCH (UID ${uid} MODSEQ (${modseqs.get(uid)!}))`)]);
      } finally {
        await source?.close();
      }
    }
    if (lines !== '') out.raw(Buffer.from(lines, 'latin1'));
    await out.drained();
    // a turn for the other sessions between batches: FETCH 1:* of 100,000 messages must not hold the loop
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { missing };
}

/** A text as the byte string of its UTF-8 form (a keyword may hold non-ASCII characters; most do not). */
function asBytes(s: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s) ? s : Buffer.from(s, 'utf8').toString('latin1');
}

/** `NAME value` of a structure item (or UID) from the cached texts, as a byte string. */
function textItem(name: TextItemName, uid: number, text: FetchTexts): string {
  return `${name} ${textValue(name, uid, text)}`;
}

/** An item's value alone (the UID, or the cached text). */
function textValue(name: TextItemName, uid: number, text: FetchTexts): string {
  switch (name) {
    case 'UID':
      return String(uid);
    case 'ENVELOPE':
      return text.envelope;
    case 'BODY':
      return text.body;
    case 'BODYSTRUCTURE':
      return text.bodystructure;
  }
}

type TextItemName = 'UID' | 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE';

/**
 * FETCH of only UID, ENVELOPE, BODY and BODYSTRUCTURE (a client's message list): the cached texts answer
 * alone, without the store's per-message details; a message whose texts cannot be had (expunged meanwhile)
 * is missing, as when its details are gone. A batch's responses are one string, one buffer, one write.
 */
async function writeTextsOnly(out: ResponseWriter, selected: SelectedMailbox, request: FetchRequest, uids: readonly number[], unsaved: Map<number, string> | undefined): Promise<FetchOutcome> {
  const names = request.items.map((i) => (i.kind === 'simple' ? i.name : '')) as TextItemName[];
  let missing = 0;
  for (let b = 0; b < uids.length; b += BATCH) {
    const batch = uids.slice(b, b + BATCH).filter((uid) => {
      if (!selected.isExpungePending(uid)) return true;
      missing++;
      return false;
    });
    const texts = batch.length === 0 ? new Map<number, FetchTexts>() : await loadFetchTexts(selected.handle, batch, undefined, unsaved);
    // the pieces copied once into one buffer: joined first, the string of a thousand cached texts had to be
    // flattened before its bytes could be taken, a quarter of this FETCH's time
    const pieces: string[] = [];
    let size = 0;
    for (const uid of batch) {
      const text = texts.get(uid);
      if (text === undefined) {
        missing++;
        continue;
      }
      const seq = selected.seqOf(uid);
      if (seq === undefined) continue;
      const head = `* ${seq} FETCH (`;
      pieces.push(head);
      size += head.length + 3;
      for (let k = 0; k < names.length; k++) {
        // the label and the cached text as two pieces: one string made of both would be flattened again
        const name = names[k]!;
        const label = `${k === 0 ? '' : ' '}${name} `;
        const value = textValue(name, uid, text);
        pieces.push(label, value);
        size += label.length + value.length;
      }
      pieces.push(')\r\n');
    }
    if (pieces.length > 0) {
      const bytes = Buffer.allocUnsafe(size);
      let at = 0;
      for (let i = 0; i < pieces.length; i++) at += bytes.write(pieces[i]!, at, 'latin1');
      out.raw(at === size ? bytes : bytes.subarray(0, at));
    }
    await out.drained();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { missing };
}
