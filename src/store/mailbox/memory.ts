/**
 * The in-memory mailbox store: the reference semantics of the contract in mailbox-store.ts, used by the IMAP
 * and POP3 tests so they run without disks (go-imap's server keeps such a backend for the same reason). It
 * keeps every rule the Maildir store keeps — UIDs never reused, MODSEQ strictly increasing, \Recent claimed
 * by one session, quota refusals leaving nothing — and nothing of the files.
 */
import { Readable } from 'node:stream';
import {
  MailboxError,
  SPECIAL_FOLDERS,
  type AppendInput,
  type ChangeSet,
  type CopyResult,
  type DeliveryOptions,
  type Flag,
  type FlagOp,
  type InternalDate,
  type Mailbox,
  type MailboxDelivery,
  type MailboxInfo,
  type MailboxStatus,
  type MailboxSnapshot,
  type MailboxStore,
  type MessageContent,
  type MessageDetails,
  type MessageRecord,
  type MetaKind,
  type QuotaUsage,
  type RecordColumns,
  type SpecialUse,
  type UserMailboxes,
} from './mailbox-store.js';
import { checkMailboxName } from '../maildir/mailbox-names.js';
import { listOf, snapshotOf } from './message-list.js';

export interface MemoryStoreOptions {
  /** Bytes per user over all folders (0 or absent: none). */
  readonly quotaBytes?: number;
  readonly quotaMessages?: number;
  /** The largest message APPEND takes (TOOBIG above). */
  readonly appendLimit?: number;
  /** The clock for internal dates and UIDVALIDITY (tests pin it). */
  readonly now?: () => number;
}

interface StoredMessage {
  readonly uid: number;
  flags: Set<Flag>;
  modseq: number;
  readonly content: Buffer;
  readonly vsize: number;
  readonly internalDate: InternalDate;
  readonly meta: Map<MetaKind, string>;
}

interface Folder {
  name: string;
  readonly uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /** The lowest UID no session has claimed as \Recent. */
  recentFloor: number;
  readonly messages: Map<number, StoredMessage>;
  readonly keywords: Set<string>;
  specialUse?: SpecialUse;
  /** False once deleted while it had children (RFC 3501 §6.3.4: the name stays as \Noselect). */
  selectable: boolean;
  readonly listeners: Set<() => void>;
}

interface UserState {
  readonly folders: Map<string, Folder>;
  readonly subscribed: Set<string>;
  lastValidity: number;
  maildropHolder?: string;
}

/** CRLF size of LF-or-CRLF bytes: every LF not preceded by CR counts one more. */
export function crlfSize(bytes: Buffer): number {
  let size = bytes.length;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) if (i === 0 || bytes[i - 1] !== 13) size++;
  return size;
}

const INBOX = 'INBOX';

/** A valid name in its canonical form (INBOX in any case at the top level is INBOX), or CANNOT. */
function checkName(name: string): string {
  const check = checkMailboxName(name);
  if (!check.ok) throw new MailboxError('CANNOT', check.reason);
  return check.name;
}

function notify(folder: Folder): void {
  if (folder.listeners.size === 0) return;
  // Listeners run after the mutation's promise settles, as the Maildir store's (fs.watch, other processes) do.
  setImmediate(() => {
    for (const listener of folder.listeners) listener();
  });
}

function record(message: StoredMessage): MessageRecord {
  return { uid: message.uid, flags: [...message.flags], modseq: message.modseq, vsize: message.vsize };
}

function contentOf(bytes: Buffer): MessageContent {
  return {
    size: bytes.length,
    read: (start = 0, end = bytes.length) => Readable.from([bytes.subarray(start, end)]),
    readAll: () => Promise.resolve(bytes),
    close: () => Promise.resolve(),
  };
}

export class MemoryMailboxStore implements MailboxStore {
  private readonly users = new Map<string, UserState>();
  private readonly now: () => number;
  readonly delivery: MailboxDelivery;

