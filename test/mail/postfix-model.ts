/**
 * An independent model of how Postfix (milter8.c and cleanup_milter.c, 3.x) applies a filter's
 * header edits to a queue file, written from Postfix's documented behaviour rather than from mail's
 * HeaderList, so that tests need not take the editor as its own reference:
 * - the message starts with Postfix's own Received, which milters are never sent;
 * - SMFIR_INSHEADER index i becomes Postfix's 1-based i + 1 counted over every field, its own
 *   Received included: the new field goes before that field, or at the end when there is none
 *   (so 0 lands above its Received, 1 just below it);
 * - SMFIR_CHGHEADER index 0 is taken as 1; the search skips the top field, whatever it is, then
 *   counts fields of that name case-insensitively; an empty value deletes the field found (nothing
 *   when none is); a value changes it, or is appended when there is none;
 * - SMFIR_ADDHEADER appends.
 */
import type { Change } from '../../src/mail/changes.js';

export interface ModelField {
  readonly name: string;
  readonly value: string;
  /** Postfix's own Received. */
  readonly own?: true;
}

export const OWN_RECEIVED: ModelField = { name: 'Received', value: ' from client by postfix', own: true };

export interface PostfixModelResult {
  readonly fields: ModelField[];
  /**
   * A change or deletion counted Postfix's own Received among the fields of its name (possible once
   * a field was inserted above it, when a later one names Received).
   */
  readonly touchedOwn: boolean;
}

/**
 * Applies header changes as Postfix would. `stored` turns a change's value into the value that
 * follows the colon (Postfix adds one space unless the milter negotiated HDR_LEADSPC).
 */
export function postfixApply(fields: readonly ModelField[], changes: readonly Change[], stored: (v: string) => string): PostfixModelResult {
  const out = [...fields];
  let touchedOwn = false;
  for (const c of changes) {
    if (c.kind === 'addHeader') {
      out.push({ name: c.name, value: stored(c.value) });
    } else if (c.kind === 'insertHeader') {
      const before = c.index + 1; // 1-based over every field
      if (before <= out.length) out.splice(before - 1, 0, { name: c.name, value: stored(c.value) });
      else out.push({ name: c.name, value: stored(c.value) });
    } else if (c.kind === 'changeHeader' || c.kind === 'deleteHeader') {
      const value = c.kind === 'changeHeader' ? c.value : '';
      const wanted = c.index === 0 ? 1 : c.index;
      let seen = 0;
      let at = -1;
      for (let i = 1; i < out.length; i++) {
        if (out[i]!.name.toLowerCase() !== c.name.toLowerCase()) continue;
        if (out[i]!.own) touchedOwn = true;
        if (++seen === wanted) {
          at = i;
          break;
        }
      }
      if (value === '') {
        if (at !== -1) out.splice(at, 1);
      } else if (at !== -1) {
        out[at] = { name: out[at]!.name, value: stored(value) };
      } else {
        out.push({ name: c.name, value: stored(value) });
      }
    }
  }
  return { fields: out, touchedOwn };
}
