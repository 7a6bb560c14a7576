/** CAPABILITY (RFC 3501 §6.1.1): the list for the current state and TLS (capabilities.ts). */
import { ANY_STATE, command, ok } from '../command.js';

export const capability = command<void>({
  name: 'CAPABILITY',
  states: ANY_STATE,
  expungeSafe: true,
  parse: () => undefined,
  run(session) {
    session.out.untagged(`CAPABILITY ${session.capabilities().join(' ')}`);
    return Promise.resolve(ok('Capability completed.'));
  },
});
