/**
 * Dovecot's `dovecot-uidlist` (version 3), the file that keeps a Maildir's UIDs across index loss and lets
 * Dovecot read the Maildir with the same UIDs. Format (checked against Dovecot 2.3 in
 * test/store/maildir/dovecot-compat.test.ts):
 *
 *   3 V<uidvalidity> N<nextuid> G<mailbox guid, 32 hex>[ <other header fields, kept>]
 *   <uid>[ <extension fields, each a capital letter and a value>] :<base name: file name before ':'>
 *
 * UIDs ascend. Dovecot appends lines without rewriting the header, so N may lag behind: the next UID is
 * max(N, last UID + 1). Writers hold `dovecot-uidlist.lock` (dotlock.ts): they append to the file, or
 * write the whole new content into the lock and rename it over (the atomic rewrite).
 */
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireDotlock, type Dotlock, type DotlockOptions } from './dotlock.js';

export const UIDLIST_FILE = 'dovecot-uidlist';
/** UIDs are 32-bit and non-zero; Dovecot refuses (uint32)-1 itself. */
export const MAX_UID = 0xfffffffe;

export interface UidlistHeader {
  readonly uidValidity: number;
  /** As written in the header; see Uidlist.nextUid for the effective value. */
  readonly nextUid: number;
  /** Mailbox GUID, 32 lowercase hex digits, when present. */
  readonly guid: string | undefined;
  /** Header fields other than V, N and G, kept in order as written ("Xvalue"). */
  readonly extra: readonly string[];
}

export interface UidlistRecord {
  readonly uid: number;
  /** Extension fields as written ("W1234", "P<pop3 uidl>"), kept in order. */
  readonly extensions: readonly string[];
  /** The file name without its info part (`:2,...`). */
  readonly base: string;
}

export interface Uidlist {
  readonly header: UidlistHeader;
  /** Ascending by uid. A base listed twice keeps only its later line (Dovecot does the same). */
  readonly records: readonly UidlistRecord[];
  /** The UID the next message gets: max(header N, last uid + 1). */
  readonly nextUid: number;
}

export class UidlistError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`dovecot-uidlist line ${line}: ${message}`);
    this.name = 'UidlistError';
  }
}

const GUID = /^[0-9a-f]{32}$/;
const EXTENSION = /^[A-Z]\S*$/;

/**
 * Parses a whole file. Throws UidlistError when it is not a version-3 uidlist Dovecot would accept
 * (bad header, UIDs not ascending, a '/' in a name): the caller rebuilds, as Dovecot deletes such a file.
 * An empty file is an error too (Dovecot treats it as absent: the caller can check for that first).
 */
export function parseUidlist(text: string): Uidlist {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const first = lines[0];
  if (first === undefined || first === '') throw new UidlistError('empty file', 1);
  const header = parseHeader(first);
  const byBase = new Map<string, UidlistRecord>();
  let prev = 0;
  for (let i = 1; i < lines.length; i++) {
    const record = parseRecord(lines[i] as string, i + 1);
    if (record.uid <= prev) throw new UidlistError(`UIDs not ascending (${record.uid} after ${prev})`, i + 1);
    prev = record.uid;
    byBase.delete(record.base);
    byBase.set(record.base, record);
  }
  const records = [...byBase.values()].sort((a, b) => a.uid - b.uid);
  return { header, records, nextUid: Math.max(header.nextUid, prev + 1) };
}

function parseHeader(line: string): UidlistHeader {
  if (!line.startsWith('3 ')) throw new UidlistError(`not a version 3 header: "${line.slice(0, 40)}"`, 1);
  let uidValidity = 0;
  let nextUid = 0;
  let guid: string | undefined;
  const extra: string[] = [];
  for (const field of line.slice(2).split(' ')) {
    if (field === '') continue;
    const key = field[0];
    const value = field.slice(1);
    if (key === 'V') uidValidity = parseUint(value, 1);
    else if (key === 'N') nextUid = parseUint(value, 1);
    else if (key === 'G') {
      if (!GUID.test(value)) throw new UidlistError(`bad mailbox GUID "${value}"`, 1);
      guid = value;
    } else extra.push(field);
  }
  if (uidValidity === 0 || nextUid === 0) throw new UidlistError('header without UIDVALIDITY or next UID', 1);
  return { uidValidity, nextUid, guid, extra };
}

