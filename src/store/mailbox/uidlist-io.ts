/**
 * Dovecot's `dovecot-uidlist` in a folder (version 3): a header `3 V<uidvalidity> N<next uid> G<guid>`, then
 * `<uid> [fields] :<base name>` lines in UID order. The index writes it in step with every UID it gives out
 * (new lines appended under the dotlock, as Dovecot appends them; Dovecot takes a line's UID over a stale
 * N), so Dovecot run on the same Maildir sees the same UIDs, and a lost index is rebuilt with them.
 * (A stand-in for the file layer's uidlist.ts, which was not on i11-maildir yet.)
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireDotlock } from '../maildir/dotlock.js';

export const UIDLIST_FILE = 'dovecot-uidlist';

export interface Uidlist {
  readonly uidValidity: number;
  readonly nextUid: number;
  readonly guid: string;
  /** Base name → UID. */
  readonly uids: ReadonlyMap<string, number>;
}

/** The folder's uidlist, undefined when it is missing or not one Dovecot would read. */
export async function readUidlist(dir: string): Promise<Uidlist | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, UIDLIST_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const lines = text.split('\n');
  const header = /^3 (.*)$/.exec(lines[0] ?? '');
  if (header === null) return undefined;
  const fields = new Map((header[1] ?? '').split(' ').map((f) => [f[0], f.slice(1)] as const));
  const uidValidity = Number(fields.get('V'));
  if (!Number.isSafeInteger(uidValidity) || uidValidity <= 0) return undefined;
  let nextUid = Number(fields.get('N') ?? 1);
  if (!Number.isSafeInteger(nextUid) || nextUid < 1) nextUid = 1;
  const uids = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(' :');
    if (colon === -1) continue;
    const uid = Number(line.slice(0, line.indexOf(' ')));
    if (!Number.isSafeInteger(uid) || uid <= 0) continue;
    uids.set(line.slice(colon + 2), uid);
    if (uid >= nextUid) nextUid = uid + 1;
  }
  return { uidValidity, nextUid, guid: fields.get('G') ?? newGuid(), uids };
}

export function newGuid(): string {
  return randomBytes(16).toString('hex');
}

/** Writes the whole uidlist (atomically, through the dotlock's replace). */
export async function writeUidlist(dir: string, uidValidity: number, nextUid: number, guid: string, entries: readonly (readonly [number, string])[]): Promise<void> {
  const lock = await acquireDotlock(join(dir, UIDLIST_FILE));
  try {
    let text = `3 V${uidValidity} N${nextUid} G${guid}\n`;
    for (const [uid, base] of entries) text += `${uid} :${base}\n`;
    await lock.replace(text);
  } finally {
    await lock.release();
  }
}

/** Appends `<uid> :<base>` lines (durably); writes a fresh header first when the file is missing. */
export async function appendUidlist(dir: string, uidValidity: number, entries: readonly (readonly [number, string])[]): Promise<void> {
  if (entries.length === 0) return;
  const path = join(dir, UIDLIST_FILE);
  const lock = await acquireDotlock(path);
  try {
    const handle = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    try {
      let text = '';
      if ((await handle.stat()).size === 0) text += `3 V${uidValidity} N${entries[0]?.[0] ?? 1} G${newGuid()}\n`;
      for (const [uid, base] of entries) text += `${uid} :${base}\n`;
      await handle.write(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } finally {
    await lock.release();
  }
}
