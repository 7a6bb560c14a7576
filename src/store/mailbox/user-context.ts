/**
 * What every handle of one user shares (the index, the write mutex, the store's settings) and the few
 * steps both the user handle and the mailbox handles take: find a folder's row, sync every folder for the
 * quota, index files just written, claim \Recent.
 */
import { basename } from 'node:path';
import { folderDir, listFolderDirs, INBOX } from './folder-dirs.js';
import type { MailboxRow } from './index-db.js';
import { ensureMailboxRow, indexAndRecord, syncMailbox, type NewMessage } from './index-sync.js';
import { MailboxError, type MailboxStatus } from './mailbox-store.js';
import { keywordList, SEEN_BIT } from './message-flags.js';
import type { QuotaLimits } from './quota.js';
import type { UserState } from './user-handles.js';
import { announce, mailboxKey } from './change-hub.js';
import { lowerBound } from './message-list.js';

export interface StoreSettings {
  /** The host part of the names of files this store makes. */
  readonly hostname: string;
  readonly limits: QuotaLimits;
  readonly appendLimit?: number;
}

export interface UserContext {
  readonly state: UserState;
  readonly settings: StoreSettings;
}

export async function requireRow(ctx: UserContext, name: string): Promise<MailboxRow> {
  const row = await ensureMailboxRow(ctx.state.db, ctx.state.root, name);
  if (row === undefined) throw new MailboxError('NONEXISTENT', `Mailbox doesn't exist: ${name}`);
  return row;
}

/** Usage over every folder, each synced first (cheap when its directories are unchanged). */
export async function currentUsage(ctx: UserContext): Promise<{ bytes: number; messages: number }> {
  const { db, root } = ctx.state;
  const names = [INBOX, ...(await listFolderDirs(root))];
  const rows = await Promise.all(names.map((name) => ensureMailboxRow(db, root, name)));
  for (const row of rows) if (row !== undefined) await syncMailbox(db, root, row, { toCur: false });
  return db.usage.get() ?? { bytes: 0, messages: 0 };
}

/** Indexes files this process just wrote into a folder, records their UIDs, tells the other handles. */
export async function indexWritten(ctx: UserContext, row: MailboxRow, messages: readonly NewMessage[]): Promise<readonly number[]> {
  const inserted = await indexAndRecord(ctx.state.db, row.id, folderDir(ctx.state.root, row.name), messages);
  announce(mailboxKey(ctx.state.root, row.id));
  return inserted.uids;
}

/** A just-written file's name parts: base = the whole name in new/ (no info part yet). */
export function writtenFile(path: string): { base: string; fname: string } {
  const fname = basename(path);
  return { base: fname, fname };
}

export function statusOf(ctx: UserContext, row: MailboxRow): MailboxStatus {
  const counts = ctx.state.db.counts.get(SEEN_BIT, row.recent_floor, row.id) ?? { messages: 0, unseen: 0, size: 0, recent: 0 };
  return {
    uidValidity: row.uidvalidity,
    uidNext: row.uidnext,
    highestModseq: row.highest_modseq,
    messages: counts.messages,
    recent: counts.recent,
    unseen: counts.unseen,
    size: counts.size,
    keywords: keywordList(row.keywords),
  };
}

/** What claimRecent may take the UIDs from instead of the index: a list and whether it is the folder as a row says. */
export interface RecentSource {
  readonly uids: readonly number[];
  matches(row: MailboxRow): boolean;
}

/**
 * Claims the UIDs at or above the \Recent floor for one read-write handle, in one transaction. With `list`
 * (the folder's cached list, just brought up to date), the UIDs are its tail when it is still the folder as
 * the row read inside the transaction says (no other process changed it between): a folder's first SELECT
 * claims every message, and reading 100,000 UIDs back from SQLite again is what that spares.
 */
export function claimRecent(ctx: UserContext, mailboxId: number, list?: RecentSource): number[] {
  const { db } = ctx.state;
  // Most calls find nothing to claim: no write transaction for them.
  const seen = db.mailboxById.get(mailboxId);
  if (seen === undefined || seen.recent_floor >= seen.uidnext) return [];
  return db.write(() => {
    const row = db.mailboxById.get(mailboxId);
    if (row === undefined || row.recent_floor >= row.uidnext) return [];
    const uids =
      list !== undefined && list.matches(row) ? list.uids.slice(lowerBound(list.uids, row.recent_floor)) : db.uidsFrom.all(mailboxId, row.recent_floor);
    db.setMailboxCounters.run(row.uidnext, row.highest_modseq, row.uidnext, mailboxId);
    return uids;
  });
}
