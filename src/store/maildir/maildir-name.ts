/**
 * Maildir file names in Dovecot's form, as pure functions: `<secs>.M<usecs>P<pid>.<host>` for the unique
 * base, `,S=<size>,W=<vsize>` once the sizes are known (Dovecot reads both instead of the file: S= is the
 * size on disk, W= the size with CRLF line ends, which IMAP's RFC822.SIZE reports). Files in new/ carry no
 * `:2,` info part; Dovecot adds it when it moves a message to cur/.
 */
import { createHash } from 'node:crypto';

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

/**
 * The base for one queued message to one recipient: `<secs>.M<usecs>Q<queue id>R<recipient hash>.<host>`,
 * from the message's arrival time. It is the same at every attempt, so a delivery repeated after a crash
 * (the file was renamed into new/, the queue had not yet recorded it) renames onto the file it wrote before
 * and the mailbox holds the message once. Dovecot needs only uniqueness of the base; P<pid> is a convention.
 */
export function maildirKeyedBaseName(arrivalMs: number, queueId: string, recipient: string, host: string): string {
  const secs = Math.floor(arrivalMs / 1000);
  const usecs = (arrivalMs % 1000) * 1000;
  const hash = createHash('sha256').update(recipient.toLowerCase()).digest('hex').slice(0, 12);
  return `${secs}.M${usecs}Q${queueId}R${hash}.${escapeMaildirHost(host)}`;
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
): { secs: number; usecs: number; pid?: number; queueId?: string; host: string; size?: number; vsize?: number; info?: string } | undefined {
  const m = /^(\d+)\.M(\d+)(?:P(\d+)|Q([0-9A-Z]+)R[0-9a-f]+)\.([^,:]*)((?:,[A-Za-z]=[^,:]*)*)(?::(.*))?$/.exec(name);
  if (m === null) return undefined;
  const fields = new Map((m[6] ?? '').split(',').filter(Boolean).map((f) => [f[0], f.slice(2)] as const));
  const num = (k: string): number | undefined => (fields.has(k) ? Number(fields.get(k)) : undefined);
  const size = num('S');
  const vsize = num('W');
  return {
    secs: Number(m[1]),
    usecs: Number(m[2]),
    ...(m[3] === undefined ? {} : { pid: Number(m[3]) }),
    ...(m[4] === undefined ? {} : { queueId: m[4] }),
    host: m[5] ?? '',
    ...(size === undefined ? {} : { size }),
    ...(vsize === undefined ? {} : { vsize }),
    ...(m[7] === undefined ? {} : { info: m[7] }),
  };
}
