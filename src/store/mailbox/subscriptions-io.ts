/**
 * Dovecot's `subscriptions` file in the Maildir root (version 2, as Dovecot 2.3 writes it): `V\t2\n\n`, then
 * one name a line with the hierarchy separator written as a tab and each component listescaped. (A
 * stand-in for the file layer's subscriptions-file.ts, which was not on i11-maildir yet.)
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireDotlock } from '../maildir/dotlock.js';
import { escapeListComponent, unescapeListComponent } from '../maildir/listescape.js';

export const SUBSCRIPTIONS_FILE = 'subscriptions';

export async function readSubscriptions(root: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(join(root, SUBSCRIPTIONS_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw err;
  }
  const lines = text.split('\n');
  const v2 = lines[0] === 'V\t2';
  const names = new Set<string>();
  for (const line of v2 ? lines.slice(2) : lines) {
    if (line === '') continue;
    try {
      names.add(v2 ? line.split('\t').map(unescapeListComponent).join('/') : line);
    } catch {
      // A line Dovecot would not have written: left out.
    }
  }
  return names;
}

/** Subscribes or unsubscribes `name` (re-read and rewritten under the dotlock). */
export async function setSubscribed(root: string, names: readonly string[], subscribed: boolean): Promise<void> {
  const lock = await acquireDotlock(join(root, SUBSCRIPTIONS_FILE));
  try {
    const current = await readSubscriptions(root);
    const before = current.size;
    let changed = false;
    for (const name of names) {
      if (subscribed) current.add(name);
      else changed = current.delete(name) || changed;
    }
    if (!changed && current.size === before) return;
    const body = [...current].map((n) => n.split('/').map(escapeListComponent).join('\t') + '\n').join('');
    await lock.replace(`V\t2\n\n${body}`);
  } finally {
    await lock.release();
  }
}