  constructor(private readonly options: MemoryStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.delivery = {
      deliver: async (user: string, source: () => Readable, options: DeliveryOptions) => {
        const chunks: Buffer[] = [];
        for await (const chunk of source()) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
        const content = Buffer.concat(chunks);
        const state = this.state(user);
        const folder = this.folder(state, checkName(options.mailbox ?? INBOX));
        this.checkQuota(state, [content]);
        this.add(folder, content, [], undefined);
        return { size: content.length, vsize: crlfSize(content) };
      },
    };
  }

  openUser(user: string): Promise<UserMailboxes> {
    return Promise.resolve(new MemoryUser(this, user, this.state(user)));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** @internal — the state of one user, made with its special-use folders on first sight. */
  state(user: string): UserState {
    let state = this.users.get(user);
    if (state === undefined) {
      state = { folders: new Map(), subscribed: new Set(), lastValidity: 0 };
      this.users.set(user, state);
      this.makeFolder(state, INBOX);
      state.subscribed.add(INBOX);
      for (const [name, use] of SPECIAL_FOLDERS) {
        this.makeFolder(state, name).specialUse = use;
        state.subscribed.add(name);
      }
    }
    return state;
  }

  /** @internal */
  makeFolder(state: UserState, name: string): Folder {
    // Strictly greater than every earlier UIDVALIDITY of this user, so a name created again never reuses one.
    const uidValidity = Math.max(Math.floor(this.now() / 1000), state.lastValidity + 1);
    state.lastValidity = uidValidity;
    const folder: Folder = {
      name,
      uidValidity,
      uidNext: 1,
      highestModseq: 1,
      recentFloor: 1,
      messages: new Map(),
      keywords: new Set(),
      selectable: true,
      listeners: new Set(),
    };
    state.folders.set(name, folder);
    return folder;
  }

  /** @internal — a selectable folder or NONEXISTENT. */
  folder(state: UserState, name: string): Folder {
    const folder = state.folders.get(name);
    if (folder === undefined || !folder.selectable) throw new MailboxError('NONEXISTENT', `Mailbox doesn't exist: ${name}`);
    return folder;
  }

  /** @internal */
  usage(state: UserState): { bytes: number; messages: number } {
    let bytes = 0;
    let messages = 0;
    for (const folder of state.folders.values())
      for (const message of folder.messages.values()) {
        bytes += message.vsize;
        messages++;
      }
    return { bytes, messages };
  }

  /** @internal */
  limits(): { bytesLimit?: number; messagesLimit?: number } {
    const { quotaBytes, quotaMessages } = this.options;
    return {
      ...(quotaBytes !== undefined && quotaBytes > 0 ? { bytesLimit: quotaBytes } : {}),
      ...(quotaMessages !== undefined && quotaMessages > 0 ? { messagesLimit: quotaMessages } : {}),
    };
  }

  /** @internal */
  checkQuota(state: UserState, contents: readonly Buffer[]): void {
    const { bytesLimit, messagesLimit } = this.limits();
    if (bytesLimit === undefined && messagesLimit === undefined) return;
    const used = this.usage(state);
    const adding = contents.reduce((sum, c) => sum + crlfSize(c), 0);
    if (bytesLimit !== undefined && used.bytes + adding > bytesLimit) throw new MailboxError('OVERQUOTA', 'Quota exceeded (mailbox for user is full)');
    if (messagesLimit !== undefined && used.messages + contents.length > messagesLimit) throw new MailboxError('OVERQUOTA', 'Quota exceeded (too many messages)');
  }

  /** @internal */
  checkSize(content: Buffer): void {
    const limit = this.options.appendLimit;
    if (limit !== undefined && limit > 0 && content.length > limit) throw new MailboxError('TOOBIG', `Message is larger than the ${limit}-byte limit`);
  }

  /** @internal — one new message; its UID and MODSEQ are the folder's next. */
  add(folder: Folder, content: Buffer, flags: readonly Flag[], date: InternalDate | undefined, meta?: Map<MetaKind, string>): StoredMessage {
    const message: StoredMessage = {
      uid: folder.uidNext++,
      flags: new Set(flags.filter((f) => f !== '\\Recent')),
      modseq: ++folder.highestModseq,
      content,
      vsize: crlfSize(content),
      internalDate: date ?? { ms: this.now(), tzMinutes: 0 },
      meta: new Map(meta),
    };
    for (const flag of message.flags) if (!flag.startsWith('\\')) folder.keywords.add(flag);
    folder.messages.set(message.uid, message);
    notify(folder);
    return message;
  }
}

class MemoryUser implements UserMailboxes {
  private readonly handles = new Set<MemoryMailbox>();

