/**
 * Dovecot's per-user quota as a userdb gives it (`quota_rule=*:storage=1G`, in a passwd-file's extra
 * fields also `userdb_quota_rule=`), read by `mailgate user import`, and the sizes `mailgate user quota`
 * takes. Dovecot's units: `storage=` counts kilobytes unless a suffix says otherwise (b, k, M, G, T:
 * powers of 1024), `bytes=` counts bytes, `messages=` messages; 0 is no limit. Only the rule for all
 * folders (`*`) is a user's quota; folder rules (`Trash:storage=+100M`), percentages and relative values
 * have no equivalent here and are reported. Pure functions.
 */
import type { UserQuota } from './accounts.js';

const UNITS: Readonly<Record<string, number>> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/**
 * `<digits>[b|k|M|G|T]` as bytes (`kB`, `MB`, `GB`, `TB` too: Dovecot reads the letter after the number),
 * digits alone times `plain`; undefined when it is not that or too large.
 */
export function parseSize(text: string, plain = 1): number | undefined {
  const m = /^(\d{1,16})(?:([kmgt])b?|(b))?$/i.exec(text.trim());
  if (m === null) return undefined;
  const unit = m[2] ?? m[3];
  const n = Number(m[1]) * (unit === undefined ? plain : UNITS[unit.toLowerCase()]!);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A quota_rule value (`*:storage=1G:messages=1000`): the quota, or why it is not one Mailgate can keep. */
export function parseQuotaRule(value: string): UserQuota | string {
  const parts = value.split(':');
  // '?' is Dovecot's default rule: for a user's own rule, the same as '*'
  if (parts[0] !== '*' && parts[0] !== '?') return `quota_rule ${JSON.stringify(value)}: only the rule for all folders ("*:...") is a user's quota`;
  let bytes: number | undefined;
  let messages: number | undefined;
  for (const part of parts.slice(1)) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    const v = eq < 0 ? '' : part.slice(eq + 1);
    if (key === 'ignore' || key === 'backend') continue;
    const n = key === 'storage' ? parseSize(v, 1024) : key === 'bytes' ? parseSize(v) : key === 'messages' ? parseSize(v) : undefined;
    if (n === undefined) return `quota_rule ${JSON.stringify(value)}: ${JSON.stringify(part)} is not a limit Mailgate keeps (storage=, bytes=, messages=; no % or +/-)`;
    if (key === 'messages') messages = n;
    else bytes = n;
  }
  if (bytes === undefined && messages === undefined) return `quota_rule ${JSON.stringify(value)}: no limit in it`;
  return { ...(bytes === undefined ? {} : { bytes }), ...(messages === undefined ? {} : { messages }) };
}

/**
 * The quota in a passwd-file's extra fields (space-separated `key=value`): undefined when there is none,
 * a string when it cannot be kept. A later field wins, as Dovecot reads them. Both limits are set: in
 * Dovecot a userdb quota_rule replaces the configured rule, so a limit it leaves out is no limit (0).
 */
export function quotaOfExtraFields(extra: string): UserQuota | string | undefined {
  let out: UserQuota | string | undefined;
  for (const field of extra.split(/\s+/)) {
    const eq = field.indexOf('=');
    if (eq < 0) continue;
    const key = field.slice(0, eq).toLowerCase();
    if (key === 'quota_rule' || key === 'userdb_quota_rule') out = parseQuotaRule(field.slice(eq + 1));
  }
  return typeof out === 'object' ? { bytes: out.bytes ?? 0, messages: out.messages ?? 0 } : out;
}
