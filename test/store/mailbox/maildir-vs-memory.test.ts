/**
 * The Maildir store behaves as the in-memory reference: random sequences of APPEND, delivery, STORE (add,
 * remove, replace), COPY, MOVE and EXPUNGE (each through a read-write SELECT, which claims \Recent) over
 * three folders run against both, and after every step each folder holds the same UIDs with the same
 * flags, the same counts (\Recent included) and UIDNEXT, and the same MODSEQ growth (the
 * Maildir store's MODSEQs start at the time in microseconds, the memory store's at 1).
 */
import fc from 'fast-check';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { expect, it } from 'vitest';
import type { Flag, MailboxStore, UserMailboxes } from '../../../src/store/mailbox/mailbox-store.js';
import { MemoryMailboxStore } from '../../../src/store/mailbox/memory.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { makeTempDir } from '../../interop/harness/tmpdir.js';

const FOLDERS = ['INBOX', 'Trash', 'Work'] as const;
const FLAGS: readonly Flag[] = ['\\Seen', '\\Flagged', '\\Deleted', '\\Answered', 'work', '$Label1'];

type Op =
  | { kind: 'append'; folder: number; flags: Flag[] }
  | { kind: 'flags'; folder: number; pick: number[]; mode: 'add' | 'remove' | 'replace'; flags: Flag[] }
  | { kind: 'copy' | 'move'; folder: number; pick: number[]; to: number }
  | { kind: 'expunge'; folder: number }
  | { kind: 'deliver'; folder: number };

const folder = fc.integer({ min: 0, max: FOLDERS.length - 1 });
const flags = fc.subarray([...FLAGS]);
const pick = fc.array(fc.nat(20), { maxLength: 4 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), folder, flags }),
  fc.record({ kind: fc.constant('flags' as const), folder, pick, mode: fc.constantFrom('add' as const, 'remove' as const, 'replace' as const), flags }),
  fc.record({ kind: fc.constantFrom('copy' as const, 'move' as const), folder, pick, to: folder }),
  fc.record({ kind: fc.constant('expunge' as const), folder }),
  fc.record({ kind: fc.constant('deliver' as const), folder }),
);

interface FolderView {
  uids: [number, string[]][];
  messages: number;
  unseen: number;
  recent: number;
  uidNext: number;
  modseqGrowth: number;
}

async function view(user: UserMailboxes, base: Map<string, number>): Promise<FolderView[]> {
  const out: FolderView[] = [];
  for (const name of FOLDERS) {
    const box = await user.open(name, 'read-only');
    const snap = await box.snapshot();
    await box.close();
    out.push({
      uids: snap.records.map((r) => [r.uid, [...r.flags].sort()]),
      messages: snap.status.messages,
      unseen: snap.status.unseen,
      recent: snap.status.recent,
      uidNext: snap.status.uidNext,
      modseqGrowth: snap.status.highestModseq - (base.get(name) ?? 0),
    });
  }
  return out;
}

async function apply(store: MailboxStore, user: UserMailboxes, step: Op, n: number): Promise<void> {
  const name = FOLDERS[step.folder] as string;
  if (step.kind === 'deliver') {
    await store.delivery.deliver('alice', () => Readable.from([Buffer.from(`Subject: ${n}\r\n\r\ndelivered\r\n`)]), { hostname: 'mx.test', mailbox: name });
    return;
  }
  if (step.kind === 'append') {
    await user.append(name, { content: Buffer.from(`Subject: ${n}\r\n\r\nbody ${n}\r\n`), flags: step.flags });
    return;
  }
  const box = await user.open(name, 'read-write');
  try {
    const uids = (await box.snapshot()).records.map((r) => r.uid);
    const chosen = step.kind === 'expunge' ? [] : [...new Set(step.pick.map((i) => uids[i % Math.max(uids.length, 1)]).filter((u): u is number => u !== undefined))];
    if (step.kind === 'flags') await box.setFlags(chosen, { mode: step.mode, flags: step.flags });
    else if (step.kind === 'copy') await box.copy(chosen, FOLDERS[step.to] as string);
    else if (step.kind === 'move') await box.move(chosen, FOLDERS[step.to] as string);
    else await box.expunge();
  } finally {
    await box.close();
  }
}

async function baseModseqs(user: UserMailboxes): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const name of FOLDERS) out.set(name, (await user.status(name)).highestModseq);
  return out;
}

it('random operation sequences leave both stores in the same state', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (ops) => {
      const tmp = await makeTempDir('maildir-vs-memory');
      const stores: MailboxStore[] = [
        new MemoryMailboxStore(),
        openMaildirMailboxStore({ maildirOf: (u) => join(tmp.path, 'mail', u), hostname: 'mx.test' }),
      ];
      try {
        const users = await Promise.all(stores.map((s) => s.openUser('alice')));
        for (const user of users) await user.create('Work');
        const bases = await Promise.all(users.map(baseModseqs));
        for (const [i, step] of ops.entries()) {
          for (const [k, user] of users.entries()) await apply(stores[k] as MailboxStore, user, step, i);
          const [memory, maildir] = await Promise.all(users.map((u, k) => view(u, bases[k] as Map<string, number>)));
          expect(maildir, `after step ${i}: ${JSON.stringify(step)}`).toEqual(memory);
        }
        for (const user of users) await user.release();
      } finally {
        for (const s of stores) await s.close();
        await tmp.remove();
      }
    }),
    { numRuns: 12 },
  );
});
