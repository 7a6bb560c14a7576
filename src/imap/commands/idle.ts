/**
 * IDLE (RFC 2177): "+ idling", then every change to the selected mailbox is sent as it happens (EXPUNGE
 * included) with `* OK Still here` now and then, until the client's DONE. Anything else than DONE ends
 * it with BAD. In the authenticated state it only keeps the connection (nothing to report).
 */
import { AUTHENTICATED, bad, command, ok } from '../command.js';

export const idle = command<void>({
  name: 'IDLE',
  states: AUTHENTICATED,
  expungeSafe: true,
  parse: () => undefined,
  async run(session) {
    session.out.continuation('idling');
    const line = await session.idleUntilLine();
    if (line === undefined) return ok('Idle ended.');
    if (line.toString('latin1').toUpperCase() !== 'DONE') return bad('Expected DONE.');
    return ok('Idle completed.');
  },
});
