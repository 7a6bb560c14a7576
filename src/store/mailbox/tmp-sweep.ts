/**
 * When tmp/ leftovers are removed (maildir/tmp-cleanup.ts): as a user's index is opened, for the root and
 * every folder, in the background, and at most once in 8 hours per user in this process — Dovecot scans a
 * folder's tmp/ at open, no more often than every 8 hours (MAILDIR_TMP_SCAN_SECS), and the entries it looks
 * for are 36 hours old, so scanning more often would find nothing more.
 */
import { cleanTmp } from '../maildir/tmp-cleanup.js';
import { INBOX, folderDir, listFolderDirs } from './folder-dirs.js';

export const TMP_SCAN_INTERVAL_MS = 8 * 3600_000;
/** Roots remembered at most (the oldest scans forgotten first: at worst a root is scanned again). */
const MAX_REMEMBERED = 10_000;

const lastScan = new Map<string, number>();

/** Starts a sweep of `root` unless one ran in the last 8 hours; resolves when it ends (callers need not wait). */
export function sweepTmpSometimes(root: string, nowMs = Date.now()): Promise<number> {
  const last = lastScan.get(root);
  if (last !== undefined && nowMs - last < TMP_SCAN_INTERVAL_MS) return Promise.resolve(0);
  lastScan.delete(root);
  lastScan.set(root, nowMs);
  for (const oldest of lastScan.keys()) {
    if (lastScan.size <= MAX_REMEMBERED) break;
    lastScan.delete(oldest);
  }
  return sweepTmp(root, nowMs);
}

/** Cleans the tmp/ of the root (INBOX, and the folder staging area) and of every folder. Never throws. */
export async function sweepTmp(root: string, nowMs = Date.now()): Promise<number> {
  try {
    let removed = await cleanTmp(root, nowMs);
    for (const name of await listFolderDirs(root)) if (name !== INBOX) removed += await cleanTmp(folderDir(root, name), nowMs);
    return removed;
  } catch {
    return 0; // A root that cannot be listed: nothing is lost by not cleaning it now.
  }
}
