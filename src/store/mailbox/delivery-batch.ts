/**
 * Local delivery into the Maildir store, batched per user. Each message is written and fsynced by the
 * delivery itself, side by side with the others (as Dovecot's LDA processes write at once); only the
 * quota check and the index are ordered, and one turn of the user's write lock takes every message written
 * meanwhile: one index transaction and one dovecot-uidlist append per folder for the whole batch (a group
 * commit, as the queue's). One at a time, a busy user's deliveries queued behind each other's fsyncs.
 */
import { unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { writeToMaildir } from '../maildir/maildir-writer.js';
import { folderDir, INBOX, validName } from './folder-dirs.js';
import type { DeliveryOptions } from './mailbox-store.js';
import { checkQuota, hasLimits } from './quota.js';
import type { MailboxRow, MessageRow } from './index-db.js';
import { messagePath } from './index-sync.js';
import { currentUsage, indexWritten, requireRow, writtenFile, type UserContext } from './user-context.js';
import type { UserState } from './user-handles.js';

interface Written {
  readonly name: string;
  readonly path: string;
  readonly size: number;
  readonly vsize: number;
  resolve(): void;
  reject(err: unknown): void;
}

/** Messages written and waiting for the index, per user state. */
const waiting = new WeakMap<UserState, Written[]>();

/**
 * Deliveries in progress per user state, by folder and keyed name. The same message to the same user twice
 * at once (an alias and the address itself resolve to one user, so one keyed name) is written and indexed
 * once and both deliveries succeed, as Postfix's duplicate elimination delivers once: two writers of one
 * name would share its tmp/ file, and one batch would index its base twice (UNIQUE) and fail everyone in it.
 */
const inProgress = new WeakMap<UserState, Map<string, Promise<{ size: number; vsize: number }>>>();

export function deliverBatched(ctx: UserContext, source: () => Readable, options: DeliveryOptions): Promise<{ size: number; vsize: number }> {
  if (options.baseName === undefined) return deliverOnce(ctx, source, options);
  let running = inProgress.get(ctx.state);
  if (running === undefined) inProgress.set(ctx.state, (running = new Map()));
  const key = `${options.mailbox ?? INBOX}\0${options.baseName}`;
  const same = running.get(key);
  if (same !== undefined) return same;
  const delivery = deliverOnce(ctx, source, options).finally(() => running.delete(key));
  running.set(key, delivery);
  return delivery;
}

async function deliverOnce(ctx: UserContext, source: () => Readable, options: DeliveryOptions): Promise<{ size: number; vsize: number }> {
  const name = validName(options.mailbox ?? INBOX);
  // Only INBOX always exists: writing first would make any other folder's directories by accident.
  if (name !== INBOX) await ctx.state.exclusive(() => requireRow(ctx, name));
  const w = await writeToMaildir(folderDir(ctx.state.root, name), source, {
    hostname: options.hostname,
    ...(options.baseName === undefined ? {} : { baseName: options.baseName }),
  });
  await new Promise<void>((resolve, reject) => {
    let queue = waiting.get(ctx.state);
    if (queue === undefined) {
      queue = [];
      waiting.set(ctx.state, queue);
      void ctx.state.exclusive(() => indexBatch(ctx));
    }
    queue.push({ name, path: w.path, size: w.size, vsize: w.vsize, resolve, reject });
  });
  return { size: w.size, vsize: w.vsize };
}

/**
 * Checks the quota message by message (a refused one is removed again), then indexes what fits. The usage
 * is counted without this batch's own messages: the sync inside currentUsage may already have indexed
 * them (they are in new/), and they must not count twice.
 */
async function indexBatch(ctx: UserContext): Promise<void> {
  const queued = waiting.get(ctx.state) ?? [];
  waiting.delete(ctx.state);
  try {
    const batch = await withoutRepeats(ctx, queued);
    const limits = ctx.settings.limits;
    let accepted: Written[] = batch;
    if (hasLimits(limits)) {
      const used = { ...(await currentUsage(ctx)) };
      const rows = new Map<string, MailboxRow>();
      for (const name of new Set(batch.map((w) => w.name))) rows.set(name, await requireRow(ctx, name));
      const indexed = (w: Written): MessageRow | undefined => {
        const row = rows.get(w.name);
        const hit = row === undefined ? undefined : ctx.state.db.messageByBase.get(row.id, writtenFile(w.path).base);
        return row === undefined || hit === undefined ? undefined : ctx.state.db.messageByUid.get(row.id, hit.uid);
      };
      for (const w of batch)
        if (indexed(w) !== undefined) {
          used.bytes -= w.vsize;
          used.messages -= 1;
        }
      accepted = [];
      for (const w of batch) {
        try {
          checkQuota(used, limits, w.vsize, 1);
          used.bytes += w.vsize;
          used.messages += 1;
          accepted.push(w);
        } catch (err) {
          // Removed where it is now: a read-write SELECT may have moved it to cur/ meanwhile.
          const seen = indexed(w);
          const dir = folderDir(ctx.state.root, w.name);
          await unlink(seen === undefined ? w.path : messagePath(dir, seen.in_new, seen.fname)).catch(() => undefined);
          w.reject(err);
        }
      }
    }
    for (const name of new Set(accepted.map((w) => w.name))) {
      const group = accepted.filter((w) => w.name === name);
      try {
        const row = await requireRow(ctx, name);
        await indexWritten(
          ctx,
          row,
          group.map((w) => {
            const { base, fname } = writtenFile(w.path);
            return { base, fname, inNew: true, bits: 0, keywords: '', vsize: w.vsize, size: w.size, idate: null, itz: null };
          }),
        );
        for (const w of group) w.resolve();
      } catch (err) {
        // The files stay: the next sync indexes them (they are on disk, so the message is not lost), but the
        // delivery is reported failed and retried by the queue, which replaces its own file (keyed name), or
        // is dropped as a repeat when a session has moved the first copy to cur/ meanwhile (withoutRepeats).
        for (const w of group) w.reject(err);
      }
    }
  } catch (err) {
    for (const w of queued) w.reject(err);
  }
}

/**
 * A repeated delivery (the queue retrying one it saw fail, its keyed name the same) whose earlier copy the
 * index already has somewhere else — moved to cur/ by a session that saw it, its flags in the name — is
 * delivered already: the file just written is removed and the delivery succeeds, so the message is there
 * exactly once. (Where the earlier copy is still the same file in new/, the rename has replaced it.)
 */
async function withoutRepeats(ctx: UserContext, batch: readonly Written[]): Promise<Written[]> {
  const rest: Written[] = [];
  for (const w of batch) {
    const row = ctx.state.db.mailboxByName.get(w.name);
    const known = row === undefined ? undefined : ctx.state.db.messageByBase.get(row.id, writtenFile(w.path).base);
    const hit = row === undefined || known === undefined ? undefined : ctx.state.db.messageByUid.get(row.id, known.uid);
    const hitPath = hit === undefined ? undefined : messagePath(folderDir(ctx.state.root, w.name), hit.in_new, hit.fname);
    if (hitPath === undefined || hitPath === w.path) rest.push(w);
    else {
      await unlink(w.path).catch(() => undefined);
      w.resolve();
    }
  }
  return rest;
}
