/**
 * SEARCH evaluation over the selected mailbox, in batches, in three tiers (three-valued logic: true, false,
 * or "needs more"): first what the store's details give (flags, sizes, dates, MODSEQ, sequence numbers and
 * UIDs) and the session's \Recent set; then, for what that leaves undecided, the cached header summary
 * (summary.ts: SUBJECT, FROM/TO/CC/BCC, SENT*); only then the message's bytes are read, its cached
 * structure loaded, its header/body text decoded and matched (and its summary saved for next time). Between
 * batches the event loop gets a turn, so a body search over a large mailbox never blocks other sessions.
 */
import type { MimePart } from '../../mail/mime/structure.js';
import type { HeaderField } from '../../mail/mime/header-block.js';
import type { MessageDetails } from '../../store/mailbox/mailbox-store.js';
import { loadStructures } from '../fetch/structure-cache.js';
import type { SelectedMailbox } from '../selected.js';
import { setMatcher, type SequenceSet } from '../wire/sequence-set.js';
import { compareDay, dayOf, internalDay } from './dates.js';
import type { SearchKey } from './parse.js';
import { decodeSummary, encodeSummary, summarize, type SearchSummary } from './summary.js';
import { addressText, bodyTexts, containsAny, fold, headerText, rootFields } from './text-match.js';

const BATCH = 256;

// A set's merged form, built once per search key rather than per message (a set of many ranges would
// otherwise cost ranges × messages).
const matchers = new WeakMap<SequenceSet, { star: number; test: (n: number) => boolean }>();
function matcherFor(set: SequenceSet, star: number): (n: number) => boolean {
  const cached = matchers.get(set);
  if (cached !== undefined && cached.star === star) return cached.test;
  const test = setMatcher(set, star);
  matchers.set(set, { star, test });
  return test;
}

interface Loaded {
  readonly stored: Buffer;
  readonly root: MimePart;
  fields?: HeaderField[];
  body?: string[];
  text?: string[];
}

interface Candidate {
  readonly d: MessageDetails;
  readonly seq: number;
  summary?: SearchSummary;
  loaded?: Loaded;
}

interface Scope {
  readonly count: number;
  readonly maxUid: number;
  readonly recent: (uid: number) => boolean;
}

function fieldsOf(l: Loaded): HeaderField[] {
  return (l.fields ??= rootFields(l.stored, l.root));
}

function headerMatch(l: Loaded, field: string, text: string, address: boolean): boolean {
  const needle = fold(text);
  for (const f of fieldsOf(l)) {
    if (f.name.toLowerCase() !== field) continue;
    if (needle === '' || (address ? addressText(f) : headerText(f)).includes(needle)) return true;
  }
  return false;
}

/** true / false, or undefined when the answer needs the message's bytes and they are not loaded. */
function evaluate(key: SearchKey, m: Candidate, scope: Scope): boolean | undefined {
  switch (key.k) {
    case 'all':
      return true;
    case 'and': {
      let result: boolean | undefined = true;
      for (const k of key.keys) {
        const r = evaluate(k, m, scope);
        if (r === false) return false;
        if (r === undefined) result = undefined;
      }
      return result;
    }
    case 'or': {
      const a = evaluate(key.a, m, scope);
      if (a === true) return true;
      const b = evaluate(key.b, m, scope);
      if (b === true) return true;
      return a === undefined || b === undefined ? undefined : false;
    }
    case 'not': {
      const r = evaluate(key.key, m, scope);
      return r === undefined ? undefined : !r;
    }
    case 'flag': {
      const lower = key.flag.toLowerCase();
      return m.d.flags.some((f) => f.toLowerCase() === lower);
    }
    case 'recent':
      return scope.recent(m.d.uid);
    case 'seq':
      return matcherFor(key.set, scope.count)(m.seq);
    case 'uid':
      return matcherFor(key.set, scope.maxUid)(m.d.uid);
    case 'size':
      return key.op === 'larger' ? m.d.vsize > key.n : m.d.vsize < key.n;
    case 'modseq':
      return m.d.modseq >= key.n;
    case 'date': {
      if (!key.sent) return compareDay(internalDay(m.d.internalDate), key.op, dayOf(key.date));
      // no (valid) Date: Dovecot takes 1970-01-01 (day 0), so SENTBEFORE matches and SENTSINCE does not
      if (m.summary === undefined) return undefined;
      return compareDay(m.summary.sentDay, key.op, dayOf(key.date));
    }
    case 'header': {
      const s = m.summary;
      if (s !== undefined && (key.address === true || key.subject === true)) {
        const needle = fold(key.text);
        if (key.subject === true) return s.subject.some((t) => t.includes(needle));
        const text = s[key.field as 'from' | 'to' | 'cc' | 'bcc'];
        return needle === '' ? text !== '' : text.includes(needle);
      }
      if (m.loaded === undefined) return undefined;
      return headerMatch(m.loaded, key.field, key.text, key.address === true);
    }
    case 'body':
      if (m.loaded === undefined) return undefined;
      return containsAny((m.loaded.body ??= bodyTexts(m.loaded.stored, m.loaded.root, false)), fold(key.text));
    case 'text': {
      if (m.loaded === undefined) return undefined;
      const l = m.loaded;
      const needle = fold(key.text);
      if (fieldsOf(l).some((f) => fold(f.name).includes(needle) || headerText(f).includes(needle))) return true;
      return containsAny((l.text ??= bodyTexts(l.stored, l.root, true)), needle);
    }
  }
}

