/**
 * The main.cf line that points Postfix at the manager, printed at start because the socket path Mailgate
 * listens on is not always the one Postfix must name: Debian runs smtpd and cleanup chrooted in the queue
 * directory, where the full path /var/spool/postfix/mailgate/milter.sock does not exist ("No such file or
 * directory", and every mail gets milter_default_action). Postfix's daemons run in the queue directory
 * whether chrooted or not (they chdir there before any chroot), so the relative `unix:mailgate/milter.sock`
 * reaches the socket in both cases, as Debian's `local:opendkim/opendkim.sock` recipe does. Computed from
 * the spec alone: no postconf call, nothing that can block.
 */
import { parseConnectionSpec } from '../config/connection-spec.js';

/** Postfix's default queue_directory: its daemons' working directory, and their chroot on Debian. */
export const POSTFIX_CHROOT = '/var/spool/postfix';

export interface PostfixMilterAdvice {
  /** What to write after `smtpd_milters =` (and `non_smtpd_milters =`). */
  readonly spec: string;
  /** One sentence for the administrator, or undefined when the spec needs no comment. */
  readonly note?: string;
}

export function postfixMilterAdvice(listenSpec: string): PostfixMilterAdvice {
  const spec = parseConnectionSpec(listenSpec);
  if (spec.type === 'unix') {
    if (spec.path.startsWith(`${POSTFIX_CHROOT}/`)) {
      const inside = spec.path.slice(POSTFIX_CHROOT.length + 1);
      return {
        spec: `unix:${inside}`,
        note: `relative to Postfix's queue directory ${POSTFIX_CHROOT}, where its daemons run: it works whether smtpd is chrooted there (Debian's default) or not`,
      };
    }
    return {
      spec: `unix:${spec.path}`,
      note: `a chrooted smtpd (Debian's default) cannot reach a socket outside ${POSTFIX_CHROOT}: listen under ${POSTFIX_CHROOT}/ (e.g. unix:${POSTFIX_CHROOT}/mailgate/milter.sock) or on inet`,
    };
  }
  // Postfix's own inet form is inet:HOST:PORT; a wildcard listener is reached on loopback.
  const host = spec.host === '0.0.0.0' ? '127.0.0.1' : spec.host === '::' ? '::1' : spec.host;
  return { spec: `inet:${host.includes(':') ? `[${host}]` : host}:${spec.port}` };
}

/** The log line: what to put in main.cf. */
export function postfixMilterMessage(listenSpec: string): string {
  const advice = postfixMilterAdvice(listenSpec);
  const line = `for Postfix, in main.cf: smtpd_milters = ${advice.spec} (and non_smtpd_milters = ${advice.spec} for mail submitted with sendmail)`;
  return advice.note === undefined ? line : `${line}; ${advice.note}`;
}

/** The same advice as TOML comments, for the end of `show-config`'s output. */
export function postfixMilterComment(listenSpec: string): string {
  const advice = postfixMilterAdvice(listenSpec);
  const lines = [
    '',
    "# For Postfix, in main.cf (mailgate manager logs the same line at start):",
    `#   smtpd_milters = ${advice.spec}`,
    `#   non_smtpd_milters = ${advice.spec}`,
  ];
  if (advice.note !== undefined) lines.push(`# ${advice.note}`);
  return `${lines.join('\n')}\n`;
}
