/** Writing TOML values: strings, numbers, booleans, arrays and (inline) tables. */
import { TomlDate } from 'smol-toml';

/** A TOML basic string: quotes, backslashes and control characters escaped. */
export function tomlString(s: string): string {
  // eslint-disable-next-line no-control-regex
  const escaped = s.replace(/[\u0000-\u001f"\\\u007f]/g, (c) => {
    switch (c) {
      case '"':
        return '\\"';
      case '\\':
        return '\\\\';
      case '\n':
        return '\\n';
      case '\t':
        return '\\t';
      case '\r':
        return '\\r';
      case '\b':
        return '\\b';
      case '\f':
        return '\\f';
      default:
        return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
  return `"${escaped}"`;
}

export type TomlScalar = string | number | boolean;

export function tomlScalar(v: TomlScalar): string {
  if (typeof v === 'string') return tomlString(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (!Number.isFinite(v)) throw new RangeError(`${v} cannot be written as a configuration value`);
  return String(v);
}

/** An array on one line when short, else one element per line. */
export function tomlArray(values: readonly TomlScalar[]): string {
  const items = values.map(tomlScalar);
  const inline = `[${items.join(', ')}]`;
  if (inline.length <= 80) return inline;
  return `[\n${items.map((i) => `  ${i},`).join('\n')}\n]`;
}

/** Any value TOML can hold, on one line: tables as inline tables (built-in filters' nested options). */
export function tomlInline(v: unknown): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return tomlScalar(v);
  if (typeof v === 'bigint') return String(v);
  if (v instanceof TomlDate) return v.toISOString();
  if (Array.isArray(v)) return `[${v.map(tomlInline).join(', ')}]`;
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v).map(([k, x]) => `${/^[A-Za-z0-9_-]+$/.test(k) ? k : tomlString(k)} = ${tomlInline(x)}`);
    return `{ ${entries.join(', ')} }`;
  }
  throw new RangeError(`${String(v)} cannot be written as a configuration value`);
}
