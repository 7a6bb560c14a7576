/**
 * The selected mailbox as the client knows it: its sequence numbers (position → UID), each message's
 * flags and MODSEQ as last told to the client, and the UIDs this session holds as \Recent. The store's
 * handle moves on as other sessions and deliveries change the mailbox; `update()` asks it what changed
 * and tells the client in untagged responses — EXPUNGE only when the command allows it (RFC 3501 §7.4.1),
 * otherwise the expunged messages stay in the view (and keep their sequence numbers) until it does.
 * FETCH, SEARCH and STORE resolve their sequence sets here, against the view the client has.
 */
import type { Flag, Mailbox, MailboxStatus, MessageList, MessageRecord, RecordColumns } from '../store/mailbox/mailbox-store.js';
import { lowerBound, positionOf } from '../store/mailbox/message-list.js';
import { ParseError, type ResponseWriter } from './command.js';
import { compressNumbers, resolveSequenceNumbers, resolveUids, type SequenceSet } from './wire/sequence-set.js';
import { RecentUids } from './recent-uids.js';
import { missingUids } from './vanished.js';
import { atom, list, num, type ImapValue, type ResponseCode } from './wire/encoder.js';

interface Known {
  readonly flags: readonly Flag[];
  readonly modseq: number;
}

export interface UpdateOptions {
  /** Untagged EXPUNGE may go out now (not during FETCH, STORE, SEARCH; always during their UID forms). */
  readonly expunges: boolean;
  /** CONDSTORE is on (RFC 7162 §3.2): FETCH updates carry MODSEQ. */
  readonly condstore: boolean;
  /** QRESYNC is on (RFC 7162 §3.2.10): expunges are told as one `VANISHED uids` instead of EXPUNGEs. */
  readonly qresync?: boolean;
}

export class SelectedMailbox {
  /** The client's view: UIDs in sequence order (ascending); the snapshot's array until the view changes. */
  private uids: readonly number[];
  /** Whether `uids` is this view's own array (else shared with the store: copied before a change). */
  private ownUids = false;
  /**
   * What the client was told of each message: the snapshot's arrays (shared with other sessions, never
   * changed), with `told` over them for messages whose flags changed or that came later, and `gone` for
   * snapshot messages no longer in the view. No per-message state is built at SELECT.
   */
  private readonly base: MessageList;
  private readonly told = new Map<number, Known>();
  private readonly gone = new Set<number>();
  private readonly recent: RecentUids;
  private readonly keywords: Set<string>;
  /** Expunged in the store, not yet told to the client. */
  private readonly pendingExpunge = new Set<number>();
  /** The MODSEQ the next `changesSince` starts from. */
  private modseq: number;
  /** UIDNEXT as the client knows it: every UID below it the view lacks is expunged (VANISHED (EARLIER)). */
  private uidNext: number;
  /** The MODSEQ up to which the client was told everything, expunges included (see `toldModseq`). */
  private fullModseq: number;

  private constructor(
    /** The store's handle (FETCH reads details and content through it, STORE sets flags). */
    readonly handle: Mailbox,
    list: MessageList,
    /** The mailbox's status when it was selected (SELECT's responses). */
    readonly selectStatus: MailboxStatus,
    recent: readonly number[],
  ) {
    this.base = list;
    this.uids = list.uids;
    this.recent = new RecentUids(recent, list.uids);
    this.keywords = new Set(selectStatus.keywords);
    this.modseq = selectStatus.highestModseq;
    this.uidNext = selectStatus.uidNext;
    this.fullModseq = selectStatus.highestModseq;
  }

  /** Takes the handle's snapshot as the client's first view (SELECT/EXAMINE). */
  static async open(handle: Mailbox): Promise<SelectedMailbox> {
    const { list, status, recent } = await handle.snapshot();
    return new SelectedMailbox(handle, list, status, recent);
  }

  /** The snapshot position of a UID still in the view, or -1. */
  private basePosition(uid: number): number {
    const i = positionOf(this.base.uids, uid);
    return i >= 0 && !this.gone.has(uid) ? i : -1;
  }

  private isKnown(uid: number): boolean {
    return this.told.has(uid) || this.basePosition(uid) >= 0;
  }

