/** Header names and values from rspamd's reply, made safe to hand to the MTA. */
import { isHeaderName } from '../../config/builtins/rspamd.js';

export { isHeaderName };

/**
 * rspamd folds long values with CRLF + tab; milter values are folded with a bare LF (Postfix turns a
 * CRLF into CR CR LF). A line break not followed by white space would start a new header, so one is
 * added; NULs end a milter string and are dropped.
 */
export function milterHeaderValue(value: string): string {
  return (
    value
      .replace(/\0/g, '')
      .replace(/\r\n|\r|\n/g, '\n')
      .replace(/\n(?![ \t])/g, '\n\t')
      .replace(/\n\t?$/, '')
  );
}

/** SMTP reply text: one line per line of `text`, without control characters. */
export function replyLines(text: string): string[] {
  return text
    .split(/\r\n|\r|\n/)
    // eslint-disable-next-line no-control-regex
    .map((l) => l.replace(/[\x00-\x1f\x7f]/g, ' ').trim())
    .filter((l) => l !== '');
}
