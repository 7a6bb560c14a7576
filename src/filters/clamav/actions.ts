/** clamav-milter's OnInfected and OnFail actions as replies. */
import type { ClamavFailAction, ClamavInfectedAction } from '../../config/builtins/clamav.js';
import { CONTINUE, DISCARD, reject, REJECT, TEMPFAIL, type Reply } from '../../mail/reply.js';

/** RejectMsg with `%v` replaced by the virus name (every other character as written). */
export function rejectText(format: string, virus: string): string {
  return format.replaceAll('%v', virus);
}

/**
 * The reply for an infected message. quarantine answers continue: the quarantine itself is a change
 * (clamav-milter: smfi_quarantine, then accept). An empty reject_msg leaves the text to the MTA,
 * as clamav-milter without RejectMsg does.
 */
export function infectedReply(action: ClamavInfectedAction, virus: string, rejectMsg: string): Reply {
  switch (action) {
    case 'reject':
      return rejectMsg === '' ? REJECT : reject(550, '5.7.1', rejectText(rejectMsg, virus));
    case 'defer':
      return TEMPFAIL;
    case 'blackhole':
      return DISCARD;
    case 'quarantine':
    case 'accept':
      return CONTINUE;
  }
}

/** The reply when clamd gave no usable answer; the MTA picks the text, as with clamav-milter. */
export function failReply(action: ClamavFailAction): Reply {
  switch (action) {
    case 'accept':
      return CONTINUE;
    case 'defer':
      return TEMPFAIL;
    case 'reject':
      return REJECT;
  }
}
