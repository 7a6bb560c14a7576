/**
 * COPY and UID COPY (RFC 3501 §6.4.7) with UIDPLUS's [COPYUID validity source-uids dest-uids] (RFC 4315),
 * and MOVE / UID MOVE (RFC 6851) built on the same steps: the destination must exist ([TRYCREATE]
 * otherwise), quota is the store's ([OVERQUOTA]). Messages the client still sees but another session
 * expunged: COPY/MOVE by sequence number refuses the whole command with [EXPUNGEISSUED] before copying
 * anything (Dovecot's answer, RFC 5530); the UID forms leave them out, and a UID set naming nothing left
 * is "OK No messages found." as Dovecot answers.
 */
import { MailboxError, type CopyResult } from '../../store/mailbox/mailbox-store.js';
import { SELECTED, command, no, ok, type ArgCursor, type Completion, type CommandInfo, type SessionContext } from '../command.js';
import { readMailbox, type MailboxArg } from '../mailbox-name.js';
import type { ResponseCode } from '../wire/encoder.js';
import { compressNumbers, type SequenceSet } from '../wire/sequence-set.js';

export interface CopyArgs {
  readonly set: SequenceSet;
  readonly mailbox: MailboxArg;
}

export function parseCopy(args: ArgCursor): CopyArgs {
  args.sp();
  const set = args.sequenceSet();
  args.sp();
  return { set, mailbox: readMailbox(args) };
}

/** `[COPYUID <validity> <source uids> <new uids>]`: pairs are in ascending source order, so both sets keep it. */
export function copyUidCode(result: CopyResult): ResponseCode {
  return { name: 'COPYUID', args: `${result.uidValidity} ${compressNumbers(result.pairs.map((p) => p[0]))} ${compressNumbers(result.pairs.map((p) => p[1]))}` };
}

/**
 * Runs COPY or MOVE: the UIDs to act on, or the Completion that ends the command early. `act` is the
 * store call; NONEXISTENT from it becomes [TRYCREATE].
 */
export async function copyOrMove(
  session: SessionContext,
  { set, mailbox }: CopyArgs,
  info: CommandInfo,
  act: (uids: readonly number[], to: string) => Promise<CopyResult>,
): Promise<CopyResult | Completion> {
  if (mailbox.problem !== undefined) return no(mailbox.problem);
  const selected = session.selected!;
  const wanted = selected.resolve(set, info.uid);
  // The view may not know yet what another session expunged: ask the store which messages are still there.
  const present = new Set((await selected.handle.details(wanted)).map((d) => d.uid));
  if (!info.uid && present.size < wanted.length) return no('Some of the requested messages no longer exist.', 'EXPUNGEISSUED');
  const uids = wanted.filter((uid) => present.has(uid));
  if (uids.length === 0) return ok('No messages found.');
  try {
    return await act(uids, mailbox.name);
  } catch (err) {
    if (err instanceof MailboxError && err.code === 'NONEXISTENT') return no(err.message, 'TRYCREATE');
    throw err;
  }
}

export const copy = command<CopyArgs>({
  name: 'COPY',
  states: SELECTED,
  uidForm: true,
  expungeSafe: true,
  parse: (args) => parseCopy(args),
  async run(session, args, info) {
    const handle = session.selected!.handle;
    const result = await copyOrMove(session, args, info, (uids, to) => handle.copy(uids, to));
    if ('status' in result) return result;
    return ok('Copy completed.', copyUidCode(result));
  },
});
