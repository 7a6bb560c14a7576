/**
 * A user's folders on disk: listing, creating, deleting and renaming Maildir++ folder directories, the
 * `subscriptions` file, APPEND (tmp/ → cur/ with its flags, dated with utimes: message-files.ts), quota
 * and the POP3 maildrop lock. Folders made or removed by hand or by another process are
 * seen at the next list/open: the directories are the truth, the index rows follow them.
 */
import { removeUnindexedAppend } from './append-undo.js';
import { linesWithoutRows } from './uid-grant.js';
import { announce, mailboxKey } from './change-hub.js';
import { deleteFolderDir, folderDir, INBOX, listFolderDirs, makeFolderDir, renameFolderDirs, validName } from './folder-dirs.js';
import { ownChange } from './dir-stamps.js';
import { dropMailboxRow, syncMailbox } from './index-sync.js';
import { addKeywords, readLetters } from './keywords-io.js';
import { MaildirMailbox } from './maildir-mailbox.js';
import { lockMaildrop } from './maildrop-lock.js';
import {
  MailboxError,
  SPECIAL_FOLDERS,
  type AppendInput,
  type Mailbox,
  type MailboxInfo,
  type MailboxStatus,
  type QuotaUsage,
  type SpecialUse,
  type UserMailboxes,
} from './mailbox-store.js';
import { crlfSize } from './memory.js';
import { writeToCur } from './message-files.js';
import { curFileName, keywordList, toIndexFlags } from './message-flags.js';
import { checkQuota, hasLimits, usageWithLimits } from './quota.js';
import { readSubscriptions, setSubscribed } from '../maildir/subscriptions-file.js';
import { currentUsage, indexWritten, requireRow, statusOf, type UserContext } from './user-context.js';

const SPECIAL_USE = new Map<string, SpecialUse>(SPECIAL_FOLDERS.map(([name, use]) => [name, use]));

