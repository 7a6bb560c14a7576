/**
 * FETCH's output: one `* n FETCH (...)` per message, items in the order items.ts decided, written in
 * batches of messages (one details/meta/setFlags call per batch, one untaggedParts per message, a wait
 * for the socket only between batches). Section bytes come from the message's stored bytes through the
 * MIME tree's byte ranges (fetch/section.ts), converted LF → CRLF; a small message is read whole, a large
 * one only for the ranges asked (MessageContent.read(start, end)), so BODY[HEADER] of a 5 MiB message
 * does not read 5 MiB once its structure is cached.
 *
 * The implicit \Seen (RFC 3501 §6.4.5): BODY[...] (not .PEEK), RFC822 and RFC822.TEXT set \Seen on a
 * read-write mailbox, once per batch in one store call; as Dovecot does, the response then carries FLAGS
 * (after the small items) when the flags changed and FLAGS was not asked for. The session's view records
 * the flags sent, so its update after the command does not repeat them.
 */
import { CrlfConverter } from '../../mail/mime/line-ends.js';
import type { MimePart } from '../../mail/mime/structure.js';
import type { Flag, Mailbox, MessageContent, MessageDetails, MessageRecord } from '../../store/mailbox/mailbox-store.js';
import type { ResponseWriter } from '../command.js';
import type { SelectedMailbox } from '../selected.js';
import { formatDateTime } from '../wire/datetime.js';
import { bodyString, bodystructureString } from './bodystructure.js';
import { envelopeFields } from './envelope.js';
import type { FetchItem, FetchRequest } from './items.js';
import { filterHeaderFields, locateSection } from './section.js';
import { loadStructures } from './structure-cache.js';

/** Messages per batch: one store round trip and one socket wait each. */
const BATCH = 256;
/** Messages up to this size are read whole; larger ones by the ranges asked. */
const READ_WHOLE = 256 * 1024;

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
  const out: string[] = [];
  for (const f of SYSTEM_ORDER) if (flags.includes(f)) out.push(f);
  if (recent) out.push('\\Recent');
  for (const f of flags) if (!f.startsWith('\\')) out.push(f);
  return `(${out.join(' ')})`;
}

/** A byte string (one char per byte) as a part: ASCII stays a string, anything else goes as its bytes. */
function bytePart(s: string): string | Buffer {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, 'latin1');
  return s;
}

/** The stored bytes of one message, read whole or by range. */
class Source {
  private whole: Buffer | undefined;

  constructor(
    private readonly content: MessageContent | undefined,
    whole: Buffer | undefined,
  ) {
    this.whole = whole;
  }

