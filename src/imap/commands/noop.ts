/** NOOP (RFC 3501 §6.1.2): nothing, but the session sends the mailbox's pending updates, EXPUNGE included. */
import { ANY_STATE, command, ok } from '../command.js';

export const noop = command<void>({
  name: 'NOOP',
  states: ANY_STATE,
  expungeSafe: true,
  parse: () => undefined,
  run: () => Promise.resolve(ok('NOOP completed.')),
});
