/**
 * The main.cf line that points Postfix at the manager, printed at start because the socket path Mailgate
 * listens on is not always the one Postfix must name: Debian runs smtpd and cleanup chrooted in the queue
 * directory, so a socket at /var/spool/postfix/mailgate/milter.sock is `unix:/mailgate/milter.sock` to
 * them, and the full path fails with "No such file or directory" (every mail then gets
 * milter_default_action). Computed from the spec alone: no postconf call, nothing that can block.
 */
import { parseConnectionSpec } from '../config/connection-spec.js';

/** Postfix's default queue_directory, the chroot of its daemons on Debian. */
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
      const inside = spec.path.slice(POSTFIX_CHROOT.length);
      return {
        spec: `unix:${inside}`,
        note: `the path inside Postfix's chroot ${POSTFIX_CHROOT} (Debian's default); if smtpd has chroot = n in master.cf, write unix:${spec.path}`,
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
