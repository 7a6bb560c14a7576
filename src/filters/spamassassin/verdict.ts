/** spamass-milter -r: whether SpamAssassin's verdict refuses the message. */
import type { SpamVerdict } from './protocol.js';

/**
 * `rejectScore` undefined: never; -1: whatever SpamAssassin marks as spam; otherwise a score at or
 * above it (compared as a number, so `reject_score = 15` refuses 15.0 and lets 14.9 through, as
 * spamass-milter's whole-number comparison does for whole-number thresholds).
 */
export function refuses(spam: SpamVerdict, rejectScore: number | undefined): boolean {
  if (rejectScore === undefined) return false;
  if (rejectScore === -1) return spam.isSpam;
  return spam.score >= rejectScore;
}
