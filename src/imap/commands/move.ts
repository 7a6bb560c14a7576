/**
 * MOVE and UID MOVE (RFC 6851): as COPY, then the messages leave the selected mailbox. The answer is
 * Dovecot's: `* OK [COPYUID ...] Moved UIDs.` first, then the untagged EXPUNGEs (written by the session's
 * update right after this handler, §4.3 of the RFC), then `OK Move completed.` A read-only mailbox is
 * refused by the store ([NOPERM]) before anything is copied.
 */
import { SELECTED, command, ok } from '../command.js';
import { copyOrMove, copyUidCode, parseCopy, type CopyArgs } from './copy.js';

export const move = command<CopyArgs>({
  name: 'MOVE',
  states: SELECTED,
  uidForm: true,
  expungeSafe: true,
  parse: (args) => parseCopy(args),
  async run(session, args, info) {
    const handle = session.selected!.handle;
    const result = await copyOrMove(session, args, info, (uids, to) => handle.move(uids, to));
    if ('status' in result) return result;
    session.out.status('*', 'OK', 'Moved UIDs.', copyUidCode(result));
    return ok('Move completed.');
  },
});
