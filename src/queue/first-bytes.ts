/**
 * A message's bytes kept in memory from its enqueue to the end of its first delivery attempt, so that this
 * delivery streams them instead of opening again the queue file written a moment before. Within a total
 * budget: over it, the delivery reads the file as every later one does, so a backlog never holds message
 * bodies in memory. The file stays the truth; these bytes are the ones written to it.
 */
import { Readable } from 'node:stream';

/** Default budget: 4 MiB of message bytes (about 1,000 messages of 4 KiB waiting for their first delivery; small
 * against the 100 MB the whole server should stay under at 50 sessions). */
export const FIRST_BYTES_BUDGET = 4 << 20;

export class ByteBudget {
  private used = 0;

  constructor(readonly limit: number = FIRST_BYTES_BUDGET) {}

  /** Bytes held now. */
  get inUse(): number {
    return this.used;
  }

  /** Counts `bytes` in and returns true, or false when they do not fit. */
  take(bytes: Buffer): boolean {
    if (this.used + bytes.length > this.limit) return false;
    this.used += bytes.length;
    return true;
  }

  give(bytes: Buffer): void {
    this.used -= bytes.length;
  }
}

/** A stream of one buffer (Readable.from would iterate it byte by byte, or go through an async iterator). */
export function bufferStream(bytes: Buffer): Readable {
  return new Readable({
    read() {
      if (bytes.length > 0) this.push(bytes);
      this.push(null);
    },
  });
}