  static async open(handle: Mailbox, uid: number, whole: Buffer | undefined): Promise<Source> {
    if (whole !== undefined) return new Source(undefined, whole);
    const content = await handle.openContent(uid);
    if (content === undefined) return new Source(undefined, Buffer.alloc(0));
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

  /** Stored bytes [start, end) and whether the byte before `start` is CR. */
  async raw(start: number, end: number): Promise<{ bytes: Buffer; prevCr: boolean }> {
    if (this.whole !== undefined) return { bytes: this.whole.subarray(start, end), prevCr: start > 0 && this.whole[start - 1] === 0x0d };
    const from = start > 0 ? start - 1 : 0;
    const chunks: Buffer[] = [];
    for await (const chunk of this.content!.read(from, end)) chunks.push(chunk as Buffer);
    const all = Buffer.concat(chunks);
    return start > 0 ? { bytes: all.subarray(1), prevCr: all[0] === 0x0d } : { bytes: all, prevCr: false };
  }

  /** Stored [start, end) as CRLF, cut to the partial. */
  async crlf(start: number, end: number, skip: number, length: number): Promise<Buffer[]> {
    const { bytes, prevCr } = await this.raw(start, end);
    // the converter gives two pieces per bare LF: one buffer, not thousands of socket writes
    const pieces = new CrlfConverter({ skip, length, nulTo80: true }, prevCr).push(bytes);
    return pieces.length <= 1 ? pieces : [Buffer.concat(pieces)];
  }

  close(): Promise<void> {
    return this.content?.close() ?? Promise.resolve();
  }
}

/** The value of one section item: the bytes (as pieces) and their total length. */
async function sectionValue(item: Extract<FetchItem, { kind: 'section' }>, root: MimePart | undefined, source: Source, vsize: number): Promise<Buffer[]> {
  const offset = item.partial?.offset ?? 0;
  const length = item.partial?.length ?? Number.POSITIVE_INFINITY;
  if (root === undefined) {
    // the whole message (BODY[], RFC822): no structure needed
    if (offset >= vsize) return [];
    return source.crlf(0, source.size, offset, length);
  }
  const src = locateSection(root, item.spec);
  if (src.kind === 'empty') return [];
  if (src.kind === 'header-fields') {
    const { bytes } = await source.raw(src.start, src.end);
    const all = filterHeaderFields(bytes, 0, bytes.length, src.fields, src.exclude, src.root);
    return [all.subarray(Math.min(offset, all.length), Math.min(offset + length, all.length))];
  }
  if (offset >= src.vsize) return [];
  return source.crlf(src.start, src.end, offset, length);
}

/**
 * Writes the FETCH responses for `uids` (ascending, in the client's view). Returns how many could not be
 * sent because they were expunged.
 */
export async function writeFetch(out: ResponseWriter, selected: SelectedMailbox, request: FetchRequest, uids: readonly number[]): Promise<FetchOutcome> {
  const handle = selected.handle;
  let missing = 0;
  const flagsAsked = request.items.some((i) => i.kind === 'simple' && i.name === 'FLAGS');
  const bufferedCount = request.items.filter((i) => i.kind === 'simple' && (i.name === 'UID' || i.name === 'FLAGS' || i.name === 'INTERNALDATE' || i.name === 'RFC822.SIZE' || i.name === 'MODSEQ')).length;
  const markSeen = request.setsSeen && !selected.readOnly;
  for (let b = 0; b < uids.length; b += BATCH) {
    const batch = uids.slice(b, b + BATCH);
    const list = await handle.details(batch);
    missing += batch.length - list.length;
    let messages: MessageDetails[] = list.filter((d) => !selected.isExpungePending(d.uid));
    missing += list.length - messages.length;
    if (request.changedSince !== undefined) messages = messages.filter((d) => d.modseq > request.changedSince!);
    if (messages.length === 0) continue;
    const flags = new Map<number, readonly Flag[]>();
    for (const d of messages) flags.set(d.uid, d.flags);
    const seenChanged = new Set<number>();
    if (markSeen) {
      const unseen = messages.filter((d) => !d.flags.includes('\\Seen')).map((d) => d.uid);
      if (unseen.length > 0) {
        const { updated } = await handle.setFlags(unseen, { mode: 'add', flags: ['\\Seen'] });
        for (const r of updated) {
          flags.set(r.uid, r.flags);
          seenChanged.add(r.uid);
        }
        selected.recordFlags(updated);
      }
    }
    if (flagsAsked) selected.recordFlags(messages.map((d): MessageRecord => ({ uid: d.uid, flags: flags.get(d.uid)!, modseq: d.modseq, vsize: d.vsize })));
    const structures = request.needsStructure ? await loadStructures(handle, messages.map((d) => d.uid)) : undefined;
    for (const d of messages) {
      const uid = d.uid;
      const seq = selected.seqOf(uid);
      if (seq === undefined) continue;
      const root = structures?.parts.get(uid);
      if (request.needsStructure && root === undefined) {
        missing++;
        continue;
      }
      const shown = flagsValue(flags.get(uid)!, selected.isRecent(uid));
      const parts: (string | Buffer)[] = [`${seq} FETCH (`];
      let source: Source | undefined;
      try {
        let first = true;
        const sep = (): void => {
          if (!first) parts.push(' ');
          first = false;
        };
        for (let k = 0; k < request.items.length; k++) {
          if (k === bufferedCount && seenChanged.has(uid) && !flagsAsked) {
            sep();
            parts.push(`FLAGS ${shown}`);
          }
          const item = request.items[k]!;
          sep();
          if (item.kind === 'simple') {
            switch (item.name) {
              case 'UID':
                parts.push(`UID ${uid}`);
                break;
              case 'FLAGS':
                parts.push(`FLAGS ${shown}`);
                break;
              case 'INTERNALDATE':
                parts.push(`INTERNALDATE "${formatDateTime(d.internalDate)}"`);
                break;
              case 'RFC822.SIZE':
                parts.push(`RFC822.SIZE ${d.vsize}`);
                break;
              case 'MODSEQ':
                parts.push(`MODSEQ (${d.modseq})`);
                break;
              case 'ENVELOPE':
                parts.push(bytePart(`ENVELOPE (${envelopeFields(root!.envelope)})`));
                break;
              case 'BODY':
                parts.push(bytePart(`BODY ${bodyString(root!)}`));
                break;
              case 'BODYSTRUCTURE':
                parts.push(bytePart(`BODYSTRUCTURE ${bodystructureString(root!)}`));
                break;
            }
            continue;
          }
          source ??= await Source.open(handle, uid, structures?.bytes.get(uid));
          const whole = item.spec.part.length === 0 && item.spec.text === 'full';
          const value = await sectionValue(item, whole ? undefined : root, source, d.vsize);
          let n = 0;
          for (const v of value) n += v.length;
          parts.push(`${item.label}${item.partial !== undefined ? `<${item.partial.offset}>` : ''} {${n}}\r\n`, ...value);
        }
        if (bufferedCount === request.items.length && seenChanged.has(uid) && !flagsAsked) {
          sep();
          parts.push(`FLAGS ${shown}`);
        }
      } finally {
        await source?.close();
      }
      parts.push(')');
      out.untaggedParts(parts);
    }
    await out.drained();
  }
  return { missing };
}
