/**
 * COMPRESS (RFC 4978): `COMPRESS DEFLATE` is answered OK uncompressed, then the session puts raw DEFLATE
 * under both directions (Connection.startCompress). Logged-in states only, as Dovecot, whose login process
 * does not know the command. Checks in Dovecot 2.3's order: compression already on (NO [COMPRESSIONACTIVE]),
 * then the mechanism. The mechanism is an atom, compared without case; an unknown one is BAD (RFC 4978 §3:
 * "arguments invalid"), where Dovecot answers NO.
 */
import { AUTHENTICATED, bad, command, no, ok } from '../command.js';

export const compress = command<string>({
  name: 'COMPRESS',
  states: AUTHENTICATED,
  expungeSafe: true,
  parse(args) {
    args.sp();
    return args.atom('a compression mechanism');
  },
  run(session, mechanism) {
    if (session.compressed) return Promise.resolve(no('DEFLATE active via COMPRESS already.', 'COMPRESSIONACTIVE'));
    if (mechanism.toUpperCase() !== 'DEFLATE') return Promise.resolve(bad(`Unknown compression mechanism: ${mechanism}`));
    session.compress();
    return Promise.resolve(ok('DEFLATE active'));
  },
});
