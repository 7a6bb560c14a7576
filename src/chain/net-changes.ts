/**
 * The difference between the message as the MTA sent it and as the children left it, as milter
 * changes the MTA applies in order: value changes, then deletions (last first, so occurrence
 * indexes stay valid), then new headers in final order (appended when after every original one).
 * Changes and deletions come while the MTA's hidden Received is still its top field, so Postfix
 * skips it and the occurrences are those of the fields the MTA sent; insert indexes count the
 * hidden Received where it stands in the final list, as Postfix counts it. Applied by Postfix (or
 * by a model of its rules, or mail's applyChanges), they turn the original fields into the final
 * ones (test/chain/net-changes.test.ts, test/mail/postfix-model.test.ts).
 */
import type { Change } from '../mail/changes.js';
import type { Header } from '../mail/header-list.js';

/**
 * A header in the chain's buffer: `id` is its position in the MTA's original list, if it came from
 * there; the MTA's hidden Received has HIDDEN_ID.
 */
export interface BufferedHeader extends Header {
  readonly id?: number;
}

export const HIDDEN_ID = -1;

/**
 * `original`: the fields the MTA sent (ids 0..n-1); `final`: every field as the children left it,
 * the hidden Received (HIDDEN_ID) included where it stands.
 */
export function headerChanges(original: readonly Header[], final: readonly BufferedHeader[]): Change[] {
  const out: Change[] = [];
  const survivors = new Map<number, BufferedHeader>();
  for (const h of final) if (h.id !== undefined) survivors.set(h.id, h);
  const occurrence = (i: number): number => {
    const name = original[i]!.name.toLowerCase();
    let n = 0;
    for (let j = 0; j <= i; j++) if (original[j]!.name.toLowerCase() === name) n++;
    return n;
  };
  original.forEach((h, i) => {
    const now = survivors.get(i);
    if (now && now.value !== h.value) out.push({ kind: 'changeHeader', name: h.name, index: occurrence(i), value: now.value });
  });
  for (let i = original.length - 1; i >= 0; i--) {
    if (!survivors.has(i)) out.push({ kind: 'deleteHeader', name: original[i]!.name, index: occurrence(i) });
  }
  const lastOriginal = final.reduce((last, h, pos) => (h.id !== undefined ? pos : last), -1);
  final.forEach((h, pos) => {
    if (h.id !== undefined) return;
    out.push(
      pos > lastOriginal
        ? { kind: 'addHeader', name: h.name, value: h.value }
        : { kind: 'insertHeader', index: pos, name: h.name, value: h.value },
    );
  });
  return out;
}