  private knownFlags(uid: number): readonly Flag[] | undefined {
    const k = this.told.get(uid);
    if (k !== undefined) return k.flags;
    const i = this.basePosition(uid);
    return i < 0 ? undefined : this.base.flags[i];
  }

  private knownModseq(uid: number): number | undefined {
    const k = this.told.get(uid);
    if (k !== undefined) return k.modseq;
    const i = this.basePosition(uid);
    return i < 0 ? undefined : this.base.modseqs[i];
  }

  private forget(uid: number): void {
    this.told.delete(uid);
    this.gone.add(uid);
  }

  get name(): string {
    return this.handle.name;
  }

  get readOnly(): boolean {
    return this.handle.readOnly;
  }

  get uidValidity(): number {
    return this.handle.uidValidity;
  }

  /** EXISTS as the client knows it. */
  get count(): number {
    return this.uids.length;
  }

  /** The client's \Recent count. */
  get recentCount(): number {
    return this.recent.size;
  }

  /**
   * The HIGHESTMODSEQ a QRESYNC client may resume from: the view's, or while expunges are held back (RFC
   * 3501 §7.4.1) the one from before them, which is lower than theirs as the RFC 7162 §3.2 errata asks
   * (the client has meanwhile seen higher MODSEQs in FETCHes). Dovecot's replies carry the same.
   */
  get toldModseq(): number {
    return this.pendingExpunge.size > 0 ? this.fullModseq : this.modseq;
  }

  /**
   * VANISHED (EARLIER)'s UIDs (imap/vanished.ts): those `set` names (`*` is UIDNEXT-1; undefined is
   * 1:UIDNEXT-1) below the client's UIDNEXT and above `floor` that the view no longer has. Messages
   * expunged but not yet told stay in the view, so they come as plain VANISHED later, never twice.
   */
  vanishedEarlier(set: SequenceSet | undefined, floor = 0): string {
    return missingUids(set ?? [{ from: 1, to: '*' }], this.uidNext - 1, this.uids, floor);
  }

  /** The UID at a sequence number (1-based), or undefined. */
  uidAt(seq: number): number | undefined {
    return this.uids[seq - 1];
  }

  /** The sequence number of a UID in the client's view, or undefined. */
  seqOf(uid: number): number | undefined {
    const i = positionOf(this.uids, uid);
    return i < 0 ? undefined : i + 1;
  }

  /** Every UID of the view, in sequence order (do not modify). */
  allUids(): readonly number[] {
    return this.uids;
  }

  /** The flags to show for a message, \Recent included when this session holds it. */
  flagsOf(uid: number): readonly Flag[] | undefined {
    const flags = this.knownFlags(uid);
    if (flags === undefined) return undefined;
    return ordered(flags, this.recent.has(uid));
  }

  modseqOf(uid: number): number | undefined {
    return this.knownModseq(uid);
  }

  isRecent(uid: number): boolean {
    return this.recent.has(uid);
  }

  /** Expunged in the store but still in the client's view (a FETCH of it finds no details). */
  isExpungePending(uid: number): boolean {
    return this.pendingExpunge.has(uid);
  }

  /** Whether any message is expunged in the store but still in the view (else isExpungePending is false for all). */
  get hasPendingExpunges(): boolean {
    return this.pendingExpunge.size > 0;
  }

  /** Whether this session holds \Recent for any message (else isRecent is false for all). */
  get hasRecent(): boolean {
    return this.recent.size > 0;
  }

  /** The sequence number of the first message without \Seen (SELECT's [UNSEEN n]), or undefined. */
  firstUnseen(): number | undefined {
    // Unchanged since SELECT (when this is asked): the store's answer.
    if (this.uids === this.base.uids && this.told.size === 0) return this.base.firstUnseen < 0 ? undefined : this.base.firstUnseen + 1;
    for (let i = 0; i < this.uids.length; i++) if (!this.knownFlags(this.uids[i]!)!.includes('\\Seen')) return i + 1;
    return undefined;
  }

  /** The flags of a message as a list value (FETCH FLAGS), \Recent included when this session holds it. */
  flagsValue(uid: number): ImapValue {
    return list((this.flagsOf(uid) ?? []).map(atom));
  }

  /**
   * `FLAGS (...)`: the system flags (in Dovecot's order: \Answered \Flagged \Deleted \Seen \Draft) and every
   * keyword used in the mailbox (an untagged response's values).
   */
  flagsResponse(): ImapValue[] {
    return [atom('FLAGS'), list([...SYSTEM_FLAGS, ...[...this.keywords].sort()].map(atom))];
  }

