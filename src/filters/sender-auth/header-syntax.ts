/**
 * Just enough RFC 5322 structured-header reading for the auth filter: skipping comments and quoted
 * strings, the authserv-id of an Authentication-Results field (RFC 8601 §2.2) and the domains of a
 * From: field. Pure functions over untrusted text: they never throw, whatever the input.
 */

/** `text` with every (possibly nested) comment replaced by one space; quoted strings kept as they are. */
export function stripComments(text: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && (depth > 0 || quoted)) {
      if (depth === 0) out += c + (text[i + 1] ?? '');
      i++;
      continue;
    }
    if (depth > 0) {
      if (c === '(') depth++;
      else if (c === ')' && --depth === 0) out += ' ';
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (c === '(' && !quoted) {
      depth = 1;
      continue;
    }
    out += c;
  }
  return out;
}

/**
 * The authserv-id an Authentication-Results value starts with (a token or quoted-string after optional
 * CFWS), lower-cased; undefined when there is none.
 */
export function authservIdOf(value: string): string | undefined {
  const text = stripComments(value).trimStart();
  if (text.startsWith('"')) {
    let id = '';
    for (let i = 1; i < text.length; i++) {
      const c = text[i]!;
      if (c === '\\') {
        id += text[++i] ?? '';
        continue;
      }
      if (c === '"') return id === '' ? undefined : id.toLowerCase();
      id += c;
    }
    return undefined;
  }
  const m = /^[^\s;()"]+/.exec(text);
  return m === null ? undefined : m[0].toLowerCase();
}

/**
 * Lower-case domains of the addresses in a From: value (`Name <a@b>`, `a@b, c@d`, `"x, y" <a@b>`,
 * group syntax); addresses without a domain are left out.
 */
export function fromDomains(value: string): string[] {
  // Quoted strings can hold '<', ',' or '@': blank them (the domain part is never quoted).
  const text = stripComments(value).replace(/"(?:[^"\\]|\\.)*"?/g, 'q');
  const angled = [...text.matchAll(/<([^<>]*)>/g)].map((m) => m[1]!);
  const rest = text.replace(/<[^<>]*>/g, ' ');
  const bare = rest
    .replace(/^[^:,@]*:/, '') // group display name
    .split(/[,;]/)
    .map((s) => s.trim())
    .filter((s) => s.includes('@') && !/\s/.test(s));
  const out: string[] = [];
  for (const address of [...angled, ...bare]) {
    const at = address.lastIndexOf('@');
    if (at < 0) continue;
    const domain = address
      .slice(at + 1)
      .trim()
      .replace(/\.$/, '')
      .toLowerCase();
    if (/^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/.test(domain) || /^\[[^\]]*\]$/.test(domain)) out.push(domain);
  }
  return out;
}

/** An envelope address as the MTA gives it ("<a@b>", "<@relay:a@b>", "a@b", "<>") without brackets or route. */
export function envelopeAddress(raw: string): string {
  let a = raw.trim();
  if (a.startsWith('<') && a.endsWith('>')) a = a.slice(1, -1);
  if (a.startsWith('@')) a = a.slice(a.indexOf(':') + 1);
  return a.trim();
}
