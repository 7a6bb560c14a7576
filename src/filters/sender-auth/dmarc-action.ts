/** What `dmarc_reject = true` does with a failed DMARC check: the sender domain's own policy, as asked. */
import { reject, type Reply } from '../../mail/reply.js';
import type { DmarcVerdict } from './verify.js';

export type DmarcAction = { readonly kind: 'none' } | { readonly kind: 'reject'; readonly reply: Reply } | { readonly kind: 'quarantine'; readonly reason: string };

/**
 * p=reject refuses with 550 5.7.1, p=quarantine quarantines; pct= below 100 samples (RFC 7489 §6.6.4:
 * a message outside the sample gets the next weaker policy). `random` is in [0, 1).
 */
export function dmarcAction(verdict: DmarcVerdict | undefined, random: () => number = Math.random): DmarcAction {
  if (verdict === undefined || verdict.result !== 'fail' || verdict.policy === undefined || verdict.policy === 'none') return { kind: 'none' };
  let policy: 'reject' | 'quarantine' | 'none' = verdict.policy;
  if (verdict.pct !== undefined && verdict.pct < 100 && random() * 100 >= verdict.pct) {
    policy = policy === 'reject' ? 'quarantine' : 'none';
  }
  if (policy === 'reject') {
    return { kind: 'reject', reply: reject(550, '5.7.1', `Rejected by DMARC policy for ${verdict.fromDomain}`) };
  }
  if (policy === 'quarantine') return { kind: 'quarantine', reason: `DMARC policy of ${verdict.fromDomain} is quarantine` };
  return { kind: 'none' };
}