  constructor(
    private readonly store: MemoryMailboxStore,
    readonly user: string,
    private readonly state: UserState,
  ) {}

  list(): Promise<readonly MailboxInfo[]> {
    const names = new Set(this.state.folders.keys());
    // Parents that were never created themselves are listed as \Noselect, as Dovecot lists them on Maildir++.
    for (const name of [...names]) {
      const parts = name.split('/');
      for (let i = 1; i < parts.length; i++) names.add(parts.slice(0, i).join('/'));
    }
    const sorted = [...names].sort((a, b) => (a === INBOX ? -1 : b === INBOX ? 1 : a < b ? -1 : a > b ? 1 : 0));
    return Promise.resolve(
      sorted.map((name) => {
        const folder = this.state.folders.get(name);
        const info: MailboxInfo = {
          name,
          subscribed: this.state.subscribed.has(name),
          hasChildren: sorted.some((other) => other.startsWith(name + '/')),
          selectable: folder?.selectable ?? false,
          ...(folder?.specialUse === undefined ? {} : { specialUse: folder.specialUse }),
        };
        return info;
      }),
    );
  }

  create(name: string): Promise<void> {
    return attempt(() => {
      const canonical = checkName(name);
      const existing = this.state.folders.get(canonical);
      if (existing?.selectable === true) throw new MailboxError('ALREADYEXISTS', 'Mailbox already exists');
      if (existing !== undefined) this.state.folders.delete(canonical);
      this.store.makeFolder(this.state, canonical);
    });
  }

  delete(name: string): Promise<void> {
    return attempt(() => {
      const canonical = checkName(name);
      if (canonical === INBOX) throw new MailboxError('CANNOT', 'INBOX can not be deleted');
      const folder = this.state.folders.get(canonical);
      const hasChildren = [...this.state.folders.keys()].some((other) => other.startsWith(canonical + '/'));
      if (folder === undefined || (!folder.selectable && !hasChildren)) throw new MailboxError('NONEXISTENT', `Mailbox doesn't exist: ${canonical}`);
      if (!folder.selectable) throw new MailboxError('CANNOT', 'Mailbox has children, delete them first');
      expungeAll(folder);
      if (hasChildren) folder.selectable = false;
      else this.state.folders.delete(canonical);
    });
  }

  rename(from: string, to: string): Promise<void> {
    return attempt(() => {
      const source = checkName(from);
      const target = checkName(to);
      const folder = this.state.folders.get(source);
      if (folder === undefined) throw new MailboxError('NONEXISTENT', `Mailbox doesn't exist: ${source}`);
      if (this.state.folders.has(target) || target.startsWith(source + '/')) throw new MailboxError('ALREADYEXISTS', 'Target mailbox already exists');
      if (source === INBOX) {
        // RFC 3501 §6.3.5: INBOX's messages move to the new name and INBOX stays, empty.
        const created = this.store.makeFolder(this.state, target);
        for (const message of folder.messages.values()) this.store.add(created, message.content, [...message.flags], message.internalDate, message.meta);
        expungeAll(folder);
        return;
      }
      for (const [name, child] of [...this.state.folders]) {
        if (name !== source && !name.startsWith(source + '/')) continue;
        const renamed = target + name.slice(source.length);
        this.state.folders.delete(name);
        child.name = renamed;
        this.state.folders.set(renamed, child);
        if (this.state.subscribed.delete(name)) this.state.subscribed.add(renamed);
      }
    });
  }

