/**
 * LSUB (RFC 3501 §6.3.9): the subscribed mailboxes matching reference + pattern. A level that is not
 * subscribed itself but is the parent of a subscribed name the pattern does not reach ("%" over
 * "foo/bar") is listed with \Noselect, as the RFC describes. Attributes as Dovecot's LSUB: \Noselect for
 * such levels and the special use; no \HasChildren (that is LIST's).
 */
import { AUTHENTICATED, command, ok } from '../command.js';
import { withSubscriptions } from './list.js';
import { ancestors, compilePattern } from '../list-match.js';
import { decodeMutf7 } from '../../mail/mutf7.js';
import { mailboxValue, SEPARATOR } from '../mailbox-name.js';
import { atom, list, quoted } from '../wire/encoder.js';

export const lsub = command<{ reference: string; pattern: string }>({
  name: 'LSUB',
  states: AUTHENTICATED,
  expungeSafe: true,
  parse(args) {
    args.sp();
    const raw = args.astringBytes('a reference name').toString('latin1');
    args.sp();
    return { reference: decodeMutf7(raw) ?? raw, pattern: args.listMailbox() };
  },
  async run(session, { reference, pattern }) {
    const out = session.out;
    if (pattern === '') {
      out.untagged([atom('LSUB'), list([atom('\\Noselect')]), quoted(SEPARATOR), quoted('')]);
      return ok('Lsub completed.');
    }
    const matcher = compilePattern(reference, pattern);
    // A subscribed name with no folder is listed too, with no attributes, as Dovecot's LSUB (RFC 3501 §6.3.9).
    const ghosts = new Set<string>();
    const all = withSubscriptions(await session.mailboxes!.list(), await session.mailboxes!.subscriptions(), ghosts);
    const subscribed = all.filter((m) => m.subscribed);
    const partial = new Set<string>();
    for (const m of subscribed) {
      if (matcher.matches(m.name)) continue;
      for (const parent of ancestors(m.name)) if (matcher.matches(parent)) partial.add(parent);
    }
    for (const m of all) {
      if (m.subscribed && matcher.matches(m.name)) {
        const attrs = ghosts.has(m.name) ? [] : [...(m.selectable ? [] : ['\\Noselect']), ...(m.specialUse === undefined ? [] : [m.specialUse])];
        out.untagged([atom('LSUB'), list(attrs.map(atom)), quoted(SEPARATOR), mailboxValue(m.name)]);
      } else if (partial.has(m.name)) out.untagged([atom('LSUB'), list([atom('\\Noselect')]), quoted(SEPARATOR), mailboxValue(m.name)]);
    }
    return ok('Lsub completed.');
  },
});