function byName(a: string, b: string): number {
  return a === INBOX ? -1 : b === INBOX ? 1 : a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The first time a user is seen (no mark in the index): INBOX and the special-use folders, all subscribed,
 * as Dovecot's `auto = subscribe`. A folder the user deletes later is not made again.
 */
export async function initUser(ctx: UserContext): Promise<void> {
  const { db, root } = ctx.state;
  if (db.meta('special_folders') !== undefined) return;
  await requireRow(ctx, INBOX);
  const existing = new Set(await listFolderDirs(root));
  for (const [name] of SPECIAL_FOLDERS) {
    // Another process opening the same user for the first time at once may have made it meanwhile.
    if (!existing.has(name)) await makeFolderDir(root, name).catch((err: unknown) => alreadyThere(err));
    await requireRow(ctx, name);
  }
  for (const name of [INBOX, ...SPECIAL_FOLDERS.map(([n]) => n)]) await setSubscribed(root, name, true);
  db.setMeta.run('special_folders', 'made');
}

function alreadyThere(err: unknown): void {
  if (!(err instanceof MailboxError && err.code === 'ALREADYEXISTS')) throw err;
}

export class MaildirUser implements UserMailboxes {
  private readonly handles = new Set<MaildirMailbox>();
  private released = false;

  constructor(
    private readonly ctx: UserContext,
    readonly user: string,
    private readonly onRelease: () => void,
  ) {}

  private get root(): string {
    return this.ctx.state.root;
  }

  private exclusive<T>(step: () => Promise<T>): Promise<T> {
    if (this.released) return Promise.reject(new MailboxError('CANNOT', 'User handle is released'));
    return this.ctx.state.exclusive(step);
  }

  list(): Promise<readonly MailboxInfo[]> {
    return this.exclusive(async () => {
      const onDisk = new Set([INBOX, ...(await listFolderDirs(this.root))]);
      // Rows of folders removed by hand go with them.
      for (const row of this.ctx.state.db.mailboxes.all()) if (!onDisk.has(row.name)) dropMailboxRow(this.ctx.state.db, row.id);
      const names = new Set(onDisk);
      // Parents that have no directory of their own are listed as \Noselect, as Dovecot lists them on Maildir++.
      for (const name of onDisk) {
        const parts = name.split('/');
        for (let i = 1; i < parts.length; i++) names.add(parts.slice(0, i).join('/'));
      }
      const subscribed = new Set(await readSubscriptions(this.root));
      const sorted = [...names].sort(byName);
      return sorted.map((name) => {
        const use = SPECIAL_USE.get(name);
        return {
          name,
          subscribed: subscribed.has(name),
          hasChildren: sorted.some((other) => other.startsWith(name + '/')),
          selectable: onDisk.has(name),
          ...(use === undefined ? {} : { specialUse: use }),
        };
      });
    });
  }

  create(name: string): Promise<void> {
    return this.exclusive(async () => {
      const canonical = validName(name);
      if (canonical === INBOX) throw new MailboxError('ALREADYEXISTS', 'Mailbox already exists');
      await makeFolderDir(this.root, canonical);
      // A row left from a folder of that name removed by hand is not this folder.
      const stale = this.ctx.state.db.mailboxByName.get(canonical);
      if (stale !== undefined) dropMailboxRow(this.ctx.state.db, stale.id);
      await requireRow(this.ctx, canonical);
    });
  }

  delete(name: string): Promise<void> {
    return this.exclusive(async () => {
      const canonical = validName(name);
      if (canonical === INBOX) throw new MailboxError('CANNOT', 'INBOX can not be deleted');
      // RFC 3501 §6.3.4: deleting a \Noselect name that has children is an error (CANNOT, as the memory
      // store answers; Dovecot on Maildir++ says NONEXISTENT).
      await deleteFolderDir(this.root, canonical).catch(async (err: unknown) => {
        if (err instanceof MailboxError && err.code === 'NONEXISTENT' && (await listFolderDirs(this.root)).some((n) => n.startsWith(canonical + '/')))
          throw new MailboxError('CANNOT', 'Mailbox has children, delete them first');
        throw err;
      });
      const row = this.ctx.state.db.mailboxByName.get(canonical);
      if (row !== undefined) {
        dropMailboxRow(this.ctx.state.db, row.id);
        announce(mailboxKey(this.root, row.id));
      }
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.exclusive(async () => {
      const source = validName(from);
      const target = validName(to);
      // Into itself is refused as the memory store refuses it (the name would exist once moved).
      if (target === INBOX || target.startsWith(source + '/')) throw new MailboxError('ALREADYEXISTS', 'Target mailbox already exists');
      if (source === INBOX) {
        if ((await listFolderDirs(this.root)).some((n) => n === target || n.startsWith(target + '/'))) throw new MailboxError('ALREADYEXISTS', 'Target mailbox already exists');
        return this.renameInbox(target);
      }
      const moved = await renameFolderDirs(this.root, source, target);
      const { db } = this.ctx.state;
      db.write(() => {
        for (const [from, to] of moved) {
          const stale = db.mailboxByName.get(to);
          if (stale !== undefined) dropMailboxRow(db, stale.id);
          const row = db.mailboxByName.get(from);
          if (row !== undefined) db.renameMailbox.run(to, row.id);
        }
      });
      const subscribed = new Set(await readSubscriptions(this.root));
      for (const [from, to] of moved) {
        if (!subscribed.has(from)) continue;
        await setSubscribed(this.root, from, false);
        await setSubscribed(this.root, to, true);
      }
    });
  }

  /** RFC 3501 §6.3.5: INBOX's messages move to a new folder of that name; INBOX stays, empty. */
  private async renameInbox(target: string): Promise<void> {
    await makeFolderDir(this.root, target);
    const stale = this.ctx.state.db.mailboxByName.get(target);
    if (stale !== undefined) dropMailboxRow(this.ctx.state.db, stale.id);
    await requireRow(this.ctx, target);
    const inbox = await requireRow(this.ctx, INBOX);
    // Every message moves, also those no sync has indexed yet (an INBOX never selected).
    if (await syncMailbox(this.ctx.state.db, this.root, inbox, { toCur: true })) announce(mailboxKey(this.root, inbox.id));
    const handle = new MaildirMailbox(this.ctx, inbox.id, INBOX, false, inbox.uidvalidity, () => undefined);
    try {
      await handle.transferHeld(this.ctx.state.db.uidsOf.all(inbox.id), target, true);
    } finally {
      await handle.close();
    }
  }

  subscribe(name: string, subscribed: boolean): Promise<void> {
    return this.exclusive(async () => {
      // RFC 3501 §6.3.6: a name that does not exist may be subscribed (Dovecot allows it).
      await setSubscribed(this.root, validName(name), subscribed);
    });
  }

  subscriptions(): Promise<readonly string[]> {
    return this.exclusive(() => readSubscriptions(this.root));
  }

  status(name: string): Promise<MailboxStatus> {
    return this.exclusive(async () => {
      const row = await requireRow(this.ctx, validName(name));
      if (await syncMailbox(this.ctx.state.db, this.root, row, { toCur: false })) announce(mailboxKey(this.root, row.id));
      return statusOf(this.ctx, this.ctx.state.db.mailboxById.get(row.id) ?? row);
    });
  }

  append(name: string, input: AppendInput): Promise<{ readonly uidValidity: number; readonly uid: number }> {
    return this.exclusive(async () => {
      const row = await requireRow(this.ctx, validName(name));
      const limit = this.ctx.settings.appendLimit;
      if (limit !== undefined && limit > 0 && input.content.length > limit) throw new MailboxError('TOOBIG', `Message is larger than the ${limit}-byte limit`);
      if (hasLimits(this.ctx.settings.limits)) checkQuota(await currentUsage(this.ctx), this.ctx.settings.limits, crlfSize(input.content), 1);
      const dir = folderDir(this.root, row.name);
      const flags = toIndexFlags(input.flags ?? []);
      const letters = flags.keywords === '' ? await readLetters(dir) : await addKeywords(dir, keywordList(flags.keywords));
      const uid = await ownChange(this.ctx.state.db, row.id, dir, async () => {
        const ms = input.internalDate?.ms ?? Date.now();
        const written = await writeToCur(dir, input.content, this.ctx.settings.hostname, (base) => curFileName(base, flags.bits, flags.keywords, letters), ms);
        const { base, fname } = written;
        const tz = input.internalDate?.tzMinutes ?? -new Date(ms).getTimezoneOffset();
        try {
          const [given] = await indexWritten(this.ctx, row, [
            { base, fname, inNew: false, bits: flags.bits, keywords: flags.keywords, vsize: written.vsize, size: written.size, idate: ms, itz: tz },
          ]);
          return given;
        } catch (err) {
          // Not indexed: the file goes before the NO (append-undo.ts), unless a sync gave it a UID meanwhile.
          await removeUnindexedAppend(this.ctx.state.db, row.id, dir, base, fname, linesWithoutRows(err));
          throw err;
        }
      });
      return { uidValidity: row.uidvalidity, uid: uid as number };
    });
  }

  open(name: string, mode: 'read-write' | 'read-only'): Promise<Mailbox> {
    return this.exclusive(async () => {
      const row = await requireRow(this.ctx, validName(name));
      const handle: MaildirMailbox = new MaildirMailbox(this.ctx, row.id, row.name, mode === 'read-only', row.uidvalidity, () => this.handles.delete(handle));
      this.handles.add(handle);
      return handle;
    });
  }

  quota(): Promise<QuotaUsage> {
    return this.exclusive(async () => usageWithLimits(await currentUsage(this.ctx), this.ctx.settings.limits));
  }

  lockMaildrop(holder: string): Promise<{ release(): Promise<void> } | undefined> {
    return this.exclusive(() => Promise.resolve(lockMaildrop(this.ctx.state, holder)));
  }

  async release(): Promise<void> {
    if (this.released) return;
    for (const handle of [...this.handles]) await handle.close();
    this.released = true;
    this.onRelease();
  }
}
