/**
 * The scan of a folder the index has no rows for (its first SELECT), as columns rather than an object per
 * message: names, flag bits, sizes and arrival keys in arrays. A 100,000-message folder's objects would all
 * live until the answer, and with the server's small young generation and 20 % heap growth steps (main.ts's
 * V8 flags) every one of them is copied and marked again and again: garbage collection was a third of a
 * cold SELECT. What a message needs beyond its name (its base, its keywords' names) is cut from the name
 * when it is written. The rules are index-sync.ts's for a first scan: dot-files, symlinks and other
 * non-regular files skipped, a base in both new/ and cur/ taken from cur/, arrival order by the name's
 * `<secs>.M<usecs>` (else by name), UIDs the uidlist gave kept, sizes from S=/W= (read from the file only
 * when the name lacks them).
 */
import { INFO_SEPARATOR, nameSizeField, parseMaildirInfo } from '../maildir/maildir-info.js';
import { measureMessageFile, subdirEntries } from '../maildir/maildir-scan.js';
import { isRealDirectory, messageFilePath } from '../maildir/safe-fs.js';
import { inBatches } from './batches.js';

/** A folder's messages, one index per message in every array, in the order they get their UIDs. */
export interface ScanColumns {
  readonly n: number;
  /** Each file's name in new/ or cur/ (a move to cur/ changes it). */
  readonly names: string[];
  /** Where each name's base ends (its ':' or its length). */
  readonly baseEnds: Int32Array;
  /** 1 when the file is in new/. */
  readonly inNew: Uint8Array;
  /** System flag bits from the name. */
  readonly bits: Uint8Array;
  /** Keyword names, sorted, space-separated, per message; undefined when no message has any. */
  readonly keywords: string[] | undefined;
  readonly sizes: Float64Array;
  readonly vsizes: Float64Array;
  /** The UID the uidlist gave each message (0: none), ascending where given; undefined when none was. */
  readonly given: Float64Array | undefined;
}

export function baseOf(c: ScanColumns, i: number): string {
  const name = c.names[i]!;
  const end = c.baseEnds[i]!;
  return end === name.length ? name : name.slice(0, end);
}

/** The regular, non-dot files of `<folder>/<sub>` (none when it is missing). */
async function fileNames(folder: string, sub: 'new' | 'cur'): Promise<string[]> {
  const names: string[] = [];
  // indexed loops here and below: this code runs once per folder, before the JIT, where each step of a
  // for-of makes an iterator result (8 MB of garbage over 100,000 names)
  const entries = await subdirEntries(folder, sub);
  for (let i = 0; i < entries.length; i++) {
    const d = entries[i]!;
    if (d.isFile() && !d.name.startsWith('.') && !d.name.startsWith(INFO_SEPARATOR)) names.push(d.name);
  }
  return names;
}

/**
 * Scans the folder into columns, sorted (the uidlist's UIDs first, ascending, then arrival order).
 * `adopt` maps bases to UIDs the uidlist holds; `letters` are the folder's keyword letters.
 */
export async function scanColumns(dir: string, adopt: ReadonlyMap<string, number>, letters: readonly string[]): Promise<ScanColumns> {
  if (!(await isRealDirectory(dir))) return fromRaw([], 0, dir, adopt, letters);
  const fromNew = await fileNames(dir, 'new');
  const fromCur = await fileNames(dir, 'cur');
  const names = fromNew.length === 0 ? fromCur : fromNew.concat(fromCur);
  return fromRaw(names, fromNew.length, dir, adopt, letters);
}

