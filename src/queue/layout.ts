/**
 * Where the queue keeps its files under <data_dir>/queue/ (as Postfix's queue_directory, with fewer
 * queues: a message stays in messages/ from arrival to removal, and what Postfix says by moving it
 * between incoming/active/deferred/hold, this spool says with a state file and a hold marker):
 *   tmp/        files being written; anything there at start is a crash's leftover and is removed
 *   messages/   ID: envelope + message, written once (queue-file.ts)
 *   state/      ID: which recipients are done, attempts, next attempt (state.ts); absent = nothing tried
 *   hold/       ID: present while the message is on hold (the reason inside)
 *   control/    qmgr.sock: the running scheduler's control socket (flush/hold/release/delete from the CLI)
 */
import { join } from 'node:path';

export interface QueueLayout {
  readonly root: string;
  readonly tmp: string;
  readonly messages: string;
  readonly state: string;
  readonly hold: string;
  readonly control: string;
  readonly socket: string;
  message(id: string): string;
  stateFile(id: string): string;
  holdFile(id: string): string;
}

export function queueLayout(dataDir: string): QueueLayout {
  const root = join(dataDir, 'queue');
  const messages = join(root, 'messages');
  const state = join(root, 'state');
  const hold = join(root, 'hold');
  const control = join(root, 'control');
  return {
    root,
    tmp: join(root, 'tmp'),
    messages,
    state,
    hold,
    control,
    socket: join(control, 'qmgr.sock'),
    message: (id) => join(messages, id),
    stateFile: (id) => join(state, id),
    holdFile: (id) => join(hold, id),
  };
}