/** Whether a key could be settled by the cached header summary (SUBJECT, FROM/TO/CC/BCC, SENT*). */
function needsSummary(key: SearchKey): boolean {
  switch (key.k) {
    case 'and':
      return key.keys.some(needsSummary);
    case 'or':
      return needsSummary(key.a) || needsSummary(key.b);
    case 'not':
      return needsSummary(key.key);
    case 'date':
      return key.sent;
    case 'header':
      return key.address === true || key.subject === true;
    default:
      return false;
  }
}

export interface SearchResult {
  /** the matching messages' UIDs, ascending */
  readonly uids: number[];
  /** the highest MODSEQ among them (0 when none) */
  readonly highestModseq: number;
}

/** The messages of the client's view that match `key`. */
export async function searchMailbox(selected: SelectedMailbox, key: SearchKey): Promise<SearchResult> {
  const handle = selected.handle;
  const all = selected.allUids();
  const scope: Scope = { count: all.length, maxUid: all.length > 0 ? all[all.length - 1]! : 0, recent: (uid) => selected.isRecent(uid) };
  const uids: number[] = [];
  let highestModseq = 0;
  for (let b = 0; b < all.length; b += BATCH) {
    const batch = all.slice(b, b + BATCH);
    const details = await handle.details(batch);
    let undecided: Candidate[] = [];
    const matched = new Set<number>();
    for (const d of details) {
      if (selected.isExpungePending(d.uid)) continue;
      const c: Candidate = { d, seq: selected.seqOf(d.uid)! };
      const r = evaluate(key, c, scope);
      if (r === true) matched.add(d.uid);
      else if (r === undefined) undecided.push(c);
    }
    if (undecided.length > 0 && needsSummary(key)) {
      // the cached header summaries first: they settle SUBJECT/FROM/TO/CC/BCC/SENT* without the message
      const cached = await handle.meta(
        undecided.map((c) => c.d.uid),
        'search',
      );
      const rest: Candidate[] = [];
      for (const c of undecided) {
        const summary = decodeSummary(cached.get(c.d.uid));
        if (summary === undefined) {
          rest.push(c);
          continue;
        }
        c.summary = summary;
        const r = evaluate(key, c, scope);
        if (r === true) matched.add(c.d.uid);
        else if (r === undefined) rest.push(c);
      }
      undecided = rest;
    }
    if (undecided.length > 0) {
      const { parts, bytes } = await loadStructures(
        handle,
        undecided.map((c) => c.d.uid),
      );
      const fresh = new Map<number, string>();
      for (const c of undecided) {
        const root = parts.get(c.d.uid);
        if (root === undefined) continue;
        let stored = bytes.get(c.d.uid);
        if (stored === undefined) {
          const content = await handle.openContent(c.d.uid);
          if (content === undefined) continue;
          try {
            stored = await content.readAll();
          } finally {
            await content.close();
          }
        }
        c.loaded = { stored, root };
        if (c.summary === undefined) {
          c.summary = summarize(fieldsOf(c.loaded));
          fresh.set(c.d.uid, encodeSummary(c.summary));
        }
        if (evaluate(key, c, scope) === true) matched.add(c.d.uid);
      }
      if (fresh.size > 0) await handle.saveMeta('search', fresh);
    }
    // a turn for the other sessions between batches (the store may answer without ever yielding)
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (const d of details) {
      if (!matched.has(d.uid)) continue;
      uids.push(d.uid);
      if (d.modseq > highestModseq) highestModseq = d.modseq;
    }
  }
  return { uids, highestModseq };
}
