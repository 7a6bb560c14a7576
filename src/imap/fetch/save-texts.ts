/**
 * The texts a FETCH made (ENVELOPE, BODY, BODYSTRUCTURE, encoded by text-cache.ts), saved after its tagged
 * reply (SessionContext.afterReply runs this before the session reads its next command). A first FETCH of
 * a large folder leaves 100,000 of them: one transaction would hold the event loop, every session of the
 * process, for most of a second. So they go in transactions of SAVE_CHUNK rows, with a turn of the event
 * loop between, and each chunk's texts are dropped from the map once written.
 */
import type { Mailbox } from '../../store/mailbox/mailbox-store.js';

/** Rows per transaction: under 10 ms of SQLite work on a quick disk, 30-70 ms on a slow shared one. */
export const SAVE_CHUNK = 1000;

/**
 * Saves and empties `unsaved`. Awaited whole by the caller, so that the session's next command finds the
 * texts saved; a failure (the store closing under it) rejects once and the texts not yet written are
 * dropped: they are a cache, the next FETCH makes them again.
 */
export async function saveFetchTexts(handle: Pick<Mailbox, 'saveMeta'>, unsaved: Map<number, string>): Promise<void> {
  try {
    while (unsaved.size > 0) {
      const chunk = new Map<number, string>();
      for (const [uid, text] of unsaved) {
        chunk.set(uid, text);
        unsaved.delete(uid);
        if (chunk.size === SAVE_CHUNK) break;
      }
      await handle.saveMeta('fetch-text', chunk);
      if (unsaved.size > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    unsaved.clear();
  }
}
