// SMTP/LMTP server replies read from raw bytes (RFC 5321 §4.2): "250-first", "250 last", with the
// optional enhanced status code of RFC 3463 at the start of the text. A pure function over a buffer,
// so the scenario runner (smtp-scenario.ts) feeds it whatever the socket delivered so far.

export interface SmtpReply {
  /** The three-digit code, e.g. 250. */
  code: number;
  /** The RFC 3463 code of the last line ("5.7.1"), when the server sent one. */
  enhanced?: string;
  /** The text of every line (after the code and enhanced code), joined with "\n". */
  text: string;
  /** The reply's lines as received, without CRLF. */
  lines: string[];
}

export interface ReadReplies {
  replies: SmtpReply[];
  /** Bytes after the last complete reply (an incomplete line or multi-line reply). */
  rest: Buffer;
  /** A line that is not a reply ("garbage"), if one was met: reading stops there. */
  malformed?: string;
}

const LINE = /^([2-5]\d\d)([ -])(.*)$/s;
const ENHANCED = /^([245]\.\d{1,3}\.\d{1,3})(?: |$)/;

/** Splits `buf` into complete replies; a line ends with LF (a preceding CR is dropped). */
export function readReplies(buf: Buffer): ReadReplies {
  const replies: SmtpReply[] = [];
  let start = 0; // start of the current (possibly multi-line) reply
  let pos = 0;
  let lines: string[] = [];
  for (;;) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) break;
    const line = buf.subarray(pos, nl > pos && buf[nl - 1] === 0x0d ? nl - 1 : nl).toString('latin1');
    pos = nl + 1;
    const m = LINE.exec(line);
    if (!m || (lines.length > 0 && lines[0]?.slice(0, 3) !== m[1])) {
      return { replies, rest: buf.subarray(start), malformed: line };
    }
    lines.push(line);
    if (m[2] === ' ') {
      replies.push(toReply(lines));
      lines = [];
      start = pos;
    }
  }
  return { replies, rest: buf.subarray(start) };
}

function toReply(lines: string[]): SmtpReply {
  const texts = lines.map((l) => l.slice(4));
  const last = texts[texts.length - 1] ?? '';
  const enhanced = ENHANCED.exec(last)?.[1];
  const strip = (t: string): string => (enhanced !== undefined && t.startsWith(enhanced) ? t.slice(enhanced.length).trimStart() : t);
  return {
    code: Number(lines[0]?.slice(0, 3)),
    ...(enhanced === undefined ? {} : { enhanced }),
    text: texts.map(strip).join('\n'),
    lines,
  };
}

/** "250 2.1.0 Ok" style one-line rendering, for transcripts and assertion messages. */
export function formatReply(r: SmtpReply): string {
  return r.lines.join(' / ');
}