  subscribe(name: string, subscribed: boolean): Promise<void> {
    return attempt(() => {
      const canonical = checkName(name);
      // RFC 3501 §6.3.6: subscribing to a name that does not exist is allowed (Dovecot allows it).
      if (subscribed) this.state.subscribed.add(canonical);
      else this.state.subscribed.delete(canonical);
    });
  }

  subscriptions(): Promise<readonly string[]> {
    return attempt(() => [...this.state.subscribed]);
  }

  status(name: string): Promise<MailboxStatus> {
    return attempt(() => statusOf(this.store.folder(this.state, checkName(name))));
  }

  append(name: string, input: AppendInput): Promise<{ readonly uidValidity: number; readonly uid: number }> {
    return attempt(() => {
      const folder = this.store.folder(this.state, checkName(name));
      this.store.checkSize(input.content);
      this.store.checkQuota(this.state, [input.content]);
      const message = this.store.add(folder, input.content, input.flags ?? [], input.internalDate);
      return { uidValidity: folder.uidValidity, uid: message.uid };
    });
  }

  open(name: string, mode: 'read-write' | 'read-only'): Promise<Mailbox> {
    return attempt(() => {
      const folder = this.store.folder(this.state, checkName(name));
      const handle: MemoryMailbox = new MemoryMailbox(this.store, this.state, folder, mode === 'read-only', () => this.handles.delete(handle));
      this.handles.add(handle);
      return handle;
    });
  }

  quota(): Promise<QuotaUsage> {
    return Promise.resolve({ ...this.store.usage(this.state), ...this.store.limits() });
  }

  lockMaildrop(holder: string): Promise<{ release(): Promise<void> } | undefined> {
    if (this.state.maildropHolder !== undefined) return Promise.resolve(undefined);
    this.state.maildropHolder = holder;
    let released = false;
    return Promise.resolve({
      release: () => {
        if (!released && this.state.maildropHolder === holder) this.state.maildropHolder = undefined;
        released = true;
        return Promise.resolve();
      },
    });
  }

  async release(): Promise<void> {
    for (const handle of [...this.handles]) await handle.close();
  }
}

class MemoryMailbox implements Mailbox {
  /** The UIDs this handle's client knows of: the base of the next ChangeSet. */
  private known = new Set<number>();
  private readonly watchers = new Set<() => void>();
  readonly uidValidity: number;

  constructor(
    private readonly store: MemoryMailboxStore,
    private readonly state: UserState,
    private readonly folder: Folder,
    readonly readOnly: boolean,
    private readonly onClose: () => void,
  ) {
    this.uidValidity = folder.uidValidity;
  }

  get name(): string {
    return this.folder.name;
  }

  snapshot(): Promise<MailboxSnapshot> {
    const status = statusOf(this.folder);
    const recent = this.claimRecent();
    this.known = new Set(this.folder.messages.keys());
    return Promise.resolve(snapshotOf(listOf([...this.folder.messages.values()].map(record)), status, recent));
  }

  records(uids: readonly number[]): Promise<RecordColumns> {
    const out = { uids: [] as number[], flags: [] as (readonly Flag[])[], modseqs: [] as number[], vsizes: [] as number[] };
    for (const uid of uids) {
      const message = this.folder.messages.get(uid);
      if (message === undefined) continue;
      const r = record(message);
      out.uids.push(r.uid);
      out.flags.push(r.flags);
      out.modseqs.push(r.modseq);
      out.vsizes.push(r.vsize);
    }
    return Promise.resolve(out);
  }

