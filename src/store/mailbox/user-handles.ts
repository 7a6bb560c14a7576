/**
 * One state per user Maildir in this process, shared by every handle of that user (IMAP sessions, POP3,
 * delivery): the index connection, each folder's cached message list, a write mutex that orders every sync and mutation (SQLite's BEGIN
 * IMMEDIATE orders them against other processes), and the POP3 maildrop holder. The state is closed a
 * while after its last handle goes, so a busy user's index stays open between sessions and deliveries.
 *
 * The POP3 maildrop holder is kept here (maildrop-lock.ts adds a row in the index for other processes).
 */
import type { IndexDb } from './index-db.js';
import type { CachedList } from './list-cache.js';
import { openOrRebuildIndex } from './index-rebuild.js';
import { sweepTmpSometimes } from './tmp-sweep.js';
import { uidlistWarnings } from './uidlist-record.js';

const IDLE_CLOSE_MS = 60_000;

export class UserState {
  refs = 0;
  maildropHolder: string | undefined;
  /** Each folder's messages as last read from the index (list-cache.ts), by folder id. */
  readonly lists = new Map<number, CachedList>();
  closeTimer: NodeJS.Timeout | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly root: string,
    readonly db: IndexDb,
  ) {}

  /** Runs `step` after every earlier one of this user has settled. */
  exclusive<T>(step: () => Promise<T>): Promise<T> {
    const run = this.tail.then(step, step);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

export class UserRegistry {
  private readonly states = new Map<string, Promise<UserState>>();

  constructor(private readonly log?: (line: string) => void) {}

  async acquire(root: string): Promise<UserState> {
    let pending = this.states.get(root);
    if (pending === undefined) {
      pending = openOrRebuildIndex(root, this.log).then((db) => {
        if (this.log !== undefined) uidlistWarnings.set(db, this.log);
        // What interrupted writes left in tmp/, in the background (tmp-sweep.ts).
        void sweepTmpSometimes(root);
        return new UserState(root, db);
      });
      this.states.set(root, pending);
      pending.catch(() => this.states.delete(root));
    }
    const state = await pending;
    state.refs++;
    if (state.closeTimer !== undefined) {
      clearTimeout(state.closeTimer);
      state.closeTimer = undefined;
    }
    return state;
  }

  release(state: UserState): void {
    state.refs--;
    if (state.refs > 0) return;
    state.closeTimer = setTimeout(() => {
      if (state.refs > 0) return;
      this.states.delete(state.root);
      void state.exclusive(() => Promise.resolve(state.db.close()));
    }, IDLE_CLOSE_MS);
    state.closeTimer.unref();
  }

  async closeAll(): Promise<void> {
    const states = await Promise.allSettled([...this.states.values()]);
    this.states.clear();
    for (const s of states) {
      if (s.status !== 'fulfilled') continue;
      if (s.value.closeTimer !== undefined) clearTimeout(s.value.closeTimer);
      await s.value.exclusive(() => Promise.resolve(s.value.db.close()));
    }
  }
}
