/** CHECK (RFC 3501 §6.4.1): the store writes as it goes, so a checkpoint is NOOP in the selected state. */
import { SELECTED, command, ok } from '../command.js';

export const check = command<void>({
  name: 'CHECK',
  states: SELECTED,
  expungeSafe: true,
  parse: () => undefined,
  run: () => Promise.resolve(ok('Check completed.')),
});
