/**
 * A filter's answer to one stage. Names follow the milter statuses, in mail terms.
 * `skip` is only meaningful for body chunks (stop sending body, go to end of message).
 */
export type Status = 'continue' | 'accept' | 'reject' | 'tempfail' | 'discard' | 'skip';

export interface Reply {
  readonly status: Status;
  /** SMTP reply code, e.g. 550. Must be 4xx for tempfail and 5xx for reject to be sent as given. */
  readonly code?: number;
  /** Enhanced status code (RFC 3463), e.g. "5.7.1"; its class must match the code's first digit. */
  readonly enhancedCode?: string;
  /** Reply text; several strings make a multi-line reply. */
  readonly text?: string | readonly string[];
}

export const CONTINUE: Reply = Object.freeze({ status: 'continue' });
export const ACCEPT: Reply = Object.freeze({ status: 'accept' });
export const REJECT: Reply = Object.freeze({ status: 'reject' });
export const TEMPFAIL: Reply = Object.freeze({ status: 'tempfail' });
export const DISCARD: Reply = Object.freeze({ status: 'discard' });
export const SKIP: Reply = Object.freeze({ status: 'skip' });

export function reject(code = 550, enhancedCode = '5.7.1', text?: string | readonly string[]): Reply {
  return { status: 'reject', code, enhancedCode, ...(text !== undefined ? { text } : {}) };
}

export function tempfail(code = 451, enhancedCode = '4.7.1', text?: string | readonly string[]): Reply {
  return { status: 'tempfail', code, enhancedCode, ...(text !== undefined ? { text } : {}) };
}

export function textLines(reply: Reply): readonly string[] {
  if (reply.text === undefined) return [];
  return typeof reply.text === 'string' ? [reply.text] : reply.text;
}
