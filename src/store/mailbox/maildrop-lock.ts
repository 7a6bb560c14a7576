/**
 * POP3's exclusive maildrop lock (RFC 1939 §8: one session per maildrop). In this process the user's state
 * holds it (every handle of the user shares that state); for other processes on the same Maildir (a second
 * Mailgate) it is also a row in the index's `lock` table naming its owner (a token per state), the pid and a
 * heartbeat refreshed while it is held. A row is ignored when its heartbeat is older than two minutes or its
 * pid is not running, so a crashed holder never locks the maildrop for good. Dovecot's POP3 on the same
 * Maildir is not excluded (it locks only while it syncs), as Dovecot's own LMTP does not exclude ours.
 */
import { randomBytes } from 'node:crypto';
import type { IndexDb } from './index-db.js';
import type { UserState } from './user-handles.js';

const NAME = 'maildrop';
const STALE_MS = 120_000;
const HEARTBEAT_MS = 30_000;

/** Owners held in this process: a row of this pid with another owner was left by a store closed meanwhile. */
const liveOwners = new Set<string>();

function running(pid: number, owner: string): boolean {
  if (pid === process.pid) return liveOwners.has(owner);
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock for `holder`; undefined when a session here or a live process elsewhere holds it. */
export function lockMaildrop(state: UserState, holder: string): { release(): Promise<void> } | undefined {
  if (state.maildropHolder !== undefined) return undefined;
  const { db } = state;
  const owner = `${process.pid}.${randomBytes(8).toString('hex')}`;
  const taken = db.write(() => {
    const row = db.getLock.get(NAME);
    if (row !== undefined && Date.now() - row.heartbeat < STALE_MS && running(row.pid, row.owner)) return false;
    db.putLock.run(NAME, owner, process.pid, Date.now());
    return true;
  });
  if (!taken) return undefined;
  liveOwners.add(owner);
  state.maildropHolder = holder;
  const heartbeat = setInterval(() => beat(db, owner), HEARTBEAT_MS);
  heartbeat.unref();
  let released = false;
  return {
    release: () => {
      if (released) return Promise.resolve();
      released = true;
      clearInterval(heartbeat);
      liveOwners.delete(owner);
      if (state.maildropHolder === holder) state.maildropHolder = undefined;
      try {
        if (db.db.open) db.write(() => db.dropLock.run(NAME, owner));
      } catch {
        // The row goes stale by itself.
      }
      return Promise.resolve();
    },
  };
}

function beat(db: IndexDb, owner: string): void {
  try {
    if (db.db.open) db.touchLock.run(Date.now(), NAME, owner);
  } catch {
    // Busy or closed: the next beat tries again, and a stale row is taken over anyway.
  }
}
