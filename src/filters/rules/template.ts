/** Fills a parsed `$1` template (config/builtins/rules.ts parseTemplate) from one match. */
import type { Template } from '../../config/builtins/rules.js';

export function expandTemplate(template: Template, match: RegExpExecArray): string {
  let out = '';
  for (const part of template) {
    if (typeof part === 'string') out += part;
    else if ('group' in part) out += match[part.group] ?? '';
    else out += match.groups?.[part.name] ?? '';
  }
  return out;
}

/**
 * Text that goes into a header value, reply or quarantine reason: one line (a match with the `s`
 * flag may span lines), no control characters, at most `max` characters.
 */
export function oneLineText(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[ \u0000-\u001f\u007f]*[\u0000-\u001f\u007f][ \u0000-\u001f\u007f]*/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 3)}...`;
}
