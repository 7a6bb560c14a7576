/**
 * spamass-milter's header work, as milter changes: incoming X-Spam-* fields are removed (they were
 * withheld from spamd and may be forged), SpamAssassin's own X-Spam-* fields are added, and, when the
 * message may be modified, the fields SpamAssassin rewrote (Subject, Content-Type, ...) follow its
 * version. changeHeader indexes are 1-based among fields of one name; an empty value deletes.
 */
import type { Change } from '../../mail/changes.js';
import type { Header } from '../../mail/header-list.js';
import { isSpamHeader, toMilterValue, unfolded } from './rewritten.js';

/**
 * Fields SpamAssassin rewrites in a message it marks: `rewrite_header Subject|From|To`, and the MIME
 * fields of the report_safe wrapper. Others (Received, Message-Id spelling) are left as they were.
 */
export const REWRITTEN_FIELDS = ['Subject', 'From', 'To', 'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding'] as const;

/** Deletes every X-Spam-* field of the incoming message; the last occurrence first, so indexes hold. */
export function forgedSpamHeaderRemovals(incoming: readonly Header[]): Change[] {
  const counts = new Map<string, { name: string; count: number }>();
  for (const h of incoming) {
    if (!isSpamHeader(h.name)) continue;
    const key = h.name.toLowerCase();
    const entry = counts.get(key);
    if (entry === undefined) counts.set(key, { name: h.name, count: 1 });
    else entry.count++;
  }
  const changes: Change[] = [];
  for (const { name, count } of counts.values()) {
    for (let index = count; index >= 1; index--) changes.push({ kind: 'changeHeader', name, index, value: '' });
  }
  return changes;
}

/** SpamAssassin's X-Spam-* fields (Flag, Status, Level, Checker-Version, Report, ...), in its order. */
export function spamHeaderAdditions(rewritten: readonly Header[]): Change[] {
  return rewritten.filter((h) => isSpamHeader(h.name)).map((h) => ({ kind: 'addHeader', name: h.name, value: toMilterValue(h.value) }));
}

/**
 * Makes the fields named `names` of the incoming message equal SpamAssassin's: changed in place
 * where both have an occurrence, deleted where only the incoming message has one, added where only
 * SpamAssassin's has one. Values that differ only in folding are left alone.
 */
export function rewrittenFieldChanges(
  incoming: readonly Header[],
  rewritten: readonly Header[],
  names: readonly string[] = REWRITTEN_FIELDS,
): Change[] {
  const changes: Change[] = [];
  for (const name of names) {
    const lower = name.toLowerCase();
    const before = incoming.filter((h) => h.name.toLowerCase() === lower);
    const after = rewritten.filter((h) => h.name.toLowerCase() === lower);
    const common = Math.min(before.length, after.length);
    for (let i = 0; i < common; i++) {
      const value = after[i]!.value;
      if (unfolded(before[i]!.value) !== unfolded(value)) {
        changes.push({ kind: 'changeHeader', name: before[i]!.name, index: i + 1, value: nonEmpty(toMilterValue(value)) });
      }
    }
    for (let i = before.length; i > common; i--) changes.push({ kind: 'changeHeader', name: before[i - 1]!.name, index: i, value: '' });
    for (let i = common; i < after.length; i++) changes.push({ kind: 'addHeader', name: after[i]!.name, value: toMilterValue(after[i]!.value) });
  }
  return changes;
}

/** An empty changeHeader value would delete the field; a field SpamAssassin emptied keeps one space. */
function nonEmpty(value: string): string {
  return value === '' ? ' ' : value;
}
