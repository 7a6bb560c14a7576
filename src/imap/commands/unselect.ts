/** UNSELECT (RFC 3691): back to the authenticated state, nothing removed, no untagged EXPUNGE. */
import { SELECTED, command, ok } from '../command.js';

export const unselect = command<void>({
  name: 'UNSELECT',
  states: SELECTED,
  expungeSafe: true,
  parse: () => undefined,
  async run(session) {
    await session.unselect();
    return ok('Unselect completed.');
  },
});