async function fromRaw(all: string[], newCount: number, dir: string, adopt: ReadonlyMap<string, number>, letters: readonly string[]): Promise<ScanColumns> {
  const total = all.length;
  const secs = new Float64Array(total);
  const usecs = new Float64Array(total);
  const ends = new Int32Array(total);
  let numeric = true;
  for (let i = 0; i < total; i++) {
    const name = all[i]!;
    const at = name.indexOf(INFO_SEPARATOR);
    ends[i] = at === -1 ? name.length : at;
    arrival(name, ends[i]!, secs, usecs, i);
    if (secs[i]! < 0) numeric = false;
  }
  let order = sortedOrder(all, ends, secs, usecs);
  if (newCount > 0) order = onePerBase(order, all, ends, newCount, numeric);
  if (adopt.size > 0) order = adoptedFirst(order, all, ends, adopt);

  const n = order.length;
  const names = new Array<string>(n);
  const baseEnds = new Int32Array(n);
  const inNew = new Uint8Array(n);
  const bits = new Uint8Array(n);
  const sizes = new Float64Array(n);
  const vsizes = new Float64Array(n);
  let keywords: string[] | undefined;
  let given: Float64Array | undefined;
  const unmeasured: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const name = all[i]!;
    const end = ends[i]!;
    names[k] = name;
    baseEnds[k] = end;
    inNew[k] = i < newCount ? 1 : 0;
    const flags = parseMaildirInfo(end === name.length ? undefined : name.slice(end + 1));
    bits[k] = flags.system;
    if (flags.keywords !== '') {
      const named = keywordsOfLetters(flags.keywords, letters);
      if (named !== '') (keywords ??= new Array<string>(n).fill(''))[k] = named;
    }
    const size = nameSizeField(name, end, 'S');
    const vsize = nameSizeField(name, end, 'W');
    if (size === undefined || vsize === undefined) unmeasured.push(k);
    else {
      sizes[k] = size;
      vsizes[k] = vsize;
    }
    if (adopt.size > 0) {
      const uid = adopt.get(end === name.length ? name : name.slice(0, end));
      if (uid !== undefined) (given ??= new Float64Array(n))[k] = uid;
    }
  }
  const columns: ScanColumns = { n, names, baseEnds, inNew, bits, keywords, sizes, vsizes, given };
  if (unmeasured.length === 0) return columns;
  // Names without S=/W= (files another program dropped) are read once; one gone meanwhile is left out.
  const measured = await inBatches(unmeasured, (k) => measureMessageFile(messageFilePath(dir, inNew[k] === 1 ? 'new' : 'cur', names[k]!)));
  const gone = new Set<number>();
  unmeasured.forEach((k, j) => {
    const m = measured[j];
    if (m === undefined) gone.add(k);
    else {
      sizes[k] = m.size;
      vsizes[k] = m.vsize;
    }
  });
  return gone.size === 0 ? columns : without(columns, gone);
}

/**
 * The columns in the order scanColumns gives them with `adopt` (the uidlist's UIDs first, ascending, then
 * the rest in their order here), `given` set from it: for a scan made before the uidlist was read (outside
 * its lock: the scan may read every file), once it has been read under the lock. No I/O.
 */
export function withAdopted(c: ScanColumns, adopt: ReadonlyMap<string, number>): ScanColumns {
  const uids = new Float64Array(c.n);
  const adopted: number[] = [];
  const rest: number[] = [];
  if (adopt.size > 0) {
    for (let k = 0; k < c.n; k++) {
      const uid = adopt.get(baseOf(c, k));
      if (uid === undefined) rest.push(k);
      else {
        uids[k] = uid;
        adopted.push(k);
      }
    }
  }
  if (adopted.length === 0) return { ...c, given: undefined };
  adopted.sort((a, b) => uids[a]! - uids[b]!);
  return picked({ ...c, given: uids }, adopted.concat(rest));
}

/** The bases `adopt` lists that no message of `c` has (a line whose file the scan did not list). */
export function unlistedBases(c: ScanColumns, adopt: ReadonlyMap<string, number>): string[] {
  if (adopt.size === 0) return [];
  const seen = new Set<string>();
  for (let k = 0; k < c.n; k++) {
    const base = baseOf(c, k);
    if (adopt.has(base)) seen.add(base);
  }
  if (seen.size === adopt.size) return [];
  return [...adopt.keys()].filter((base) => !seen.has(base));
}