  /** `[PERMANENTFLAGS (...)]`: nothing when read-only, else FLAGS plus \* (new keywords may be made). */
  permanentFlags(): ResponseCode {
    const flags = this.readOnly ? [] : [...SYSTEM_FLAGS, ...[...this.keywords].sort(), '\\*'];
    return { name: 'PERMANENTFLAGS', args: [list(flags.map(atom))] };
  }

  /**
   * A parsed sequence set as the UIDs it names in the client's view, ascending and without repeats.
   * `byUid`: the numbers are UIDs (UID commands); UIDs not in the view are left out, and `*` is the largest
   * UID. Otherwise they are sequence numbers: one past EXISTS (or `*` in an empty mailbox) is a ParseError,
   * answered BAD as Dovecot does ("Invalid messageset").
   */
  resolve(set: SequenceSet, byUid: boolean): number[] {
    if (byUid) return resolveUids(set, this.uids);
    const seqs = resolveSequenceNumbers(set, this.uids.length, 'strict');
    if (seqs === undefined) throw new ParseError('Invalid messageset', 0);
    return seqs.map((seq) => this.uids[seq - 1]!);
  }

  /**
   * Flags the client has now been told by the command itself (STORE's FETCH responses, or a .SILENT STORE
   * whose result the client knows): a later update does not repeat them.
   */
  recordFlags(records: readonly MessageRecord[]): void {
    let next = 0;
    for (const r of records) next = this.recordOne(r.uid, r.flags, r.modseq, next);
  }

  /** recordFlags for the messages at `positions` (ascending UIDs) of `columns` (FETCH FLAGS from the store's records). */
  recordColumns(columns: RecordColumns, positions: readonly number[]): void {
    let next = 0;
    for (const i of positions) next = this.recordOne(columns.uids[i]!, columns.flags[i]!, columns.modseqs[i]!, next);
  }

  /** Records one message as told; the snapshot position to try first for the next (records come in UID order). */
  private recordOne(uid: number, flags: readonly Flag[], modseq: number, next: number): number {
    const told = this.told.get(uid);
    if (told === undefined) {
      const base = this.base;
      const i = base.uids[next] === uid ? next : lowerBound(base.uids, uid);
      if (base.uids[i] !== uid || (this.gone.size > 0 && this.gone.has(uid))) return next;
      // FETCH FLAGS of a whole mailbox mostly tells what the view has (the store's own arrays): nothing to keep.
      if (base.flags[i] === flags && base.modseqs[i] === modseq) return i + 1;
      this.told.set(uid, { flags, modseq });
      return i + 1;
    }
    if (told.flags !== flags || told.modseq !== modseq) this.told.set(uid, { flags, modseq });
    return next;
  }

  /**
   * Keywords a command is about to show the client itself (STORE's FETCH responses): true when some were
   * new, and the command then sends FLAGS and PERMANENTFLAGS first (as Dovecot does).
   */
  learnKeywords(flags: readonly Flag[]): boolean {
    let added = false;
    for (const f of flags)
      if (!f.startsWith('\\') && !this.keywords.has(f)) {
        this.keywords.add(f);
        added = true;
      }
    return added;
  }

