/**
 * STARTTLS (RFC 3501 §6.2.1): OK, then TLS on the same connection. The session switches after writing the
 * OK and drops whatever the client sent after the command (RFC 3501 §11.1 / RFC 2595 §3.1: no injection).
 */
import { NOT_AUTHENTICATED, bad, command, ok } from '../command.js';

export const starttls = command<void>({
  name: 'STARTTLS',
  states: NOT_AUTHENTICATED,
  expungeSafe: true,
  parse: () => undefined,
  run(session) {
    if (session.tls) return Promise.resolve(bad('TLS is already active.'));
    if (!session.capabilities().includes('STARTTLS')) return Promise.resolve(bad('TLS support isn\'t enabled.'));
    session.startTls();
    return Promise.resolve(ok('Begin TLS negotiation now.'));
  },
});
