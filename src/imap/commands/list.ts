/**
 * LIST (RFC 3501 §6.3.8) with the extensions that cost little once names and attributes are at hand:
 * CHILDREN (RFC 3348), SPECIAL-USE (RFC 6154), LIST-EXTENDED (RFC 5258: selection options SUBSCRIBED,
 * REMOTE, RECURSIVEMATCH, SPECIAL-USE; return options SUBSCRIBED, CHILDREN, SPECIAL-USE; several patterns)
 * and LIST-STATUS (RFC 5819: RETURN (STATUS (...))).
 *
 * Attributes as Dovecot 2.3 writes them (checked in preauth mode): a plain LIST gives \Noselect for a
 * level that is only the parent of others, then \HasChildren or \HasNoChildren, then the special use;
 * an extended LIST gives only what was asked for (\NonExistent for such parents, RFC 5258 §3), and a
 * parent that does not match SUBSCRIBED itself but has a subscribed descendant the patterns do not list
 * gets CHILDINFO with RECURSIVEMATCH. `LIST "" ""` answers the delimiter: `* LIST (\Noselect) "/" ""`.
 *
 * SUBSCRIBED also lists subscribed names that are no folder, with \NonExistent (subscribed-names.ts).
 */
import type { MailboxInfo } from '../../store/mailbox/mailbox-store.js';
import { AUTHENTICATED, ParseError, command, ok, type ArgCursor, type SessionContext } from '../command.js';
import { compilePattern, referenceRoot, type ListPattern } from '../list-match.js';
import { decodeMutf7 } from '../../mail/mutf7.js';
import { mailboxValue, SEPARATOR } from '../mailbox-name.js';
import { withSubscribedNames, type ListedName } from '../subscribed-names.js';
import { atom, list as listOf, quoted, type ImapValue } from '../wire/encoder.js';
import { readStatusItems, writeStatus, type StatusItem } from './status.js';

export interface ListArgs {
  readonly reference: string;
  readonly patterns: readonly string[];
  /** Any LIST-EXTENDED syntax was used (selection options, RETURN, or a list of patterns). */
  readonly extended: boolean;
  readonly select: { readonly subscribed: boolean; readonly recursive: boolean; readonly specialUse: boolean };
  readonly returns: { readonly subscribed: boolean; readonly children: boolean; readonly specialUse: boolean; readonly status?: readonly StatusItem[] };
}

/** The reference: a mailbox name, decoded from mUTF-7 when it is valid (matching is on Unicode names). */
function reference(args: ArgCursor): string {
  const raw = args.astringBytes('a reference name').toString('latin1');
  return decodeMutf7(raw) ?? raw;
}

function options(args: ArgCursor, known: readonly string[], what: string): string[] {
  return args.list((c) => {
    const at = c.position;
    const word = c.atom(what).toUpperCase();
    if (!known.includes(word)) throw new ParseError(`Unknown ${what}s`, at);
    return word;
  }, { what: `a list of ${what}s` });
}

export function parseList(args: ArgCursor): ListArgs {
  args.sp();
  let extended = false;
  const select = { subscribed: false, recursive: false, specialUse: false };
  if (args.peek() === 0x28) {
    const at = args.position;
    extended = true;
    const words = options(args, ['SUBSCRIBED', 'REMOTE', 'RECURSIVEMATCH', 'SPECIAL-USE'], 'select option');
    select.subscribed = words.includes('SUBSCRIBED');
    select.recursive = words.includes('RECURSIVEMATCH');
    select.specialUse = words.includes('SPECIAL-USE');
    // RFC 5258 §3: RECURSIVEMATCH only qualifies another selection option.
    if (select.recursive && !select.subscribed) throw new ParseError('RECURSIVEMATCH must not be the only selection', at);
    args.sp();
  }
  const ref = reference(args);
  args.sp();
  let patterns: string[];
  if (args.peek() === 0x28) {
    extended = true;
    patterns = args.list((c) => c.listMailbox(), { allowEmpty: false, what: 'a list of mailbox patterns' });
  } else patterns = [args.listMailbox()];
  const returns: { subscribed: boolean; children: boolean; specialUse: boolean; status?: StatusItem[] } = { subscribed: false, children: false, specialUse: false };
  if (args.tryChar(' ')) {
    const at = args.position;
    if (args.atom('RETURN').toUpperCase() !== 'RETURN') throw new ParseError('expected RETURN', at);
    extended = true;
    args.sp();
    args.list((c) => {
      const where = c.position;
      const word = c.atom('a return option').toUpperCase();
      if (word === 'SUBSCRIBED') returns.subscribed = true;
      else if (word === 'CHILDREN') returns.children = true;
      else if (word === 'SPECIAL-USE') returns.specialUse = true;
      else if (word === 'STATUS') {
        c.sp();
        returns.status = readStatusItems(c);
      } else throw new ParseError('Unknown return options', where);
      return word;
    }, { what: 'a list of return options' });
  }
  return { reference: ref, patterns, extended, select, returns };
}