/**
 * `c` with the files `late` (names in new/ or cur/ the scan did not list, each base once and in none of
 * `c`'s) added at the end, measured as the scan's; the caller orders them (withAdopted).
 */
export async function withLateFiles(c: ScanColumns, dir: string, late: readonly { name: string; inNew: boolean }[], letters: readonly string[]): Promise<ScanColumns> {
  if (late.length === 0) return c;
  const names = [...late.filter((f) => f.inNew), ...late.filter((f) => !f.inNew)].map((f) => f.name);
  const more = await fromRaw(names, late.filter((f) => f.inNew).length, dir, new Map(), letters);
  const cat = <T extends Float64Array | Int32Array | Uint8Array>(a: T, b: T, make: (n: number) => T): T => {
    const out = make(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  };
  const keywords = c.keywords === undefined && more.keywords === undefined ? undefined : [...(c.keywords ?? new Array<string>(c.n).fill('')), ...(more.keywords ?? new Array<string>(more.n).fill(''))];
  return {
    n: c.n + more.n,
    names: c.names.concat(more.names),
    baseEnds: cat(c.baseEnds, more.baseEnds, (n) => new Int32Array(n)),
    inNew: cat(c.inNew, more.inNew, (n) => new Uint8Array(n)),
    bits: cat(c.bits, more.bits, (n) => new Uint8Array(n)),
    keywords,
    sizes: cat(c.sizes, more.sizes, (n) => new Float64Array(n)),
    vsizes: cat(c.vsizes, more.vsizes, (n) => new Float64Array(n)),
    given: undefined,
  };
}

/** The columns without the positions in `gone`. */
function without(c: ScanColumns, gone: ReadonlySet<number>): ScanColumns {
  const keep: number[] = [];
  for (let k = 0; k < c.n; k++) if (!gone.has(k)) keep.push(k);
  return picked(c, keep);
}

/** The columns at the positions `keep`, in that order. */
function picked(c: ScanColumns, keep: readonly number[]): ScanColumns {
  const pick = <T extends Float64Array | Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
    const out = make(keep.length);
    keep.forEach((k, j) => (out[j] = a[k]!));
    return out;
  };
  return {
    n: keep.length,
    names: keep.map((k) => c.names[k]!),
    baseEnds: pick(c.baseEnds, (n) => new Int32Array(n)),
    inNew: pick(c.inNew, (n) => new Uint8Array(n)),
    bits: pick(c.bits, (n) => new Uint8Array(n)),
    keywords: c.keywords === undefined ? undefined : keep.map((k) => c.keywords![k]!),
    sizes: pick(c.sizes, (n) => new Float64Array(n)),
    vsizes: pick(c.vsizes, (n) => new Float64Array(n)),
    given: c.given === undefined ? undefined : pick(c.given, (n) => new Float64Array(n)),
  };
}

/** index-sync.ts's arrival order over the names' bases. */
function sortedOrder(names: readonly string[], ends: Int32Array, secs: Float64Array, usecs: Float64Array): Uint32Array {
  const order = new Uint32Array(names.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => {
    const sa = secs[a]!;
    const sb = secs[b]!;
    if (sa >= 0 && sb >= 0) {
      const d = sa - sb || usecs[a]! - usecs[b]!;
      if (d !== 0) return d;
    }
    return compareBases(names, ends, a, b);
  });
}

function compareBases(names: readonly string[], ends: Int32Array, a: number, b: number): number {
  const na = names[a]!.slice(0, ends[a]);
  const nb = names[b]!.slice(0, ends[b]);
  return na < nb ? -1 : na > nb ? 1 : 0;
}

function sameBase(names: readonly string[], ends: Int32Array, a: number, b: number): boolean {
  const end = ends[a]!;
  if (end !== ends[b]) return false;
  const na = names[a]!;
  const nb = names[b]!;
  for (let i = 0; i < end; i++) if (na.charCodeAt(i) !== nb.charCodeAt(i)) return false;
  return true;
}

