/**
 * AUTHENTICATE (RFC 3501 §6.2.2) with PLAIN (RFC 4616) only, and its initial response on the command line
 * (SASL-IR, RFC 4959; "=" is an empty one). Otherwise the server sends an empty challenge "+ " and reads one
 * line; "*" aborts (BAD). The response must be valid base64 of [authzid] NUL authcid NUL password; an
 * authzid other than the authcid is refused (no master users).
 */
import { NOT_AUTHENTICATED, bad, command, no } from '../command.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const authenticate = command<{ readonly mechanism: string; readonly initial: string | undefined }>({
  name: 'AUTHENTICATE',
  states: NOT_AUTHENTICATED,
  expungeSafe: true,
  parse(args) {
    args.sp();
    const mechanism = args.atom('a SASL mechanism').toUpperCase();
    if (args.atEnd()) return { mechanism, initial: undefined };
    args.sp();
    return { mechanism, initial: args.atom('an initial response') };
  },
  async run(session, { mechanism, initial }) {
    if (mechanism !== 'PLAIN') return no('Unsupported authentication mechanism.');
    if (!session.passwordsAllowed()) return session.login('', '', 'PLAIN');
    let response = initial;
    if (response === undefined) {
      session.out.continuation('');
      const line = await session.readLine();
      if (line === undefined) return bad('Connection closed.');
      response = line.toString('latin1');
    }
    if (response === '*') return bad('Authentication aborted by client.');
    const text = response === '=' ? '' : response;
    if (!BASE64.test(text)) return bad('Invalid base64 data in the authentication response.');
    const parts = Buffer.from(text, 'base64').toString('utf8').split('\0');
    if (parts.length !== 3) return no('Invalid PLAIN response.', 'AUTHENTICATIONFAILED');
    const [authzid, authcid, password] = parts as [string, string, string];
    if (authzid !== '' && authzid !== authcid) return no('Authorization as another user is not allowed.', 'AUTHORIZATIONFAILED');
    return session.login(authcid, password, 'PLAIN');
  },
});
