/**
 * When to read many messages' index rows by one UID range scan rather than one look-up per UID: FETCH
 * 1:1000 or a SEARCH batch asks for UIDs that lie close together, where one scan skipping a few rows not
 * asked for is far cheaper than a thousand statement runs; a few UIDs far apart are cheaper one by one.
 */

/** The lowest and highest of `uids` when they are dense enough for a range scan; undefined when empty or sparse. */
export function denseRange(uids: readonly number[]): readonly [low: number, high: number] | undefined {
  if (uids.length === 0) return undefined;
  let low = Infinity;
  let high = -Infinity;
  for (const uid of uids) {
    if (uid < low) low = uid;
    if (uid > high) high = uid;
  }
  return high - low < 4 * uids.length + 64 ? [low, high] : undefined;
}
