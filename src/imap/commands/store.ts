/**
 * STORE and UID STORE (RFC 3501 §6.4.6): FLAGS, +FLAGS, -FLAGS, each with .SILENT, a flag list or bare
 * flags; CONDSTORE's UNCHANGEDSINCE modifier (RFC 7162 §3.1.3) with [MODIFIED set] for the messages it
 * left alone (sequence numbers, or UIDs for UID STORE).
 *
 * The untagged FETCH responses are Dovecot's: one per message whose flags changed (none for a message the
 * command did not change), `(FLAGS (...))`, with `UID n` first for UID STORE (and for STORE once QRESYNC is on) and `MODSEQ (n)` before FLAGS
 * once CONDSTORE is on; with .SILENT, nothing — or only `(MODSEQ (n))` once CONDSTORE is on (RFC 7162
 * §3.1.3) — unless the result shows a change someone else made meanwhile, which is told (RFC 3501 §6.4.6). A keyword the mailbox never had is announced first with FLAGS and PERMANENTFLAGS. A read-only
 * mailbox answers OK "Store ignored" as Dovecot does. \Recent can't be stored (BAD).
 */
import type { Flag, FlagOp } from '../../store/mailbox/mailbox-store.js';
import { ParseError, SELECTED, command, ok } from '../command.js';
import { settableFlag, settableFlagList } from '../flags-arg.js';
import { atom, list, num, type ImapValue } from '../wire/encoder.js';
import { compressNumbers, type SequenceSet } from '../wire/sequence-set.js';

interface StoreArgs {
  readonly set: SequenceSet;
  readonly unchangedSince?: number;
  readonly op: FlagOp;
  readonly silent: boolean;
}

const ITEM = /^([+-]?)FLAGS(\.SILENT)?$/;

function sameSet(a: readonly Flag[], b: readonly Flag[]): boolean {
  return a.length === b.length && a.every((f) => b.includes(f));
}

/** The flags `op` alone makes of `flags`. */
function applyOp(flags: readonly Flag[], op: FlagOp): Flag[] {
  if (op.mode === 'replace') return [...op.flags];
  if (op.mode === 'remove') return flags.filter((f) => !op.flags.includes(f));
  return [...flags, ...op.flags.filter((f) => !flags.includes(f))];
}

export const store = command<StoreArgs>({
  name: 'STORE',
  states: SELECTED,
  uidForm: true,
  // RFC 3501 §7.4.1: sequence numbers must stay valid while the client reads STORE's FETCH responses.
  expungeSafe: false,
  parse(args) {
    args.sp();
    const set = args.sequenceSet();
    args.sp();
    let unchangedSince: number | undefined;
    if (args.peek() === 0x28) {
      args.list((c) => {
        const at = c.position;
        const name = c.atom('a store modifier').toUpperCase();
        if (name !== 'UNCHANGEDSINCE') throw new ParseError(`Unknown STORE modifier ${name}`, at);
        if (unchangedSince !== undefined) throw new ParseError('UNCHANGEDSINCE given twice', at);
        c.sp();
        unchangedSince = Number(c.number64('a mod-sequence value'));
        return name;
      }, { allowEmpty: false, what: 'a list of store modifiers' });
      args.sp();
    }
    const at = args.position;
    const item = ITEM.exec(args.atom('+FLAGS, -FLAGS or FLAGS').toUpperCase());
    if (item === null) throw new ParseError('Invalid arguments', at);
    args.sp();
    let flags: Flag[];
    if (args.peek() === 0x28) flags = settableFlagList(args);
    else {
      flags = [settableFlag(args)];
      while (args.tryChar(' ')) flags.push(settableFlag(args));
    }
    const mode = item[1] === '+' ? 'add' : item[1] === '-' ? 'remove' : 'replace';
    const op: FlagOp = { mode, flags: [...new Set(flags)] };
    const silent = item[2] !== undefined;
    return unchangedSince === undefined ? { set, op, silent } : { set, unchangedSince, op, silent };
  },
  async run(session, { set, unchangedSince, op, silent }, info) {
    const selected = session.selected!;
    if (unchangedSince !== undefined) session.enable('CONDSTORE');
    const uids = selected.resolve(set, info.uid);
    if (selected.readOnly) return ok('Store ignored with read-only mailbox.');
    const before = new Map(uids.map((uid) => [uid, { flags: selected.flagsOf(uid)?.filter((f) => f !== '\\Recent') ?? [], modseq: selected.modseqOf(uid) }]));
    const { updated, modified } = await selected.handle.setFlags(uids, op, unchangedSince === undefined ? {} : { unchangedSince });
    const condstore = session.enabled.has('CONDSTORE');
    const out = session.out;
    if (selected.learnKeywords(updated.flatMap((r) => r.flags))) {
      out.untagged(selected.flagsResponse());
      out.status('*', 'OK', 'Flags permitted.', selected.permanentFlags());
    }
    const changed: { uid: number; flags: boolean }[] = [];
    for (const r of updated) {
      const known = before.get(r.uid);
      if (known === undefined || selected.seqOf(r.uid) === undefined) continue;
      if (sameSet(known.flags, r.flags) && known.modseq === r.modseq) continue;
      // RFC 3501 §6.4.6: even with .SILENT, flags someone else changed meanwhile are told.
      const external = !sameSet(applyOp(known.flags, op), r.flags);
      if (silent && !condstore && !external) continue;
      changed.push({ uid: r.uid, flags: !silent || external });
    }
    selected.recordFlags(updated);
    for (const { uid, flags } of changed) {
      const items: ImapValue[] = [];
      // QRESYNC: every FETCH a flag change causes carries the UID (RFC 7162 §3.2.4; Dovecot too)
      if (info.uid || session.enabled.has('QRESYNC')) items.push(atom('UID'), num(uid));
      if (condstore) items.push(atom('MODSEQ'), list([num(selected.modseqOf(uid)!)]));
      if (flags) items.push(atom('FLAGS'), selected.flagsValue(uid));
      out.untagged([num(selected.seqOf(uid)!), atom('FETCH'), list(items)]);
    }
    if (modified.length > 0) {
      const numbers = info.uid ? modified : modified.map((uid) => selected.seqOf(uid)).filter((n) => n !== undefined);
      return ok('Conditional store failed.', { name: 'MODIFIED', args: compressNumbers(numbers) });
    }
    return ok('Store completed.');
  },
});
