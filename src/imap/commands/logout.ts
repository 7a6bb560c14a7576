/** LOGOUT (RFC 3501 §6.1.3): BYE, the tagged OK, then the connection closes. */
import { ANY_STATE, command, ok } from '../command.js';

export const logout = command<void>({
  name: 'LOGOUT',
  states: ANY_STATE,
  expungeSafe: true,
  parse: () => undefined,
  run(session) {
    session.out.status('*', 'BYE', 'Logging out');
    session.logout();
    return Promise.resolve(ok('Logout completed.'));
  },
});