/**
 * Drops the new/ copy of a base that is in cur/ too (positions below `newCount` are new/'s). With every
 * name in `<secs>.M<usecs>` form the order is total, so equal bases lie side by side; otherwise new/'s
 * bases (few) are looked up in a set.
 */
function onePerBase(order: Uint32Array, names: readonly string[], ends: Int32Array, newCount: number, numeric: boolean): Uint32Array {
  if (numeric) {
    const kept = new Uint32Array(order.length);
    let k = 0;
    for (let j = 0; j < order.length; j++) {
      const i = order[j]!;
      if (k > 0 && sameBase(names, ends, kept[k - 1]!, i)) {
        // Keep cur/'s (a higher position); of two in new/ (cannot happen in one directory), the first.
        if (i >= newCount && kept[k - 1]! < newCount) kept[k - 1] = i;
        continue;
      }
      kept[k++] = i;
    }
    return k === kept.length ? kept : kept.slice(0, k);
  }
  const keep: number[] = [];
  const inNew = new Set<string>();
  for (let i = 0; i < newCount; i++) inNew.add(names[i]!.slice(0, ends[i]));
  const inBoth = new Set<string>();
  for (let i = newCount; i < names.length; i++) {
    const base = names[i]!.slice(0, ends[i]);
    if (inNew.has(base)) inBoth.add(base);
  }
  if (inBoth.size === 0 && inNew.size === newCount) return order;
  // new/'s copy goes when cur/ has the base, and a base twice in new/ (names with and without an info part) is taken once.
  const seen = new Set<string>();
  for (const i of order) {
    if (i < newCount) {
      const base = names[i]!.slice(0, ends[i]);
      if (inBoth.has(base) || seen.has(base)) continue;
      seen.add(base);
    }
    keep.push(i);
  }
  return Uint32Array.from(keep);
}

/** The messages the uidlist gave UIDs first, ascending by that UID, then the rest in arrival order. */
function adoptedFirst(order: Uint32Array, names: readonly string[], ends: Int32Array, adopt: ReadonlyMap<string, number>): Uint32Array {
  const uids = new Float64Array(names.length);
  const adopted: number[] = [];
  const rest: number[] = [];
  for (const i of order) {
    const uid = adopt.get(names[i]!.slice(0, ends[i]));
    if (uid === undefined) rest.push(i);
    else {
      uids[i] = uid;
      adopted.push(i);
    }
  }
  adopted.sort((a, b) => uids[a]! - uids[b]!);
  return Uint32Array.from(adopted.concat(rest));
}

/** index-sync.ts's arrivalInto over the base `name.slice(0, end)`. */
function arrival(name: string, end: number, secs: Float64Array, usecs: Float64Array, i: number): void {
  let a = 0;
  let s = 0;
  while (a < end && isDigit(name.charCodeAt(a))) s = s * 10 + (name.charCodeAt(a++) - 0x30);
  let b = a + 2;
  let u = 0;
  if (a > 0 && name.charCodeAt(a) === 0x2e && name.charCodeAt(a + 1) === 0x4d) while (b < end && isDigit(name.charCodeAt(b))) u = u * 10 + (name.charCodeAt(b++) - 0x30);
  if (b === a + 2) {
    secs[i] = -1;
    usecs[i] = 0;
    return;
  }
  secs[i] = s;
  usecs[i] = u;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** The keyword names of a name's letters through the folder's dovecot-keywords, sorted, each once ('' for none). */
function keywordsOfLetters(lettersOfName: string, names: readonly string[]): string {
  const named = new Set<string>();
  for (let i = 0; i < lettersOfName.length; i++) {
    const keyword = names[lettersOfName.charCodeAt(i) - 0x61];
    if (keyword !== undefined && keyword !== '') named.add(keyword);
  }
  return [...named].sort().join(' ');
}
