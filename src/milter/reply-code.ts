/** SMTP replies in REPLYCODE packets: formatting (filter side) and parsing (MTA side). */
import type { Reply } from '../mail/reply.js';
import { textLines } from '../mail/reply.js';
import type { MilterResponse } from './responses.js';

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3}$/;

/**
 * The response for a reply. Like libmilter, a custom code is only sent when its class agrees with
 * the status (4xx for tempfail, 5xx for reject); otherwise the bare status goes out.
 */
export function responseForReply(reply: Reply): MilterResponse {
  const { status } = reply;
  if (status !== 'reject' && status !== 'tempfail') return { type: status };
  const lines = textLines(reply);
  if (reply.code === undefined && lines.length === 0) return { type: status };
  const klass = status === 'reject' ? 5 : 4;
  const code = reply.code ?? (klass === 5 ? 550 : 451);
  if (!Number.isInteger(code) || Math.floor(code / 100) !== klass) return { type: status };
  let ext = reply.enhancedCode;
  if (ext !== undefined && (!ENHANCED.test(ext) || Number(ext[0]) !== klass)) ext = undefined;
  ext ??= `${klass}.0.0`;
  return { type: 'replycode', text: formatReplyText(code, ext, lines) };
}

/** `ddd x.y.z text`, multi-line with `ddd-`; `%` doubled because Postfix and Sendmail expand it. */
export function formatReplyText(code: number, ext: string, lines: readonly string[]): string {
  const clean = (lines.length === 0 ? [''] : lines).map((l) => l.replace(/[\r\n]+/g, ' ').replace(/%/g, '%%'));
  return clean
    .map((line, i) => `${code}${i === clean.length - 1 ? ' ' : '-'}${ext}${line.length > 0 ? ' ' + line : ''}`)
    .join('\r\n');
}

export interface ParsedReply {
  readonly code: number;
  readonly enhancedCode?: string;
  readonly lines: readonly string[];
}

/** Parses a REPLYCODE text; undefined when it is not `ddd` followed by space, dash or nothing. */
export function parseReplyText(text: string): ParsedReply | undefined {
  const rawLines = text.split(/\r?\n/);
  const first = /^([2-5]\d\d)(?:[ -]|$)/.exec(rawLines[0] ?? '');
  if (!first) return undefined;
  const code = Number(first[1]);
  let enhancedCode: string | undefined;
  const lines = rawLines.map((raw) => {
    let rest = raw.replace(/^\d{3}[ -]?/, '');
    const m = /^([245]\.\d{1,3}\.\d{1,3})(?: |$)/.exec(rest);
    if (m) {
      enhancedCode ??= m[1];
      rest = rest.slice(m[0].length);
    }
    return rest.replace(/%%/g, '%');
  });
  return { code, ...(enhancedCode !== undefined ? { enhancedCode } : {}), lines };
}

/** The status a REPLYCODE stands for: its first digit decides. */
export function replyFromText(text: string): Reply {
  const parsed = parseReplyText(text);
  if (!parsed) return { status: 'tempfail', text: text };
  const status = parsed.code >= 500 ? 'reject' : 'tempfail';
  return {
    status,
    code: parsed.code,
    ...(parsed.enhancedCode !== undefined ? { enhancedCode: parsed.enhancedCode } : {}),
    text: parsed.lines.length === 1 ? parsed.lines[0]! : parsed.lines,
  };
}