function parseRecord(line: string, lineNo: number): UidlistRecord {
  const m = /^([1-9]\d{0,9}) /.exec(line);
  if (m === null) throw new UidlistError('no UID at the start of the line', lineNo);
  const uid = Number(m[1]);
  if (uid > MAX_UID) throw new UidlistError(`UID ${uid} too high`, lineNo);
  let rest = line.slice(m[0].length);
  const extensions: string[] = [];
  for (;;) {
    rest = rest.replace(/^ +/, '');
    if (rest === '' || rest.startsWith(':')) break;
    const space = rest.indexOf(' ');
    const field = space === -1 ? rest : rest.slice(0, space);
    // Dovecot drops an invalid field and reads on; a name without ':' (version 1 style) ends the fields.
    if (!EXTENSION.test(field)) break;
    extensions.push(field);
    rest = space === -1 ? '' : rest.slice(space);
  }
  const base = rest.startsWith(':') ? rest.slice(1) : rest;
  if (base === '') throw new UidlistError('no file name', lineNo);
  if (base.includes('/')) throw new UidlistError('a "/" in the file name', lineNo);
  return { uid, extensions, base };
}

function parseUint(value: string, lineNo: number): number {
  if (!/^\d{1,10}$/.test(value)) throw new UidlistError(`bad number "${value}"`, lineNo);
  const n = Number(value);
  if (n > 0xffffffff) throw new UidlistError(`number ${n} too high`, lineNo);
  return n;
}

/** The header line, newline included. */
export function formatUidlistHeader(header: UidlistHeader): string {
  const fields = [`V${header.uidValidity}`, `N${header.nextUid}`];
  if (header.guid !== undefined) fields.push(`G${header.guid}`);
  return `3 ${[...fields, ...header.extra].join(' ')}\n`;
}

/** One record line, newline included. Throws on a value that would not read back the same. */
export function formatUidlistRecord(record: UidlistRecord): string {
  if (!Number.isInteger(record.uid) || record.uid < 1 || record.uid > MAX_UID) throw new Error(`bad UID ${record.uid}`);
  if (record.base === '' || /[/\n:]/.test(record.base)) throw new Error(`bad uidlist file name "${record.base}"`);
  // Most records have no extensions (every one Mailgate writes): one template, no array.
  if (record.extensions.length === 0) return `${record.uid} :${record.base}\n`;
  for (const e of record.extensions) if (!EXTENSION.test(e)) throw new Error(`bad uidlist extension "${e}"`);
  return [String(record.uid), ...record.extensions, `:${record.base}`].join(' ') + '\n';
}

/** A name of printable ASCII without '/': its bytes are its characters. */
const PLAIN_NAME = /^[\x20-\x2e\x30-\x7e]*$/;

/**
 * Record lines without extensions for parallel `uids` and `names` (a folder's first fill: 100,000 lines),
 * the base being each name up to `ends[i]` (its ':'), written straight into one buffer: no string per line.
 * Throws on a value formatUidlistRecord refuses.
 */
export function formatUidlistLines(uids: ArrayLike<number>, names: readonly string[], ends: ArrayLike<number>): Buffer {
  // Names that are all printable ASCII without '/' (each checked in place: joining 100,000 names for one
  // scan made a string of megabytes for the GC; the usual case) are copied byte for byte; otherwise each
  // base is checked and encoded on its own.
  let plain = true;
  for (let i = 0; i < names.length && plain; i++) plain = PLAIN_NAME.test(names[i]!);
  let bytes = 0;
  for (let i = 0; i < uids.length; i++) {
    const uid = uids[i]!;
    const name = names[i]!;
    const end = ends[i]!;
    if (!Number.isInteger(uid) || uid < 1 || uid > MAX_UID) throw new Error(`bad UID ${uid}`);
    const colon = name.indexOf(':');
    if (end < 1 || end > name.length || (colon !== -1 && colon < end)) throw new Error(`bad uidlist file name "${name.slice(0, end)}"`);
    if (plain) bytes += digitsOf(uid) + 3 + end;
    else {
      const base = name.slice(0, end);
      if (/[/\n]/.test(base)) throw new Error(`bad uidlist file name "${base}"`);
      bytes += digitsOf(uid) + 3 + Buffer.byteLength(base);
    }
  }
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (let i = 0; i < uids.length; i++) {
    let uid = uids[i]!;
    const width = digitsOf(uid);
    for (let k = at + width - 1; k >= at; k--) {
      out[k] = 0x30 + (uid % 10);
      uid = Math.floor(uid / 10);
    }
    at += width;
    out[at++] = 0x20;
    out[at++] = 0x3a;
    const name = names[i]!;
    const end = ends[i]!;
    at += plain ? out.write(name, at, end, 'latin1') : out.write(name.slice(0, end), at);
    out[at++] = 0x0a;
  }
  return out;
}