  changesSince(modseq: number): Promise<ChangeSet> {
    const added: MessageRecord[] = [];
    const changed: MessageRecord[] = [];
    for (const message of this.folder.messages.values()) {
      if (!this.known.has(message.uid)) added.push(record(message));
      else if (message.modseq > modseq) changed.push(record(message));
    }
    const expunged = [...this.known].filter((uid) => !this.folder.messages.has(uid)).sort((a, b) => a - b);
    const recent = this.claimRecent();
    this.known = new Set(this.folder.messages.keys());
    return Promise.resolve({ highestModseq: this.folder.highestModseq, uidNext: this.folder.uidNext, added, changed, expunged, recent });
  }

  details(uids: readonly number[]): Promise<readonly MessageDetails[]> {
    const out: MessageDetails[] = [];
    for (const uid of uids) {
      const message = this.folder.messages.get(uid);
      if (message !== undefined) out.push({ ...record(message), internalDate: message.internalDate, size: message.content.length });
    }
    return Promise.resolve(out);
  }

  openContent(uid: number): Promise<MessageContent | undefined> {
    const message = this.folder.messages.get(uid);
    return Promise.resolve(message === undefined ? undefined : contentOf(message.content));
  }

  readSmall(uids: readonly number[], maxSize: number): Promise<ReadonlyMap<number, Buffer>> {
    const out = new Map<number, Buffer>();
    for (const uid of uids) {
      const content = this.folder.messages.get(uid)?.content;
      if (content !== undefined && content.length <= maxSize) out.set(uid, content);
    }
    return Promise.resolve(out);
  }

  scanContent(uids: readonly number[], each: (uid: number, stored: Buffer) => void): Promise<void> {
    for (const uid of uids) {
      const message = this.folder.messages.get(uid);
      if (message !== undefined) each(uid, message.content);
    }
    return Promise.resolve();
  }

  meta(uids: readonly number[], kind: MetaKind): Promise<ReadonlyMap<number, string>> {
    const out = new Map<number, string>();
    for (const uid of uids) {
      const value = this.folder.messages.get(uid)?.meta.get(kind);
      if (value !== undefined) out.set(uid, value);
    }
    return Promise.resolve(out);
  }

  metaContaining(uids: readonly number[], kind: MetaKind, text: string): Promise<{ readonly found: ReadonlyMap<number, string>; readonly missing: readonly number[] }> {
    const found = new Map<number, string>();
    const missing: number[] = [];
    for (const uid of uids) {
      const value = this.folder.messages.get(uid)?.meta.get(kind);
      if (value === undefined) missing.push(uid);
      else if (value.includes(text)) found.set(uid, value);
    }
    return Promise.resolve({ found, missing });
  }

  saveMeta(kind: MetaKind, entries: ReadonlyMap<number, string>): Promise<void> {
    for (const [uid, value] of entries) this.folder.messages.get(uid)?.meta.set(kind, value);
    return Promise.resolve();
  }

  setFlags(
    uids: readonly number[],
    op: FlagOp,
    options: { readonly unchangedSince?: number } = {},
  ): Promise<{ readonly updated: readonly MessageRecord[]; readonly modified: readonly number[] }> {
    return attempt(() => {
      this.writable();
      const flags = op.flags.filter((f) => f !== '\\Recent');
      const updated: MessageRecord[] = [];
      const modified: number[] = [];
      let changedAny = false;
      for (const uid of uids) {
        const message = this.folder.messages.get(uid);
        if (message === undefined) continue;
        if (options.unchangedSince !== undefined && message.modseq > options.unchangedSince) {
          modified.push(uid);
          continue;
        }
        const next = op.mode === 'replace' ? new Set(flags) : new Set(message.flags);
        if (op.mode === 'add') for (const f of flags) next.add(f);
        if (op.mode === 'remove') for (const f of flags) next.delete(f);
        if (next.size !== message.flags.size || [...next].some((f) => !message.flags.has(f))) {
          message.flags = next;
          message.modseq = ++this.folder.highestModseq;
          changedAny = true;
        }
        updated.push(record(message));
      }
      for (const f of flags) if (!f.startsWith('\\')) this.folder.keywords.add(f);
      if (changedAny) notify(this.folder);
      return { updated, modified };
    });
  }

