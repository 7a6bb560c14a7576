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

export async function deliverBatched(ctx: UserContext, source: () => Readable, options: DeliveryOptions): Promise<{ size: number; vsize: number }> {
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

/** Checks the quota message by message (a refused one is removed again), then indexes what fits. */
async function indexBatch(ctx: UserContext): Promise<void> {
  const batch = waiting.get(ctx.state) ?? [];
  waiting.delete(ctx.state);
  try {
    const limits = ctx.settings.limits;
    const used = hasLimits(limits) ? { ...(await currentUsage(ctx)) } : undefined;
    const accepted: Written[] = [];
    for (const w of batch) {
      if (used !== undefined) {
        try {
          checkQuota(used, limits, w.vsize, 1);
          used.bytes += w.vsize;
          used.messages += 1;
        } catch (err) {
          await unlink(w.path).catch(() => undefined);
          w.reject(err);
          continue;
        }
      }
      accepted.push(w);
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
        // delivery is reported failed and retried by the queue, which replaces its own file (keyed name).
        for (const w of group) w.reject(err);
      }
    }
  } catch (err) {
    for (const w of batch) w.reject(err);
  }
}