function digitsOf(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/** A whole file: the header (N raised to past the last record if needed) and the records in UID order. */
export function formatUidlist(list: { readonly header: UidlistHeader; readonly records: readonly UidlistRecord[] }): string {
  const records = [...list.records].sort((a, b) => a.uid - b.uid);
  const last = records[records.length - 1]?.uid ?? 0;
  const header = { ...list.header, nextUid: Math.max(list.header.nextUid, last + 1) };
  return formatUidlistHeader(header) + records.map(formatUidlistRecord).join('');
}

/** A fresh mailbox GUID in the form the header holds (Dovecot: 128 bits, hex). */
export function newMailboxGuid(): string {
  return randomUUID().replace(/-/g, '');
}

/**
 * Reads `<dir>/dovecot-uidlist`. Undefined when it is absent or empty; UidlistError when broken (the
 * caller then treats it as absent and rewrites it, as Dovecot does), a directory, FIFO or device in its
 * place included, opened without blocking (readUidlistFrom's rule: a FIFO must not hang a reader holding
 * the lock).
 */
export async function readUidlist(dir: string): Promise<Uidlist | undefined> {
  let handle;
  try {
    handle = await open(join(dir, UIDLIST_FILE), constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    if (!(await handle.stat()).isFile()) throw new UidlistError('not a regular file', 1);
    const text = (await handle.readFile()).toString('utf8');
    return text === '' ? undefined : parseUidlist(text);
  } finally {
    await handle.close();
  }
}

/** readUidlistFrom's first read at each end; one at the end doubles while it holds no line below the UID. */
const FIRST_READ = 4096;

/**
 * The header and the records with a UID of `fromUid` or more, read from the file's end backwards (UIDs
 * ascend, so they are its last lines): what another writer (Dovecot's LDA or IMAP, another process) added
 * since this index gave out `fromUid - 1`, without reading a 100,000-line file. `nextUid` is the whole
 * file's (header N, last UID + 1). Undefined, UidlistError and a last line without its newline as
 * readUidlist; UidlistError too when it is not a regular file.
 */
export async function readUidlistFrom(dir: string, fromUid: number): Promise<Uidlist | undefined> {
  let handle;
  try {
    // O_NONBLOCK: a FIFO put in its place must not hang the open (no effect on a regular file).
    handle = await open(join(dir, UIDLIST_FILE), constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const st = await handle.stat();
    // A directory or a device in its place is no uidlist: broken, so the caller rewrites it.
    if (!st.isFile()) throw new UidlistError('not a regular file', 1);
    const size = st.size;
    if (size === 0) return undefined;
    const head = Buffer.allocUnsafe(Math.min(size, FIRST_READ));
    let headLength = await readFully(handle, head, 0);
    if (headLength === size) return onlyFrom(parseUidlist(head.toString('utf8', 0, headLength)), fromUid);
    const headerEnd = head.subarray(0, headLength).indexOf(0x0a);
    if (headerEnd === -1) {
      // A header longer than the first read (many extra fields): the whole file.
      return onlyFrom(parseUidlist((await handle.readFile()).toString('utf8')), fromUid);
    }
    const header = parseHeader(head.toString('utf8', 0, headerEnd));
    headLength = headerEnd + 1;
    // Reads from the end until the first whole line read is below `fromUid` or the header is reached.
    let at = size;
    let tail = Buffer.alloc(0);
    for (let want = FIRST_READ; ; want *= 2) {
      const start = Math.max(headLength, at - want);
      const chunk = Buffer.allocUnsafe(at - start);
      // Short only if the file shrank while read (writers append or rename over it, never truncate): not
      // broken, read again by the operation's retry.
      if ((await readFully(handle, chunk, start)) !== chunk.length) throw new Error(`${UIDLIST_FILE} in ${dir} shrank while it was read`);
      tail = tail.length === 0 ? chunk : Buffer.concat([chunk, tail]);
      at = start;
      if (at === headLength) break;
      const firstEnd = tail.indexOf(0x0a);
      const space = firstEnd === -1 ? -1 : tail.indexOf(0x20, firstEnd + 1);
      if (space !== -1 && Number(tail.toString('latin1', firstEnd + 1, space)) < fromUid) {
        tail = tail.subarray(firstEnd + 1);
        break;
      }
    }
    return onlyFrom(parseUidlist(`${formatUidlistHeader(header)}${tail.toString('utf8')}`), fromUid);
  } finally {
    await handle.close();
  }
}

/** Fills `buf` from `position` on, read after read (a read may return less); the bytes read (fewer at the end of the file). */
async function readFully(handle: FileHandle, buf: Buffer, position: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await handle.read(buf, got, buf.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

function onlyFrom(list: Uidlist, fromUid: number): Uidlist {
  return fromUid <= 1 ? list : { ...list, records: list.records.filter((r) => r.uid >= fromUid) };
}

/** The uidlist lock of one Maildir folder, with the two ways to write under it. */
export interface UidlistLock {
  readonly dir: string;
  /**
   * Appends records (UIDs above every existing one, ascending) and fsyncs the file. The header's N is not
   * rewritten (Dovecot does the same; readers take max(N, last + 1)). Keeps the lock.
   */
  append(records: readonly UidlistRecord[]): Promise<void>;
  /** append() of records without extensions given as parallel arrays (formatUidlistLines). */
  appendLines(uids: ArrayLike<number>, names: readonly string[], ends: ArrayLike<number>): Promise<void>;
  /** Replaces the file atomically with `list` and releases the lock. */
  rewrite(list: { readonly header: UidlistHeader; readonly records: readonly UidlistRecord[] }): Promise<void>;
  release(): Promise<void>;
  /** Keeps the lock fresh during long work (stale after 2 minutes). */
  touch(): Promise<void>;
}

/** Takes `<dir>/dovecot-uidlist.lock` (waits, removes a stale one; EAGAIN after the timeout). */
export async function lockUidlist(dir: string, options: DotlockOptions = {}): Promise<UidlistLock> {
  const lock: Dotlock = await acquireDotlock(join(dir, UIDLIST_FILE), options);
  return {
    dir,
    // Only while the lock is still ours: one taken over as stale is another writer's (DotlockLostError).
    async append(records) {
      if (records.length === 0) return;
      await lock.verify();
      await appendText(lock.path, records.map(formatUidlistRecord).join(''));
    },
    async appendLines(uids, names, ends) {
      if (uids.length === 0) return;
      await lock.verify();
      await appendText(lock.path, formatUidlistLines(uids, names, ends));
    },
    rewrite: (list) => lock.replace(formatUidlist(list)),
    release: () => lock.release(),
    touch: () => lock.touch(),
  };
}

/**
 * O_APPEND then fsync: the lines go after whatever the file holds, never over it. No O_CREAT: lines without
 * a header would be a broken file (the first write is a rewrite()). A file whose last line lacks its newline
 * (another writer's append cut short) gets one first, or the first line appended would be glued to it and
 * lost (readers take an unended last line for no record).
 */
async function appendText(path: string, text: string | Buffer): Promise<void> {
  const handle = await open(path, constants.O_RDWR | constants.O_APPEND | constants.O_NOFOLLOW);
  try {
    const lines = typeof text === 'string' ? Buffer.from(text) : text;
    const size = (await handle.stat()).size;
    const last = Buffer.alloc(1);
    const unended = size > 0 && (await handle.read(last, 0, 1, size - 1)).bytesRead === 1 && last[0] !== 0x0a;
    const bytes = unended ? Buffer.concat([Buffer.from('\n'), lines]) : lines;
    for (let at = 0; at < bytes.length; ) at += (await handle.write(bytes, at, bytes.length - at)).bytesWritten;
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Convenience for a caller that appends and nothing else. */
export async function appendToUidlist(dir: string, records: readonly UidlistRecord[], options: DotlockOptions = {}): Promise<void> {
  const lock = await lockUidlist(dir, options);
  try {
    await lock.append(records);
  } finally {
    await lock.release();
  }
}
