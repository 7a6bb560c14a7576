/**
 * Queue ids in the spirit of Postfix's long ids (enable_long_queue_ids): the arrival time first, so ids
 * sort roughly by age, then a per-process sequence and random characters, so that two ids made in the
 * same millisecond, or by two processes sharing a spool, never meet. Alphabet [0-9A-Z], 14 characters.
 */
import { randomInt } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export const QUEUE_ID = /^[0-9A-Z]{10,}$/;

function base36(n: number, width: number): string {
  return n.toString(36).toUpperCase().padStart(width, '0').slice(-width);
}

/** A generator of ids; `now` is injectable for tests. */
export function queueIdGenerator(now: () => number = Date.now): () => string {
  let lastMs = 0;
  let seq = 0;
  return () => {
    let ms = now();
    if (ms <= lastMs) {
      // Same millisecond (or the clock went back): keep the order with the sequence, borrowing the next
      // millisecond when 1,296 ids were made in this one.
      ms = lastMs;
      seq += 1;
      if (seq >= 36 * 36) {
        ms += 1;
        seq = 0;
      }
    } else {
      seq = 0;
    }
    lastMs = ms;
    let rand = '';
    for (let i = 0; i < 3; i++) rand += ALPHABET[randomInt(36)];
    return base36(ms, 9) + base36(seq, 2) + rand;
  };
}
