/**
 * FETCH's arguments (RFC 3501 §6.4.5, RFC 7162 §3.1.4): the fetch-att list (or the macros ALL, FAST,
 * FULL), each item parsed to what the writer needs, and the CHANGEDSINCE modifier. Also what a request
 * implies: which items set \Seen (BODY[...] and RFC822/RFC822.TEXT, not .PEEK nor RFC822.HEADER), and
 * whether the parsed structure or the stored bytes are needed at all.
 *
 * The order of the items in a response follows Dovecot (which clients have been tested against): UID
 * first in UID FETCH, then the "buffered" small items (UID, FLAGS, INTERNALDATE, RFC822.SIZE, MODSEQ) in the
 * order asked, then the others (ENVELOPE, BODY, BODYSTRUCTURE, the sections, RFC822*) in the order asked;
 * an item asked twice is sent once. BINARY (RFC 3516) is not offered.
 */
import type { ArgCursor } from '../command.js';
import { ParseError } from '../wire/frame.js';
import type { SectionPartial, SectionSpec, SectionText } from './section.js';

export type SimpleItem = 'UID' | 'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'MODSEQ' | 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE';

export type FetchItem =
  | { readonly kind: 'simple'; readonly name: SimpleItem }
  /** BODY[section]<partial>, BODY.PEEK[...], and RFC822, RFC822.HEADER, RFC822.TEXT (their own names). */
  | {
      readonly kind: 'section';
      /** what the response calls it, before any `<offset>`: `BODY[1.HEADER.FIELDS (FROM)]`, `RFC822` */
      readonly label: string;
      readonly spec: SectionSpec;
      readonly partial?: SectionPartial;
      /** sets \Seen on a read-write mailbox */
      readonly seen: boolean;
    };

export interface FetchRequest {
  /** in response order (see the file comment) */
  readonly items: readonly FetchItem[];
  /** CHANGEDSINCE (RFC 7162): only messages with a higher MODSEQ, and MODSEQ sent */
  readonly changedSince?: number;
  /** VANISHED (RFC 7162 §3.2.6, UID FETCH with CHANGEDSINCE only): VANISHED (EARLIER) for the set's gone UIDs */
  readonly vanished?: boolean;
  /**
   * QRESYNC is on (set by the FETCH command, not parsed): a message this FETCH marks \Seen is followed by
   * `* n FETCH (UID u MODSEQ (m))`, so the client learns its new MODSEQ, as Dovecot 2.3 sends it
   */
  readonly seenModseq?: boolean;
  /** some item sets \Seen */
  readonly setsSeen: boolean;
  /** the MIME tree is needed (ENVELOPE, BODY[STRUCTURE], sections other than the whole message) */
  readonly needsStructure: boolean;
  /** ENVELOPE, BODY or BODYSTRUCTURE is asked: their cached texts are needed (fetch/text-cache.ts) */
  readonly needsTexts: boolean;
  /** a section other than the whole message is asked: the tree itself is needed (its byte ranges) */
  readonly needsTree: boolean;
  /**
   * the store's per-message details are needed (flags, dates, sizes, MODSEQ, the \Seen update, sections);
   * without them (only UID, ENVELOPE, BODY, BODYSTRUCTURE) the cached texts alone answer
   */
  readonly needsDetails: boolean;
  /** the stored bytes are needed (any section) */
  readonly needsContent: boolean;
  /** CONDSTORE is used by this command (MODSEQ or CHANGEDSINCE): it enables CONDSTORE (RFC 7162 §3.1) */
  readonly condstore: boolean;
}

