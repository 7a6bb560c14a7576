/**
 * CLOSE (RFC 3501 §6.4.2): in a read-write mailbox the \Deleted messages are removed, silently (no
 * untagged EXPUNGE), then back to the authenticated state.
 */
import { SELECTED, command, ok } from '../command.js';

export const close = command<void>({
  name: 'CLOSE',
  states: SELECTED,
  expungeSafe: true,
  parse: () => undefined,
  async run(session) {
    const selected = session.selected!;
    if (!selected.readOnly) await selected.handle.expunge();
    await session.unselect();
    return ok('Close completed.');
  },
});
