/** NAMESPACE (RFC 2342): one personal namespace, no prefix, '/' as separator; no shared or other users'. */
import { AUTHENTICATED, command, ok } from '../command.js';
import { NIL, atom, list, str } from '../wire/encoder.js';

export const namespace = command<void>({
  name: 'NAMESPACE',
  states: AUTHENTICATED,
  expungeSafe: true,
  parse: () => undefined,
  run(session) {
    session.out.untagged([atom('NAMESPACE'), list([list([str(''), str('/')])]), NIL, NIL]);
    return Promise.resolve(ok('Namespace completed.'));
  },
});
