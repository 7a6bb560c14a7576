/**
 * Lines another writer (Dovecot's LDA or IMAP) appended to a folder's dovecot-uidlist whose files were not
 * found when the lines were read (a readdir racing a rename in cur/, a file not in place yet). Their UIDs
 * are the files' own, so they must be adopted when the files are seen; but the index's next UID has moved
 * past them (no UID below the uidlist's next is given anew), and the uidlist is read from that next UID
 * on. So the lowest such UID is kept in the index's meta table, and the uidlist is read from it instead.
 * A sync that read both new/ and cur/ without finding such a file forgets its line (the file is gone,
 * e.g. expunged by Dovecot before Mailgate saw it), so the read does not grow for ever.
 */
import type { IndexDb } from './index-db.js';

function keyOf(mailboxId: number): string {
  return `uidlist_pending:${mailboxId}`;
}

/** The lowest UID of a folder's uidlist lines still waiting for their files; undefined when none is. */
export function pendingFrom(db: IndexDb, mailboxId: number): number | undefined {
  const raw = db.meta(keyOf(mailboxId));
  const uid = raw === undefined || raw === '' ? NaN : Number(raw);
  return Number.isInteger(uid) && uid > 0 ? uid : undefined;
}

/** Sets it (undefined: none waits); inside the caller's transaction. Written only when it changes. */
export function setPendingFrom(db: IndexDb, mailboxId: number, uid: number | undefined): void {
  if (pendingFrom(db, mailboxId) === uid) return;
  db.setMeta.run(keyOf(mailboxId), uid === undefined ? '' : String(uid));
}
