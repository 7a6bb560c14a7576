/**
 * File operations over many messages without an await per message and without thousands in flight: chunks
 * run concurrently (the libuv pool does four at a time), one await per chunk.
 */
const CHUNK = 256;

export async function inBatches<T, R>(items: readonly T[], step: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(...(await Promise.all(items.slice(i, i + CHUNK).map(step))));
  return out;
}

/** For a rename/unlink/link of a message: false when the file is gone (another process moved or removed it). */
export function goneIsFalse(err: unknown): false {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
  throw err;
}
