/** CAPABILITY (RFC 3501 §6.1.1): the list for the current state and TLS (capabilities.ts). */
import { ANY_STATE, command, ok } from '../command.js';
import { atom } from '../wire/encoder.js';

export const capability = command<void>({
  name: 'CAPABILITY',
  states: ANY_STATE,
  expungeSafe: true,
  parse: () => undefined,
  run(session) {
    session.out.untagged([atom('CAPABILITY'), ...session.capabilities().map(atom)]);
    return Promise.resolve(ok('Capability completed.'));
  },
});