const BUFFERED: ReadonlySet<string> = new Set(['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'MODSEQ']);

const MACROS: Readonly<Record<string, readonly SimpleItem[]>> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

const SIMPLE: ReadonlySet<string> = new Set(['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'MODSEQ', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE']);

const TEXT_OF: Readonly<Record<string, SectionText>> = {
  HEADER: 'header',
  'HEADER.FIELDS': 'header.fields',
  'HEADER.FIELDS.NOT': 'header.fields.not',
  TEXT: 'text',
  MIME: 'mime',
};

/** BODY[...] / BODY.PEEK[...] after the item name: the section, partial and label. */
function sectionItem(args: ArgCursor, peek: boolean): FetchItem {
  const s = args.section();
  const spec: SectionSpec = {
    part: s.part,
    text: s.text === undefined ? 'full' : TEXT_OF[s.text]!,
    ...(s.fields !== undefined ? { fields: s.fields } : {}),
  };
  let inner = s.part.join('.');
  if (s.text !== undefined) inner += (inner === '' ? '' : '.') + s.text;
  // Dovecot names the fields back in upper case: BODY[HEADER.FIELDS (FROM SUBJECT)].
  if (s.fields !== undefined) inner += ` (${s.fields.map((f) => f.toUpperCase()).join(' ')})`;
  const p = args.partial();
  const partial = p === undefined ? undefined : { offset: p.start, length: p.length };
  return { kind: 'section', label: `BODY[${inner}]`, spec, ...(partial !== undefined ? { partial } : {}), seen: !peek };
}

/** One fetch-att. */
function fetchAtt(args: ArgCursor): FetchItem {
  const at = args.position;
  const name = args.itemName('a FETCH data item').toUpperCase();
  if (name === 'BODY' || name === 'BODY.PEEK') {
    if (args.peek() === 0x5b) return sectionItem(args, name === 'BODY.PEEK');
    if (name === 'BODY') return { kind: 'simple', name: 'BODY' };
  } else if (SIMPLE.has(name)) {
    return { kind: 'simple', name: name as SimpleItem };
  } else if (name === 'RFC822') {
    return { kind: 'section', label: 'RFC822', spec: { part: [], text: 'full' }, seen: true };
  } else if (name === 'RFC822.HEADER') {
    return { kind: 'section', label: 'RFC822.HEADER', spec: { part: [], text: 'header' }, seen: false };
  } else if (name === 'RFC822.TEXT') {
    return { kind: 'section', label: 'RFC822.TEXT', spec: { part: [], text: 'text' }, seen: true };
  }
  throw new ParseError(`Unknown FETCH data item ${name} at column ${at}`, at);
}

function key(item: FetchItem): string {
  return item.kind === 'simple' ? item.name : `${item.label}<${item.partial?.offset ?? ''}.${item.partial?.length ?? ''}>${item.seen ? '' : 'peek'}`;
}

/**
 * The arguments after the sequence set: `SP (macro / fetch-att / "(" fetch-att *(SP fetch-att) ")")`
 * then optionally `SP "(" CHANGEDSINCE SP mod-sequence ")"`. `uid`: UID FETCH (UID always sent, first).
 */
export function parseFetchItems(args: ArgCursor, uid: boolean): FetchRequest {
  args.sp();
  const asked: FetchItem[] = [];
  if (args.peek() === 0x28) {
    asked.push(...args.list((c) => fetchAtt(c), { allowEmpty: false, what: 'a FETCH data item' }));
  } else {
    const mark = args.save();
    const word = args.itemName('a FETCH data item').toUpperCase();
    const macro = MACROS[word];
    if (macro !== undefined) asked.push(...macro.map((name): FetchItem => ({ kind: 'simple', name })));
    else {
      args.restore(mark);
      asked.push(fetchAtt(args));
    }
  }
  let changedSince: number | undefined;
  let vanished = false;
  if (args.peek() === 0x20) {
    args.sp();
    const listAt = args.position;
    args.list(
      (c) => {
        const at = c.position;
        const m = c.atom('a FETCH modifier').toUpperCase();
        // VANISHED is UID FETCH's only (RFC 7162 §3.2.6); FETCH calls it unknown, as Dovecot does
        if (m === 'VANISHED' && uid) vanished = true;
        else if (m === 'CHANGEDSINCE') {
          c.sp();
          changedSince = Number(c.number64('a mod-sequence'));
        } else throw new ParseError(`Unknown FETCH modifier ${m} at column ${at}`, at);
      },
      { allowEmpty: false, what: 'a FETCH modifier' },
    );
    if (vanished && changedSince === undefined) throw new ParseError(`VANISHED used without CHANGEDSINCE at column ${listAt}`, listAt);
  }
  if (uid) asked.unshift({ kind: 'simple', name: 'UID' });
  if (changedSince !== undefined && !asked.some((i) => i.kind === 'simple' && i.name === 'MODSEQ')) asked.push({ kind: 'simple', name: 'MODSEQ' });
  const seen = new Set<string>();
  const buffered: FetchItem[] = [];
  const others: FetchItem[] = [];
  for (const item of asked) {
    const k = key(item);
    if (seen.has(k)) continue;
    seen.add(k);
    (item.kind === 'simple' && BUFFERED.has(item.name) ? buffered : others).push(item);
  }
  const items = [...buffered, ...others];
  const setsSeen = items.some((i) => i.kind === 'section' && i.seen);
  const needsTexts = items.some((i) => i.kind === 'simple' && (i.name === 'ENVELOPE' || i.name === 'BODY' || i.name === 'BODYSTRUCTURE'));
  const needsTree = items.some((i) => i.kind === 'section' && !(i.spec.part.length === 0 && i.spec.text === 'full'));
  // UID alone needs them too: they tell which messages still exist, at no parsing cost
  const needsDetails = !needsTexts || changedSince !== undefined || items.some((i) => i.kind === 'section' || (i.kind === 'simple' && BUFFERED.has(i.name) && i.name !== 'UID'));
  return {
    items,
    ...(changedSince !== undefined ? { changedSince } : {}),
    ...(vanished ? { vanished } : {}),
    setsSeen,
    needsStructure: needsTexts || needsTree,
    needsTexts,
    needsTree,
    needsDetails,
    needsContent: items.some((i) => i.kind === 'section'),
    condstore: changedSince !== undefined || items.some((i) => i.kind === 'simple' && i.name === 'MODSEQ'),
  };
}
