/**
 * HEADER <field> searches answered from a per-field cache, as Dovecot answers them from
 * dovecot.index.cache: the first search on a field reads the messages and stores, per message, that
 * field's values decoded and folded as HEADER matches them (the store keeps them beside the message,
 * Mailbox.meta/saveMeta kind `header:<field>`, in a table read by UID range); later searches on the
 * field read only those short strings. Dovecot likewise decides to cache a header after the first search
 * on it. A message's record:
 *   '0'                      the field is absent
 *   '1' + text               one field, its folded text
 *   'J' + JSON string array  several fields
 * Anything else found (damaged) is computed again. The form belongs to the kind's name: another form
 * would take another name, as a search may rule out a record by what the store finds in it.
 */
import type { HeaderField } from '../../mail/mime/header-block.js';
import type { MetaKind } from '../../store/mailbox/mailbox-store.js';
import { headerText } from './text-match.js';

/** Longer field names are searched without the cache (a client could otherwise fill the index with junk names). */
const MAX_FIELD = 64;

/** The store's kind for a field's records, or undefined when the field is not cached. */
export function headerKind(field: string): MetaKind | undefined {
  return field.length > 0 && field.length <= MAX_FIELD ? `header:${field}` : undefined;
}

/** The record of `field` (lower case) for a message with these header fields. */
export function headerRecord(fields: readonly HeaderField[], field: string): string {
  const texts: string[] = [];
  for (const f of fields) if (f.name.toLowerCase() === field) texts.push(headerText(f));
  if (texts.length === 0) return '0';
  return texts.length === 1 ? `1${texts[0]!}` : `J${JSON.stringify(texts)}`;
}

/** Whether a record is one this code can read. */
export function validRecord(record: string): boolean {
  const c = record.charCodeAt(0);
  return (c === 0x30 && record.length === 1) || c === 0x31 || c === 0x4a;
}

/**
 * HEADER's answer from a record (as text-match: some field of that name contains the folded needle; an
 * empty needle matches when the field is there at all); undefined when the record is damaged.
 */
export function recordMatches(record: string, needle: string): boolean | undefined {
  switch (record.charCodeAt(0)) {
    case 0x30:
      return false;
    case 0x31:
      return needle === '' || record.indexOf(needle, 1) !== -1;
    case 0x4a: {
      if (needle === '') return true;
      try {
        const texts = JSON.parse(record.slice(1)) as unknown;
        return Array.isArray(texts) && texts.some((t) => typeof t === 'string' && t.includes(needle));
      } catch {
        return undefined;
      }
    }
    default:
      return undefined;
  }
}
