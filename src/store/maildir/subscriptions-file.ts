/**
 * Dovecot's `subscriptions` file in the Maildir root (version 2, checked against Dovecot 2.3 in
 * dovecot-compat.test.ts): the header `V\t2\n\n`, then one subscribed mailbox a line, its levels joined by
 * a tab, each level in its on-disk form (mUTF-7, listescape'd: "Archive\2e2024\tQ1") and tab-escaped
 * (\001 → \0011, \t → \001t, \r → \001r, \n → \001n). INBOX is "INBOX". Written as Dovecot does, under
 * `subscriptions.lock`, the new content renamed over the file. A subscription may name a mailbox that does
 * not exist (RFC 3501 §6.3.6 allows it), so names are kept, not checked against the folders.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireDotlock, type DotlockOptions } from './dotlock.js';
import { decodeFolderMutf7, encodeFolderMutf7 } from './folder-mutf7.js';
import { escapeListComponent, unescapeListComponent } from './listescape.js';
import { checkMailboxName, MAILBOX_SEPARATOR } from './mailbox-names.js';

export const SUBSCRIPTIONS_FILE = 'subscriptions';
const HEADER = 'V\t2\n\n';
/** Dovecot's SUBSCRIPTION_FILE_CHANGE_TIMEOUT: its lock is stale after 30 s. */
const STALE_MS = 30_000;

/** Dovecot's str_append_tabescaped: \001 is the escape character. */
const TAB_ESCAPE = '\x01';
const TAB_ESCAPES: Readonly<Record<string, string>> = { [TAB_ESCAPE]: '1', '\t': 't', '\r': 'r', '\n': 'n' };
const TAB_UNESCAPES: Readonly<Record<string, string>> = { '1': TAB_ESCAPE, t: '\t', r: '\r', n: '\n' };

function tabEscape(s: string): string {
  let out = '';
  for (const c of s) out += TAB_ESCAPES[c] === undefined ? c : TAB_ESCAPE + TAB_ESCAPES[c];
  return out;
}

function tabUnescape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c !== TAB_ESCAPE || i + 1 === s.length) out += c;
    else out += TAB_UNESCAPES[s[++i] as string] ?? (s[i] as string);
  }
  return out;
}

/** One mailbox name → its line (without the newline). */
export function subscriptionLine(name: string): string {
  const check = checkMailboxName(name);
  if (!check.ok) throw new Error(check.reason);
  return check.components.map((c) => tabEscape(escapeListComponent(encodeFolderMutf7(c)))).join('\t');
}

/**
 * Canonical mailbox names in the file's order, each once. Lines that do not decode to a valid name are
 * skipped (`onSkip` hears of them); a file without the version-2 header is read as version 1 (one storage
 * name a line, levels joined by '.').
 */
export function parseSubscriptions(text: string, onSkip?: (line: string, reason: string) => void): string[] {
  const v2 = text.startsWith(HEADER);
  const body = v2 ? text.slice(HEADER.length) : text;
  const names: string[] = [];
  const seen = new Set<string>();
  for (const line of body.split('\n')) {
    if (line === '') continue;
    try {
      const levels = v2 ? line.split('\t').map(tabUnescape) : line.split('.');
      const name = levels.map((l) => decodeFolderMutf7(unescapeListComponent(l))).join(MAILBOX_SEPARATOR);
      const check = checkMailboxName(name);
      if (!check.ok) throw new Error(check.reason);
      if (!seen.has(check.name)) {
        seen.add(check.name);
        names.push(check.name);
      }
    } catch (err) {
      onSkip?.(line, (err as Error).message);
    }
  }
  return names;
}

/** The file's text for `names` (version 2; duplicates written once). */
export function formatSubscriptions(names: Iterable<string>): string {
  const lines = new Set<string>();
  for (const n of names) lines.add(subscriptionLine(n));
  return HEADER + [...lines].map((l) => `${l}\n`).join('');
}

/** Reads `<root>/subscriptions`: the subscribed names ([] when absent). */
export async function readSubscriptions(root: string, onSkip?: (line: string, reason: string) => void): Promise<string[]> {
  try {
    return parseSubscriptions(await readFile(join(root, SUBSCRIPTIONS_FILE), 'utf8'), onSkip);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Subscribes or unsubscribes `name` under the file's lock (read, change, rename over): true when the file
 * changed. Lines this reader skips are kept as they were, so a name it cannot read is never lost.
 */
export async function setSubscribed(root: string, name: string, subscribed: boolean, options: DotlockOptions = {}): Promise<boolean> {
  const line = subscriptionLine(name);
  const path = join(root, SUBSCRIPTIONS_FILE);
  const lock = await acquireDotlock(path, { staleMs: STALE_MS, ...options });
  try {
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const v2 = text.startsWith(HEADER);
    const lines = (v2 ? text.slice(HEADER.length) : text).split('\n').filter((l) => l !== '');
    // A version 1 file is rewritten as version 2: its lines are converted, the ones that do not convert kept.
    const current = v2 ? lines : lines.map((l) => convertV1(l));
    const has = current.includes(line);
    if (has === subscribed && v2) {
      await lock.release();
      return false;
    }
    const next = subscribed ? (has ? current : [...current, line]) : current.filter((l) => l !== line);
    await lock.replace(HEADER + next.map((l) => `${l}\n`).join(''));
    return true;
  } finally {
    await lock.release();
  }
}

function convertV1(line: string): string {
  const names = parseSubscriptions(`${line}\n`);
  return names[0] === undefined ? line : subscriptionLine(names[0]);
}
