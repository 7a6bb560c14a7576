/** What SPF decides at MAIL FROM: continue, or the reply common SPF milters give for the result. */
import { CONTINUE, reject, tempfail, type Reply } from '../../mail/reply.js';
import type { SpfOutcome } from '../shared/spf.js';

export interface SpfPolicy {
  readonly rejectFail: boolean;
  readonly rejectPermerror: boolean;
  readonly deferTemperror: boolean;
}

/**
 * fail → 550 5.7.23 (RFC 7372 "SPF validation failed") with the explanation, permerror → 550 5.7.24,
 * temperror → 451 4.7.24, each only when asked for; `explanation` is looked up only for a fail reject.
 */
export async function spfReply(outcome: SpfOutcome, policy: SpfPolicy, explanation: () => Promise<string>): Promise<Reply> {
  switch (outcome.result) {
    case 'fail':
      if (!policy.rejectFail) return CONTINUE;
      return reject(550, '5.7.23', `Message rejected due to: SPF fail - not authorized. ${await explanation()}`);
    case 'permerror':
      if (!policy.rejectPermerror) return CONTINUE;
      return reject(550, '5.7.24', `Message rejected due to: SPF permanent error in the record of ${outcome.domain || 'the sender domain'}`);
    case 'temperror':
      if (!policy.deferTemperror) return CONTINUE;
      return tempfail(451, '4.7.24', `SPF temporary error for ${outcome.domain || 'the sender domain'}, please try again later`);
    default:
      return CONTINUE;
  }
}
