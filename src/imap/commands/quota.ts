/**
 * QUOTA (RFC 9208): one quota root per user, "User quota" (Dovecot's name with `quota = count:User quota`),
 * covering every folder. GETQUOTAROOT <mailbox> names it and gives its figures; GETQUOTA <root> gives
 * them; SETQUOTA is for the administrator (NO, Dovecot's text). Resources as Dovecot lists them: STORAGE
 * (used and limit in KiB, rounded up as Dovecot rounds) and MESSAGE, each only when the store has a
 * limit for it; with no limit at all there is no quota root, and the answers are Dovecot's ("OK No quota",
 * "Quota root doesn't exist", without a response code). GETQUOTAROOT checks that the mailbox exists (RFC 5530 [NONEXISTENT]),
 * which Dovecot does not.
 */
import type { QuotaUsage } from '../../store/mailbox/mailbox-store.js';
import { MailboxError } from '../../store/mailbox/mailbox-store.js';
import { AUTHENTICATED, command, no, ok, type SessionContext } from '../command.js';
import { mailboxValue, readMailbox, type MailboxArg } from '../mailbox-name.js';
import { atom, list, num, quoted, type ImapValue } from '../wire/encoder.js';

export const QUOTA_ROOT = 'User quota';

function resources(usage: QuotaUsage): ImapValue[] {
  const parts: ImapValue[] = [];
  if (usage.bytesLimit !== undefined) parts.push(atom('STORAGE'), num(Math.ceil(usage.bytes / 1024)), num(Math.ceil(usage.bytesLimit / 1024)));
  if (usage.messagesLimit !== undefined) parts.push(atom('MESSAGE'), num(usage.messages), num(usage.messagesLimit));
  return parts;
}

/** The user's usage, or undefined when no limit applies (no quota root then). */
async function usageOf(session: SessionContext): Promise<QuotaUsage | undefined> {
  const usage = await session.mailboxes!.quota();
  return usage.bytesLimit === undefined && usage.messagesLimit === undefined ? undefined : usage;
}

function writeQuota(session: SessionContext, usage: QuotaUsage): void {
  session.out.untagged([atom('QUOTA'), quoted(QUOTA_ROOT), list(resources(usage))]);
}

export const getquotaroot = command<MailboxArg>({
  name: 'GETQUOTAROOT',
  states: AUTHENTICATED,
  expungeSafe: true,
  parse(args) {
    args.sp();
    return readMailbox(args);
  },
  async run(session, mailbox) {
    if (mailbox.problem !== undefined) return no(mailbox.problem);
    const exists = (await session.mailboxes!.list()).some((m) => m.name === mailbox.name && m.selectable);
    if (!exists) throw new MailboxError('NONEXISTENT', `Mailbox doesn't exist: ${mailbox.name}`);
    const usage = await usageOf(session);
    if (usage === undefined) return ok('No quota.');
    session.out.untagged([atom('QUOTAROOT'), mailboxValue(mailbox.name), quoted(QUOTA_ROOT)]);
    writeQuota(session, usage);
    return ok('Getquotaroot completed.');
  },
});

export const getquota = command<string>({
  name: 'GETQUOTA',
  states: AUTHENTICATED,
  expungeSafe: true,
  parse(args) {
    args.sp();
    return args.astring('a quota root');
  },
  async run(session, root) {
    const usage = root === QUOTA_ROOT ? await usageOf(session) : undefined;
    if (usage === undefined) return no("Quota root doesn't exist.");
    writeQuota(session, usage);
    return ok('Getquota completed.');
  },
});

/** SETQUOTA root (resource limit ...): read whole so the syntax is still checked, then refused. */
export const setquota = command<string>({
  name: 'SETQUOTA',
  states: AUTHENTICATED,
  expungeSafe: true,
  parse(args) {
    args.sp();
    const root = args.astring('a quota root');
    args.sp();
    args.list((c) => {
      c.atom('a resource name');
      c.sp();
      return c.number64('a limit');
    }, { what: 'a list of resource limits' });
    return root;
  },
  run() {
    return Promise.resolve(no('Quota can be changed only by admin.'));
  },
});
