/**
 * Dovecot's passwd-file format, read by `mailgate user import`: one user a line,
 * `user:password:uid:gid:(gecos):home:(shell):extra_fields`, `#` comments and blank lines skipped. The
 * user, the password and a quota_rule extra field (quota-rule.ts) are taken: uid, gid and home belong to
 * Dovecot's userdb, and Mailgate keeps every mailbox under its data_dir. A pure function over the file's
 * text.
 */
import type { UserQuota } from './accounts.js';
import { quotaOfExtraFields } from './quota-rule.js';

export interface PasswdEntry {
  /** 1-based line number, for messages. */
  readonly line: number;
  /** The user field as written (`alice@example.org`, or `alice` in a per-domain file). */
  readonly user: string;
  /** The password field as written (`{SCHEME}data`, or a bare crypt string). */
  readonly password: string;
  /** From a `quota_rule` / `userdb_quota_rule` extra field. */
  readonly quota?: UserQuota;
}

export interface PasswdProblem {
  readonly line: number;
  readonly message: string;
}

export type PasswdLine = { readonly kind: 'skip' } | ({ readonly kind: 'entry' } & PasswdEntry) | ({ readonly kind: 'error' } & PasswdProblem);

/** One line (without its line break; a trailing CR is dropped). */
export function parsePasswdLine(text: string, line: number): PasswdLine {
  const t = text.endsWith('\r') ? text.slice(0, -1) : text;
  if (/^\s*(#|$)/.test(t)) return { kind: 'skip' };
  if (t.includes('\0')) return { kind: 'error', line, message: 'a NUL byte' };
  const colon = t.indexOf(':');
  if (colon < 0) return { kind: 'error', line, message: 'no ":" after the user name' };
  const user = t.slice(0, colon);
  const rest = t.slice(colon + 1);
  // The password is the second field: up to the next ":" (no Dovecot scheme's output contains one).
  const end = rest.indexOf(':');
  const password = end < 0 ? rest : rest.slice(0, end);
  if (user.length === 0) return { kind: 'error', line, message: 'empty user name' };
  if (/\s/.test(user)) return { kind: 'error', line, message: `user name ${JSON.stringify(user)} contains white space` };
  if (password.length === 0) return { kind: 'error', line, message: `${user}: no password (a user without one could not log in)` };
  // the extra fields follow the seventh ':' and may hold colons themselves (quota_rule=*:storage=1G)
  const fields = t.split(':');
  const quota = fields.length > 7 ? quotaOfExtraFields(fields.slice(7).join(':')) : undefined;
  if (typeof quota === 'string') return { kind: 'error', line, message: `${user}: ${quota}` };
  return { kind: 'entry', line, user, password, ...(quota === undefined ? {} : { quota }) };
}

/** Every line of a file: its entries and the problems, both in line order. */
export function parsePasswdFile(text: string): { entries: PasswdEntry[]; problems: PasswdProblem[] } {
  const entries: PasswdEntry[] = [];
  const problems: PasswdProblem[] = [];
  text.split('\n').forEach((raw, i) => {
    const r = parsePasswdLine(raw, i + 1);
    if (r.kind === 'entry') entries.push({ line: r.line, user: r.user, password: r.password, ...(r.quota === undefined ? {} : { quota: r.quota }) });
    else if (r.kind === 'error') problems.push({ line: r.line, message: r.message });
  });
  return { entries, problems };
}