/** One LIST line's attributes for a mailbox. */
function attributes(info: MailboxInfo, args: ListArgs): string[] {
  // A subscribed name with no folder: Dovecot's (\Subscribed \NonExistent) order.
  if ((info as ListedName).nonexistent === true) return ['\\Subscribed', '\\NonExistent'];
  const attrs: string[] = [];
  if (!args.extended) {
    if (!info.selectable) attrs.push('\\Noselect');
    attrs.push(info.hasChildren ? '\\HasChildren' : '\\HasNoChildren');
    if (info.specialUse !== undefined) attrs.push(info.specialUse);
    return attrs;
  }
  if (!info.selectable) attrs.push('\\NonExistent');
  if ((args.select.subscribed || args.returns.subscribed) && info.subscribed) attrs.push('\\Subscribed');
  if (args.returns.children) attrs.push(info.hasChildren ? '\\HasChildren' : '\\HasNoChildren');
  if ((args.select.specialUse || args.returns.specialUse) && info.specialUse !== undefined) attrs.push(info.specialUse);
  return attrs;
}

/** Whether a mailbox passes the selection options (all of them, RFC 5258 §3). */
function selected(info: MailboxInfo, args: ListArgs): boolean {
  if (args.select.subscribed && !info.subscribed) return false;
  if (args.select.specialUse && info.specialUse === undefined) return false;
  return true;
}

export async function runList(session: SessionContext, args: ListArgs, verb: 'LIST'): Promise<void> {
  const out = session.out;
  const patterns = args.patterns.filter((p) => p !== '');
  if (patterns.length === 0) {
    // RFC 3501 §6.3.8: an empty pattern asks for the delimiter and the reference's root.
    const root = referenceRoot(args.reference);
    out.untagged([atom(verb), listOf([atom('\\Noselect')]), quoted(SEPARATOR), mailboxValue(root)]);
    return;
  }
  const compiled: ListPattern[] = patterns.map((p) => compilePattern(args.reference, p));
  // SUBSCRIBED lists subscribed names, folders or not (subscribed-names.ts); otherwise only folders.
  const folders = await session.mailboxes!.list();
  const all = args.select.subscribed ? withSubscribedNames(folders, await session.mailboxes!.subscriptions()) : folders;
  for (const info of all) {
    if (!compiled.some((p) => p.matches(info.name))) continue;
    let childInfo = false;
    if (!selected(info, args)) {
      // RECURSIVEMATCH: a parent that does not qualify itself is listed (CHILDINFO) when a descendant
      // qualifies that the patterns do not list themselves (RFC 5258 §3, the \NonExistent rule's second case).
      if (!args.select.recursive) continue;
      const prefix = info.name + SEPARATOR;
      const qualifies = (other: MailboxInfo): boolean =>
        other.name.startsWith(prefix) && selected(other, args) && !compiled.some((p) => p.matches(other.name));
      if (!all.some(qualifies)) continue;
      childInfo = true;
    }
    const attrs = attributes(info, args);
    const line: ImapValue[] = [atom(verb), listOf(attrs.map(atom)), quoted(SEPARATOR), mailboxValue(info.name)];
    if (childInfo) line.push(listOf([atom('CHILDINFO'), listOf([quoted('SUBSCRIBED')])]));
    out.untagged(line);
    if (args.returns.status !== undefined && info.selectable) {
      writeStatus(session, info.name, args.returns.status, await session.mailboxes!.status(info.name));
    }
  }
}

export const list = command<ListArgs>({
  name: 'LIST',
  states: AUTHENTICATED,
  expungeSafe: true,
  parse: parseList,
  async run(session, args) {
    await runList(session, args, 'LIST');
    return ok('List completed.');
  },
});
