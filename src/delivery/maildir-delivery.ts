/**
 * Local delivery into the built-in Maildir store: the queued address is looked up again (a user deleted
 * since the message was queued bounces, as Postfix's local(8) does: 5.1.1 unknown user) and the message is
 * written to each mailbox it names, below the Return-Path and Delivered-To fields Postfix's delivery
 * agents put on top.
 */
import { Readable } from 'node:stream';
import type { Accounts } from '../store/accounts/accounts.js';
import { MailboxError, type MailboxDelivery } from '../store/mailbox/mailbox-store.js';
import { maildirKeyedBaseName } from '../store/maildir/maildir-name.js';
import { writeToMaildir } from '../store/maildir/maildir-writer.js';
import type { DeliveryRequest, RecipientResult } from '../store/transport.js';
import { ownResult } from './smtp-reply.js';

export type LocalAccounts = Pick<Accounts, 'resolve' | 'maildirOf'>;

/**
 * The message with the fields final delivery adds on top: Return-Path with the envelope sender (RFC 5321
 * 4.4: a MUST; a reader of the mailbox has no other way to know where bounces go) and Delivered-To with
 * the mailbox's address, as Postfix's local(8) and virtual(8) write them.
 */
export function withDeliveryFields(sender: string, mailbox: string, message: Readable): Readable {
  return Readable.from(
    (async function* () {
      try {
        yield Buffer.from(`Return-Path: <${sender}>\r\nDelivered-To: ${mailbox}\r\n`, 'utf8');
        for await (const chunk of message) yield chunk as Buffer | string;
      } finally {
        message.destroy(); // also when the writer gives up before the message was read (no fd left open)
      }
    })(),
  );
}

export async function deliverToMaildir(
  request: DeliveryRequest,
  address: string,
  accounts: LocalAccounts,
  hostname: string,
  mailboxes?: MailboxDelivery,
): Promise<RecipientResult> {
  let users: string[];
  try {
    const resolution = accounts.resolve(address);
    if (resolution.kind === 'unknown') return ownResult(address, 'failed', '5.1.1', `unknown user: "${address}"`, 'maildir');
    if (resolution.kind === 'loop') return ownResult(address, 'failed', '5.4.6', `mail forwarding loop for ${address}: ${resolution.detail}`, 'maildir');
    if (resolution.kind === 'remote') return ownResult(address, 'failed', '5.1.1', `not a local address: "${address}"`, 'maildir');
    users = [...new Set(resolution.targets.flatMap((t) => (t.type === 'mailbox' ? [t.user] : [])))];
  } catch (err) {
    return ownResult(address, 'deferred', '4.3.0', `account lookup failed: ${String(err)}`, 'maildir');
  }
  if (users.length === 0) return ownResult(address, 'failed', '5.1.1', `unknown user: "${address}"`, 'maildir');
  try {
    const written = [];
    for (const user of users) {
      let dir: string;
      try {
        dir = accounts.maildirOf(user);
      } catch (err) {
        return ownResult(address, 'failed', '5.1.3', `bad mailbox name for "${user}": ${String(err)}`, 'maildir');
      }
      // The queue file is opened only once the Maildir's tmp/ file is: a Maildir that cannot be written
      // leaves no descriptor open (the review's fd leak: one per failed attempt).
      const baseName = request.arrival === undefined ? undefined : maildirKeyedBaseName(request.arrival, request.queueId, user, hostname);
      const source = () => withDeliveryFields(request.sender, user, request.openMessage());
      const options = { hostname, ...(baseName === undefined ? {} : { baseName }) };
      if (mailboxes === undefined) written.push((await writeToMaildir(dir, source, options)).path);
      else {
        await mailboxes.deliver(user, source, options);
        written.push(dir);
      }
    }
    return ownResult(address, 'delivered', '2.0.0', `delivered to maildir (${written.join(', ')})`, 'maildir');
  } catch (err) {
    // Over quota: refused for good, as Dovecot's LMTP answers with quota_full_tempfail = no (552 5.2.2).
    if (err instanceof MailboxError && err.code === 'OVERQUOTA') return ownResult(address, 'failed', '5.2.2', `${err.message}`, 'maildir');
    // A full disk, a permission problem: the queue keeps the message and tries again (Postfix defers too).
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return ownResult(address, 'deferred', code === 'ENOSPC' || code === 'EDQUOT' ? '4.2.2' : '4.3.0', `maildir delivery failed: ${String((err as Error).message ?? err)}`, 'maildir');
  }
}
