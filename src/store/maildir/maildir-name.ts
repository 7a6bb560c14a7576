/**
 * Maildir file names in Dovecot's form, as pure functions: `<secs>.M<usecs>P<pid>.<host>` for the unique
 * base, `,S=<size>,W=<vsize>` once the sizes are known (Dovecot reads both instead of the file: S= is the
 * size on disk, W= the size with CRLF line ends, which IMAP's RFC822.SIZE reports). Files in new/ carry no
 * `:2,` info part; Dovecot adds it when it moves a message to cur/.
 */

/**
 * The host part, escaped as Dovecot does: '/' would make a path and ':' starts the info part, so they
 * become the octal escapes `\057` and `\072`.
 */
export function escapeMaildirHost(host: string): string {
  return host.replace(/\//g, '\\057').replace(/:/g, '\\072');
}

/** A point in time with microseconds, as the name's `<secs>.M<usecs>` holds it. */
export interface MaildirTime {
  readonly secs: number;
  readonly usecs: number;
}

/** `<secs>.M<usecs>P<pid>.<escaped host>`. */
export function maildirBaseName(time: MaildirTime, pid: number, host: string): string {
  return `${time.secs}.M${time.usecs}P${pid}.${escapeMaildirHost(host)}`;
}

/** The name in new/: the base with its sizes. */
export function maildirSizedName(base: string, size: number, vsize: number): string {
  return `${base},S=${size},W=${vsize}`;
}

/**
 * The time to name the next file with: now, or one microsecond after the last name when the clock has not
 * moved past it (Dovecot does the same), so that names from one process never repeat.
 */
export function nextMaildirTime(now: MaildirTime, last: MaildirTime | undefined): MaildirTime {
  if (last === undefined || now.secs > last.secs || (now.secs === last.secs && now.usecs > last.usecs)) return now;
  const usecs = last.usecs + 1;
  return usecs >= 1_000_000 ? { secs: last.secs + 1, usecs: 0 } : { secs: last.secs, usecs };
}

/** What a name in new/ or cur/ says about itself (undefined: not one of ours / not Dovecot's form). */
export function parseMaildirName(
  name: string,
): { secs: number; usecs: number; pid: number; host: string; size?: number; vsize?: number; info?: string } | undefined {
  const m = /^(\d+)\.M(\d+)P(\d+)\.([^,:]*)((?:,[A-Za-z]=[^,:]*)*)(?::(.*))?$/.exec(name);
  if (m === null) return undefined;
  const fields = new Map((m[5] ?? '').split(',').filter(Boolean).map((f) => [f[0], f.slice(2)] as const));
  const num = (k: string): number | undefined => (fields.has(k) ? Number(fields.get(k)) : undefined);
  const size = num('S');
  const vsize = num('W');
  return {
    secs: Number(m[1]),
    usecs: Number(m[2]),
    pid: Number(m[3]),
    host: m[4] ?? '',
    ...(size === undefined ? {} : { size }),
    ...(vsize === undefined ? {} : { vsize }),
    ...(m[6] === undefined ? {} : { info: m[6] }),
  };
}
