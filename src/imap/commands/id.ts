/**
 * ID (RFC 2971): the client's fields are read (and checked: pairs of string and nstring, or NIL) but not
 * used; the server says its name, as Dovecot does (without a version: no need to tell it to anyone).
 */
import { ANY_STATE, ParseError, command, ok } from '../command.js';
import { atom, list, str } from '../wire/encoder.js';

export const id = command<void>({
  name: 'ID',
  states: ANY_STATE,
  expungeSafe: true,
  parse(args) {
    args.sp();
    if (args.peek() !== 0x28) {
      if (args.atom('"(" or NIL').toUpperCase() !== 'NIL') throw new ParseError('expected "(" or NIL', args.position);
      return;
    }
    const values = args.list((c) => c.nstring());
    if (values.length % 2 !== 0 || values.length > 60) throw new ParseError('expected field and value pairs (at most 30)', args.position);
  },
  run(session) {
    session.out.untagged([atom('ID'), list([str('name'), str('Mailgate')])]);
    return Promise.resolve(ok('ID completed.'));
  },
});
