/**
 * The parsed MIME tree of messages (src/mail/mime/parse-structure.ts), computed once per message and
 * kept by the store as opaque JSON (Mailbox.meta/saveMeta, kind 'structure'; MimePart is plain data), so a
 * second FETCH ENVELOPE/BODYSTRUCTURE or SEARCH never reads or parses the file again. Shared by FETCH and
 * SEARCH. Parsing needs the whole stored message; the bytes read for it are handed back so the caller
 * need not read them twice.
 */
import { parseStructure } from '../../mail/mime/parse-structure.js';
import type { MimePart } from '../../mail/mime/structure.js';
import type { Mailbox } from '../../store/mailbox/mailbox-store.js';

/** Messages up to this size are read with the others of the call (Mailbox.readSmall). */
const READ_TOGETHER = 1024 * 1024;

export interface LoadedStructures {
  readonly parts: Map<number, MimePart>;
  /** the whole stored messages read to parse them (cold ones only) */
  readonly bytes: Map<number, Buffer>;
}

/**
 * The MIME trees of `uids` (expunged messages are left out): cached ones from the store, the others parsed
 * and saved. `keep: 'large'` (a caller that keeps what it derives from the trees itself, fetch/text-cache.ts)
 * saves only the trees of messages too large to read whole again cheaply: a later BODY[section] of a small
 * one reads the file anyway and parses it again at little cost, while a tree of 1 KB or more costs its own
 * overflow page in the index.
 */
export async function loadStructures(handle: Mailbox, uids: readonly number[], keep: 'all' | 'large' = 'all'): Promise<LoadedStructures> {
  const parts = new Map<number, MimePart>();
  const bytes = new Map<number, Buffer>();
  await eachStructure(handle, uids, keep, (uid, root, stored) => {
    parts.set(uid, root);
    if (stored !== undefined) bytes.set(uid, stored);
  });
  return { parts, bytes };
}

/**
 * loadStructures handing each tree to `each` as soon as it is had (in `uids` order; `stored`: the message's
 * bytes when they were read to parse it), so a caller that derives something small from each tree need not
 * hold them all: a tree dropped at once dies young, where a batch of them held together outlives a few
 * scavenges, is promoted, and brings on a full collection of a large heap (a first FETCH of a thousand).
 */
export async function eachStructure(
  handle: Mailbox,
  uids: readonly number[],
  keep: 'all' | 'large',
  each: (uid: number, root: MimePart, stored: Buffer | undefined) => void,
): Promise<void> {
  const cached = await handle.meta(uids, 'structure');
  const fresh = new Map<number, string>();
  const missing: number[] = [];
  for (const uid of uids) {
    const json = cached.get(uid);
    let root: MimePart | undefined;
    try {
      if (json !== undefined) root = JSON.parse(json) as MimePart;
    } catch {
      // a damaged cache entry: parsed again below and replaced
    }
    if (root !== undefined) each(uid, root, undefined);
    else missing.push(uid);
  }
  // the small ones in one call (the store reads them far cheaper together), the others one by one
  const small = missing.length === 0 ? new Map<number, Buffer>() : await handle.readSmall(missing, READ_TOGETHER);
  for (const uid of missing) {
    let buf = small.get(uid);
    const large = buf === undefined;
    if (buf === undefined) {
      const content = await handle.openContent(uid);
      if (content === undefined) continue;
      try {
        buf = await content.readAll();
      } finally {
        await content.close();
      }
    }
    const root = parseStructure(buf);
    if (keep === 'all' || large) fresh.set(uid, JSON.stringify(root));
    each(uid, root, buf);
  }
  if (fresh.size > 0) await handle.saveMeta('structure', fresh);
}