  /**
   * Asks the store what changed and writes it, in Dovecot's order (checked against Dovecot 2.3): FLAGS and
   * PERMANENTFLAGS when a new keyword appeared, FETCH (FLAGS [MODSEQ]) for changed messages, EXPUNGE (held
   * back unless `expunges`; from the highest sequence number down, so each number is valid as written; or
   * one VANISHED with QRESYNC), then EXISTS and RECENT for new messages. True when expunges or new
   * messages were told or expunges are held back (no MODSEQ of theirs was told: a QRESYNC reply then says
   * HIGHESTMODSEQ, `toldModseq`, as Dovecot's do).
   */
  async update(out: ResponseWriter, options: UpdateOptions): Promise<boolean> {
    const changes = await this.handle.changesSince(this.modseq);
    this.modseq = Math.max(this.modseq, changes.highestModseq);
    for (const uid of changes.expunged) if (this.isKnown(uid)) this.pendingExpunge.add(uid);
    const touched = [...changes.added, ...changes.changed];
    if (touched.some((r) => r.flags.some((f) => !f.startsWith('\\') && !this.keywords.has(f)))) {
      for (const r of touched) for (const f of r.flags) if (!f.startsWith('\\')) this.keywords.add(f);
      out.untagged(this.flagsResponse());
      if (!this.readOnly) out.status('*', 'OK', 'Flags permitted.', this.permanentFlags());
    }
    // Dovecot's order: flag changes (numbered as the client knows them), expunges, then new messages.
    for (const r of changes.changed) {
      const flags = this.knownFlags(r.uid);
      if (flags === undefined || this.pendingExpunge.has(r.uid)) continue;
      const same = flags.length === r.flags.length && flags.every((f) => r.flags.includes(f));
      this.told.set(r.uid, { flags: r.flags, modseq: r.modseq });
      if (same) continue;
      // QRESYNC: a flag change's FETCH carries the UID (RFC 7162 §3.2.4), in Dovecot's order: UID MODSEQ FLAGS
      const items =
        options.qresync === true
          ? [atom('UID'), num(r.uid), atom('MODSEQ'), list([num(r.modseq)]), atom('FLAGS'), this.flagsValue(r.uid)]
          : [atom('FLAGS'), this.flagsValue(r.uid)];
      if (options.condstore && options.qresync !== true) items.push(atom('MODSEQ'), list([num(r.modseq)]));
      out.untagged([num(this.seqOf(r.uid)!), atom('FETCH'), list(items)]);
    }
    let told = options.expunges && this.pendingExpunge.size > 0;
    if (told) {
      if (options.qresync === true) out.untagged([atom('VANISHED'), atom(compressNumbers([...this.pendingExpunge]))]);
      const seqs: number[] = [];
      for (const uid of this.pendingExpunge) {
        const seq = this.seqOf(uid);
        if (seq !== undefined) seqs.push(seq);
        this.forget(uid);
        this.recent.delete(uid);
      }
      seqs.sort((a, b) => b - a);
      if (options.qresync !== true) for (const seq of seqs) out.untagged([num(seq), atom('EXPUNGE')]);
      this.uids = this.uids.filter((uid) => !this.pendingExpunge.has(uid));
      this.ownUids = true;
      this.pendingExpunge.clear();
    }
    const last = this.uids.length === 0 ? 0 : this.uids[this.uids.length - 1]!;
    const added = changes.added.filter((r) => !this.isKnown(r.uid) && r.uid > last);
    if (added.length > 0) {
      const uids = this.ownUids ? (this.uids as number[]) : this.uids.slice();
      for (const r of added) {
        uids.push(r.uid);
        this.told.set(r.uid, { flags: r.flags, modseq: r.modseq });
      }
      this.uids = uids;
      this.ownUids = true;
      this.recent.add(changes.recent.filter((uid) => this.isKnown(uid)));
      out.untagged([num(this.uids.length), atom('EXISTS')]);
      out.untagged([num(this.recentCount), atom('RECENT')]);
      told = true;
    }
    // Every message below the store's UIDNEXT is now in the view, or was expunged.
    this.uidNext = Math.max(this.uidNext, changes.uidNext);
    if (this.pendingExpunge.size === 0) this.fullModseq = this.modseq;
    return told || this.pendingExpunge.size > 0;
  }

  /** Ends the selection: the store's handle is closed; no EXPUNGE is sent (RFC 3501 §6.3.1). */
  close(): Promise<void> {
    return this.handle.close();
  }
}

/** The system flags in the order Dovecot writes them (FLAGS, PERMANENTFLAGS, FETCH FLAGS). */
const SYSTEM_FLAGS: readonly Flag[] = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];
const SYSTEM_ORDER = new Map<string, number>([...SYSTEM_FLAGS, '\\Recent'].map((f, i) => [f, i]));

/** Flags as Dovecot writes them: system flags in its order, \Recent, then keywords as the store keeps them. */
function ordered(flags: readonly Flag[], recent: boolean): Flag[] {
  const system = flags.filter((f) => SYSTEM_ORDER.has(f)).sort((a, b) => SYSTEM_ORDER.get(a)! - SYSTEM_ORDER.get(b)!);
  if (recent) system.push('\\Recent');
  return [...system, ...flags.filter((f) => !SYSTEM_ORDER.has(f))];
}
