/** LOGIN (RFC 3501 §6.2.3): user name and password as astrings; the rules are the session's (login()). */
import { NOT_AUTHENTICATED, command } from '../command.js';

export const login = command<{ readonly user: string; readonly password: string }>({
  name: 'LOGIN',
  states: NOT_AUTHENTICATED,
  expungeSafe: true,
  parse(args) {
    args.sp();
    const user = args.astring('a user name');
    args.sp();
    const password = args.astring('a password');
    return { user, password };
  },
  run: (session, { user, password }) => session.login(user, password, 'LOGIN'),
});
