/**
 * SEARCH evaluation over the selected mailbox, in batches, in tiers (three-valued logic: true, false, or
 * "needs more"), each asked only for what the one before left undecided and only when the key needs it:
 * first the client's view (sequence numbers, UIDs, \Recent) and, when a key needs them, the store's
 * details (flags, sizes, dates, MODSEQ); then the cached header summary (summary.ts: SUBJECT,
 * FROM/TO/CC/BCC, SENT*) and the per-field header cache (header-cache.ts: HEADER <field>); only then the
 * message's bytes are read — its header fields parsed, and for BODY/TEXT its parts' layout (layout.ts:
 * cached, or from the cached structure, or parsed) loaded and its parts matched (body-match.ts) — and what
 * it taught the caches is saved for next time.
 * Between batches the event loop gets a turn, so a body search over a large mailbox never blocks other
 * sessions.
 */
import { parseHeaderBlock, type HeaderField } from '../../mail/mime/header-block.js';
import { parseStructure } from '../../mail/mime/parse-structure.js';
import type { MimePart } from '../../mail/mime/structure.js';
import type { Mailbox, MessageDetails, MetaKind } from '../../store/mailbox/mailbox-store.js';
import type { SelectedMailbox } from '../selected.js';
import { setMatcher, type SequenceSet } from '../wire/sequence-set.js';
import { bodyContains, needleOf, type Needle } from './body-match.js';
import { compareDay, dayOf, internalDay } from './dates.js';
import { headerKind, headerRecord, recordMatches, validRecord } from './header-cache.js';
import { decodeLayout, encodeLayout, layoutOf, type Step } from './layout.js';
import type { SearchKey } from './parse.js';
import { decodeSummary, encodeSummary, summarize, type SearchSummary } from './summary.js';
import { addressText, fold, headerText } from './text-match.js';

// Messages per batch: a few milliseconds of work between turns for the other sessions when it comes from
// the caches; files are read asynchronously anyway.
const BATCH = 1024;

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

// A key's folded search text, folded once per search rather than per message.
const needles = new WeakMap<SearchKey, Needle>();
function needleFor(key: SearchKey & { readonly text: string }): Needle {
  let n = needles.get(key);
  if (n === undefined) {
    n = needleOf(fold(key.text));
    needles.set(key, n);
  }
  return n;
}

interface Loaded {
  readonly stored: Buffer;
  /** its parts as BODY/TEXT search them, when such a key needs them */
  readonly steps: Step[] | undefined;
  /** the message's own header fields, parsed at first need (BODY never needs them) */
  fields?: HeaderField[];
}

/** The message's own header (it ends at the first blank line, where its structure's root header does). */
function fieldsOf(l: Loaded): HeaderField[] {
  return (l.fields ??= parseHeaderBlock(l.stored, 0, l.stored.length));
}

interface Candidate {
  readonly uid: number;
  readonly seq: number;
  /** the store's details, when a key needs them */
  readonly d: MessageDetails | undefined;
  summary?: SearchSummary;
  /** header-cache.ts records by field */
  headers?: Map<string, string>;
  loaded?: Loaded;
}

interface Scope {
  readonly count: number;
  readonly maxUid: number;
  readonly recent: (uid: number) => boolean;
  /** the current batch's cached header records, by field (one lookup per field, not a map per message) */
  readonly records: Map<string, (uid: number) => string | undefined>;
}

function headerMatch(fields: readonly HeaderField[], field: string, needle: string, address: boolean): boolean {
  for (const f of fields) {
    if (f.name.toLowerCase() !== field) continue;
    if (needle === '' || (address ? addressText(f) : headerText(f)).includes(needle)) return true;
  }
  return false;
}

/** true / false, or undefined when the answer needs what this candidate does not have yet. */
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
      if (m.d === undefined) return undefined;
      const lower = key.flag.toLowerCase();
      return m.d.flags.some((f) => f.toLowerCase() === lower);
    }
    case 'recent':
      return scope.recent(m.uid);
    case 'seq':
      return matcherFor(key.set, scope.count)(m.seq);
    case 'uid':
      return matcherFor(key.set, scope.maxUid)(m.uid);
    case 'size':
      if (m.d === undefined) return undefined;
      return key.op === 'larger' ? m.d.vsize > key.n : m.d.vsize < key.n;
    case 'modseq':
      if (m.d === undefined) return undefined;
      return m.d.modseq >= key.n;
    case 'date': {
      if (!key.sent) return m.d === undefined ? undefined : compareDay(internalDay(m.d.internalDate), key.op, dayOf(key.date));
      // no (valid) Date: Dovecot takes 1970-01-01 (day 0), so SENTBEFORE matches and SENTSINCE does not
      if (m.summary === undefined) return undefined;
      return compareDay(m.summary.sentDay, key.op, dayOf(key.date));
    }
    case 'header': {
      const needle = needleFor(key).text;
      const s = m.summary;
      if (s !== undefined && (key.address === true || key.subject === true)) {
        if (key.subject === true) return s.subject.some((t) => t.includes(needle));
        const text = s[key.field as 'from' | 'to' | 'cc' | 'bcc'];
        return needle === '' ? text !== '' : text.includes(needle);
      }
      if (key.address !== true && key.subject !== true) {
        const record = m.headers?.get(key.field) ?? scope.records.get(key.field)?.(m.uid);
        if (record !== undefined) {
          const r = recordMatches(record, needle);
          if (r !== undefined) return r;
        }
      }
      if (m.loaded === undefined) return undefined;
      return headerMatch(fieldsOf(m.loaded), key.field, needle, key.address === true);
    }
    case 'body':
      if (m.loaded?.steps === undefined) return undefined;
      return bodyContains(m.loaded.stored, m.loaded.steps, needleFor(key), false);
    case 'text': {
      const l = m.loaded;
      if (l?.steps === undefined) return undefined;
      const needle = needleFor(key);
      if (fieldsOf(l).some((f) => fold(f.name).includes(needle.text) || headerText(f).includes(needle.text))) return true;
      return bodyContains(l.stored, l.steps, needle, true);
    }
  }
}