  copy(uids: readonly number[], to: string): Promise<CopyResult> {
    return attempt(() => this.copyInto(uids, to));
  }

  move(uids: readonly number[], to: string): Promise<CopyResult> {
    return attempt(() => {
      this.writable();
      const result = this.copyInto(uids, to, false);
      for (const [uid] of result.pairs) this.remove(uid);
      if (result.pairs.length > 0) notify(this.folder);
      return result;
    });
  }

  expunge(uids?: readonly number[]): Promise<readonly number[]> {
    return attempt(() => {
      this.writable();
      const only = uids === undefined ? undefined : new Set(uids);
      const removed: number[] = [];
      for (const message of [...this.folder.messages.values()])
        if (message.flags.has('\\Deleted') && (only === undefined || only.has(message.uid))) {
          this.remove(message.uid);
          removed.push(message.uid);
        }
      if (removed.length > 0) notify(this.folder);
      return removed;
    });
  }

  watch(listener: () => void): () => void {
    this.watchers.add(listener);
    this.folder.listeners.add(listener);
    return () => {
      this.watchers.delete(listener);
      this.folder.listeners.delete(listener);
    };
  }

  close(): Promise<void> {
    for (const listener of this.watchers) this.folder.listeners.delete(listener);
    this.watchers.clear();
    this.onClose();
    return Promise.resolve();
  }

  private writable(): void {
    if (this.readOnly) throw new MailboxError('NOPERM', 'Mailbox is read-only');
  }

  private claimRecent(): number[] {
    if (this.readOnly) return [];
    const recent: number[] = [];
    for (const uid of this.folder.messages.keys()) if (uid >= this.folder.recentFloor) recent.push(uid);
    this.folder.recentFloor = this.folder.uidNext;
    return recent;
  }

  private remove(uid: number): void {
    if (this.folder.messages.delete(uid)) this.folder.highestModseq++;
  }

  /** `quota` false for a move: the user's usage does not grow (Dovecot's quota plugin lets moves through). */
  private copyInto(uids: readonly number[], to: string, quota = true): CopyResult {
    const target = this.store.folder(this.state, checkName(to));
    const sources = uids.flatMap((uid) => {
      const message = this.folder.messages.get(uid);
      return message === undefined ? [] : [message];
    });
    if (quota)
      this.store.checkQuota(
        this.state,
        sources.map((m) => m.content),
      );
    const pairs = sources.map((m) => [m.uid, this.store.add(target, m.content, [...m.flags], m.internalDate, m.meta).uid] as const);
    return { uidValidity: target.uidValidity, pairs };
  }
}

function statusOf(folder: Folder): MailboxStatus {
  let unseen = 0;
  let size = 0;
  let recent = 0;
  for (const message of folder.messages.values()) {
    if (!message.flags.has('\\Seen')) unseen++;
    if (message.uid >= folder.recentFloor) recent++;
    size += message.vsize;
  }
  return {
    uidValidity: folder.uidValidity,
    uidNext: folder.uidNext,
    highestModseq: folder.highestModseq,
    messages: folder.messages.size,
    recent,
    unseen,
    size,
    keywords: [...folder.keywords].sort(),
  };
}

function expungeAll(folder: Folder): void {
  if (folder.messages.size === 0) return;
  folder.highestModseq += folder.messages.size;
  folder.messages.clear();
  notify(folder);
}

/** Runs a synchronous step as a promise, so a thrown MailboxError becomes a rejection as the disk store's. */
function attempt<T>(step: () => T): Promise<T> {
  try {
    return Promise.resolve(step());
  } catch (err) {
    return Promise.reject(err as Error);
  }
}
