/**
 * One mailbox-name component ↔ one Maildir++ directory component, escaped as Dovecot's listescape plugin
 * does (checked against Dovecot 2.3 in test/store/maildir/dovecot-compat.test.ts): `\` → `\5c`, `.` (the
 * Maildir++ separator) → `\2e`, `/` → `\2f`, and a `~` at the start of a component → `\7e` (a leading
 * `~` means a home directory to some tools). The input is already mUTF-7, so it is printable ASCII; the
 * result can never be empty, hold a '/', or be '.' or '..'.
 */

const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\5c', '.': '\\2e', '/': '\\2f' };

export function escapeListComponent(mutf7: string): string {
  let out = '';
  for (let i = 0; i < mutf7.length; i++) {
    const c = mutf7[i] as string;
    if (i === 0 && c === '~') out += '\\7e';
    else out += ESCAPES[c] ?? c;
  }
  return out;
}

/**
 * The reverse: every `\xx` (two hex digits) is the byte it names. Throws on a `\` not followed by two hex
 * digits, and on an escape that is not canonical for this position (Dovecot would not have written it), so a
 * directory has one name only.
 */
export function unescapeListComponent(escaped: string): string {
  let out = '';
  for (let i = 0; i < escaped.length; i++) {
    const c = escaped[i] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const hex = escaped.slice(i + 1, i + 3);
    if (!/^[0-9a-f]{2}$/.test(hex)) throw new Error(`bad escape "\\${hex}" in a folder directory name`);
    const ch = String.fromCharCode(parseInt(hex, 16));
    const canonical = ch === '~' ? out.length === 0 : ESCAPES[ch] !== undefined;
    if (!canonical) throw new Error(`needless escape "\\${hex}" in a folder directory name`);
    out += ch;
    i += 2;
  }
  return out;
}