/**
 * Whether the store may look for a text in header records as they are stored: not empty, and nothing a
 * several-field record's JSON would write escaped (quotes, backslashes, controls, surrogates), so that a
 * record whose fields hold the text holds it verbatim. (The store can find more; each record found is
 * checked here.)
 */
function sqlSafe(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return text !== '' && !/["\\\x00-\x1f\ud800-\udfff]/.test(text);
}

/** What a key asks of the tiers. */
interface Needs {
  /** the store's details: flags, sizes, internal dates, MODSEQ */
  details: boolean;
  /** the header summary: SUBJECT, FROM/TO/CC/BCC, SENT* */
  summary: boolean;
  /** HEADER fields the header cache can answer, with the (folded) texts searched in each */
  readonly fields: Map<string, Set<string>>;
  /** the MIME tree: BODY, TEXT */
  structure: boolean;
}

function needsOf(key: SearchKey, n: Needs): Needs {
  switch (key.k) {
    case 'and':
      for (const k of key.keys) needsOf(k, n);
      break;
    case 'or':
      needsOf(key.a, n);
      needsOf(key.b, n);
      break;
    case 'not':
      needsOf(key.key, n);
      break;
    case 'flag':
    case 'size':
    case 'modseq':
      n.details = true;
      break;
    case 'date':
      if (key.sent) n.summary = true;
      else n.details = true;
      break;
    case 'header':
      if (key.address === true || key.subject === true) n.summary = true;
      else if (headerKind(key.field) !== undefined) {
        const texts = n.fields.get(key.field) ?? new Set<string>();
        texts.add(needleFor(key).text);
        n.fields.set(key.field, texts);
      }
      break;
    case 'body':
    case 'text':
      n.structure = true;
      break;
    default:
      break;
  }
  return n;
}

export interface SearchResult {
  /** the matching messages' UIDs, ascending */
  readonly uids: number[];
  /** the highest MODSEQ among them (0 when none) */
  readonly highestModseq: number;
}

/**
 * The layouts of `uids` for BODY/TEXT: cached ones; else from the cached structure (the layout then
 * saved); the others are left to be parsed from the bytes.
 */
async function cachedLayouts(handle: Mailbox, uids: readonly number[], fresh: Map<number, string>): Promise<Map<number, Step[]>> {
  const out = new Map<number, Step[]>();
  const cached = await handle.meta(uids, 'layout');
  const missing: number[] = [];
  for (const uid of uids) {
    const steps = decodeLayout(cached.get(uid));
    if (steps === undefined) missing.push(uid);
    else out.set(uid, steps);
  }
  if (missing.length === 0) return out;
  const structures = await handle.meta(missing, 'structure');
  for (const [uid, json] of structures) {
    try {
      const steps = layoutOf(JSON.parse(json) as MimePart);
      out.set(uid, steps);
      fresh.set(uid, encodeLayout(steps));
    } catch {
      // a damaged structure: parsed again from the bytes (and replaced)
    }
  }
  return out;
}

/** Loads the undecided candidates' bytes (and layouts), settles them, and fills the caches they missed. */
async function loadAndSettle(handle: Mailbox, undecided: readonly Candidate[], key: SearchKey, needs: Needs, scope: Scope, matched: Set<number>): Promise<void> {
  const uids = undecided.map((c) => c.uid);
  const freshLayouts = new Map<number, string>();
  const layouts = needs.structure ? await cachedLayouts(handle, uids, freshLayouts) : undefined;
  const freshSummaries = new Map<number, string>();
  const freshHeaders = new Map<string, Map<number, string>>([...needs.fields.keys()].map((f) => [f, new Map<number, string>()]));
  const byUid = new Map(undecided.map((c) => [c.uid, c]));
  await handle.scanContent(uids, (uid, stored) => {
    const c = byUid.get(uid);
    if (c === undefined) return;
    let steps: Step[] | undefined;
    if (layouts !== undefined) {
      steps = layouts.get(uid);
      if (steps === undefined) {
        // only the layout is kept, not the whole tree: a tenth of the index's size (FETCH parses its own)
        steps = layoutOf(parseStructure(stored));
        freshLayouts.set(uid, encodeLayout(steps));
      }
    }
    // the bytes are only held while the message is matched (the store reuses their memory)
    const loaded: Loaded = { stored, steps };
    c.loaded = loaded;
    if (needs.summary && c.summary === undefined) {
      c.summary = summarize(fieldsOf(loaded));
      freshSummaries.set(uid, encodeSummary(c.summary));
    }
    for (const [field, fresh] of freshHeaders) {
      if (c.headers?.has(field) === true || scope.records.get(field)?.(uid) !== undefined) continue;
      const record = headerRecord(fieldsOf(loaded), field);
      (c.headers ??= new Map()).set(field, record);
      fresh.set(uid, record);
    }
    if (evaluate(key, c, scope) === true) matched.add(uid);
    delete c.loaded;
  });
  if (freshLayouts.size > 0) await handle.saveMeta('layout', freshLayouts);
  if (freshSummaries.size > 0) await handle.saveMeta('search', freshSummaries);
  for (const [field, fresh] of freshHeaders) if (fresh.size > 0) await handle.saveMeta(headerKind(field)!, fresh);
}

/** The messages of the client's view that match `key`. */
export async function searchMailbox(selected: SelectedMailbox, key: SearchKey): Promise<SearchResult> {
  const handle = selected.handle;
  const all = selected.allUids();
  const scope: Scope = { count: all.length, maxUid: all.length > 0 ? all[all.length - 1]! : 0, recent: (uid) => selected.isRecent(uid), records: new Map() };
  const needs = needsOf(key, { details: false, summary: false, fields: new Map(), structure: false });
  const uids: number[] = [];
  let highestModseq = 0;
  for (let b = 0; b < all.length; b += BATCH) {
    const candidates: Candidate[] = [];
    if (needs.details) {
      for (const d of await handle.details(all.slice(b, b + BATCH))) {
        if (!selected.isExpungePending(d.uid)) candidates.push({ uid: d.uid, seq: selected.seqOf(d.uid)!, d });
      }
    } else {
      const end = Math.min(b + BATCH, all.length);
      for (let i = b; i < end; i++) if (!selected.isExpungePending(all[i]!)) candidates.push({ uid: all[i]!, seq: i + 1, d: undefined });
    }
    scope.records.clear();
    const matched = new Set<number>();
    let undecided: Candidate[] = [];
    for (const c of candidates) {
      const r = evaluate(key, c, scope);
      if (r === true) matched.add(c.uid);
      else if (r === undefined) undecided.push(c);
    }
    if (undecided.length > 0 && needs.summary) {
      // the cached header summaries first: they settle SUBJECT/FROM/TO/CC/BCC/SENT* without the message
      const cached = await handle.meta(
        undecided.map((c) => c.uid),
        'search',
      );
      const rest: Candidate[] = [];
      for (const c of undecided) {
        const summary = decodeSummary(cached.get(c.uid));
        if (summary === undefined) {
          rest.push(c);
          continue;
        }
        c.summary = summary;
        const r = evaluate(key, c, scope);
        if (r === true) matched.add(c.uid);
        else if (r === undefined) rest.push(c);
      }
      undecided = rest;
    }
    if (undecided.length > 0 && needs.fields.size > 0) {
      // then the header cache: HEADER <field> from each message's short record of that field
      for (const [field, texts] of needs.fields) {
        const kind = headerKind(field) as MetaKind;
        const uids = undecided.map((c) => c.uid);
        const [text] = texts;
        if (texts.size === 1 && sqlSafe(text!)) {
          // one text searched in the field: the store hands over only the records holding it (a record
          // without it cannot match; '0' stands for it), and says which messages have none yet
          const { found, missing } = await handle.metaContaining(uids, kind, text!);
          const unknown = new Set(missing);
          scope.records.set(field, (uid) => {
            const record = found.get(uid);
            if (record === undefined) return unknown.has(uid) ? undefined : '0';
            return validRecord(record) ? record : undefined;
          });
          continue;
        }
        const cached = await handle.meta(uids, kind);
        scope.records.set(field, (uid) => {
          const record = cached.get(uid);
          return record !== undefined && validRecord(record) ? record : undefined;
        });
      }
      const rest: Candidate[] = [];
      for (const c of undecided) {
        const r = evaluate(key, c, scope);
        if (r === true) matched.add(c.uid);
        else if (r === undefined) rest.push(c);
      }
      undecided = rest;
    }
    if (undecided.length > 0) await loadAndSettle(handle, undecided, key, needs, scope, matched);
    // a turn for the other sessions between batches (the store may answer without ever yielding)
    await new Promise<void>((resolve) => setImmediate(resolve));
    // Without details the matches are checked against the store (as details would have): a message
    // another session expunged is in the view until the client is told, but no longer matches.
    const found = needs.details ? candidates.filter((c) => matched.has(c.uid)).map((c) => c.d!) : matched.size > 0 ? await handle.details([...matched].sort((x, y) => x - y)) : [];
    for (const d of found) {
      uids.push(d.uid);
      if (d.modseq > highestModseq) highestModseq = d.modseq;
    }
  }
  return { uids, highestModseq };
}
