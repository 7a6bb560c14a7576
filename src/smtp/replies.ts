/**
 * SMTP replies as smtp-server sends them: an Error whose responseCode is the code and whose message starts
 * with our enhanced status code (enhanced-codes.ts makes smtp-server keep it instead of guessing one), and
 * the chain's verdicts mapped to them with Postfix's defaults for a milter's reject and tempfail.
 */
import { textLines, type Reply } from '../mail/reply.js';

/** An error smtp-server turns into the reply "CODE ENHANCED TEXT". */
export interface SmtpReplyError extends Error {
  responseCode: number;
}

export interface SmtpReply {
  readonly code: number;
  readonly enhancedCode: string;
  readonly text: string;
}

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3}$/;

export function smtpError(reply: SmtpReply): SmtpReplyError {
  const err = new Error(`${reply.enhancedCode} ${reply.text}`) as SmtpReplyError;
  err.responseCode = reply.code;
  return err;
}

export function replyLine(reply: SmtpReply): string {
  return `${reply.code} ${reply.enhancedCode} ${reply.text}`;
}

/** Postfix's replies to a milter's reject and tempfail that gave no reply of its own (milter8.c). */
export const MILTER_REJECT: SmtpReply = { code: 550, enhancedCode: '5.7.1', text: 'Command rejected' };
export const MILTER_TEMPFAIL: SmtpReply = { code: 451, enhancedCode: '4.7.1', text: 'Service unavailable - try again later' };

/**
 * The SMTP reply for a chain's reject or tempfail: its own code, enhanced code and text when they fit the
 * verdict's class (a 5xx for reject, a 4xx for tempfail), else Postfix's default. Several text lines are
 * joined into one (smtp-server sends an error as one line).
 */
export function chainRefusal(reply: Reply): SmtpReply {
  const fallback = reply.status === 'tempfail' ? MILTER_TEMPFAIL : MILTER_REJECT;
  const klass = reply.status === 'tempfail' ? 4 : 5;
  const code = reply.code !== undefined && Math.floor(reply.code / 100) === klass ? reply.code : fallback.code;
  const enhancedCode =
    reply.enhancedCode !== undefined && ENHANCED.test(reply.enhancedCode) && reply.enhancedCode.startsWith(String(klass))
      ? reply.enhancedCode
      : code === fallback.code
        ? fallback.enhancedCode
        : `${klass}.0.0`;
  const lines = textLines(reply);
  // eslint-disable-next-line no-control-regex
  const text = lines.length > 0 ? lines.join(' ').replace(/[\x00-\x1f\x7f]/g, ' ') : fallback.text;
  return { code, enhancedCode, text };
}

/** Whether a verdict refuses the command (discard is answered with success and handled by the caller). */
export function isRefusal(reply: Reply): boolean {
  return reply.status === 'reject' || reply.status === 'tempfail';
}
