/** A configuration that cannot be used: where it is wrong (file, line, key) and why. */

export interface ConfigErrorLocation {
  /** The configuration file, or "command line" for an option value. */
  readonly file?: string;
  /** 1-based line in `file`. */
  readonly line?: number;
  /** The key as a path into the document, e.g. `manager.connection_spec`; children by name: `milter "opendkim".fallback_status`. */
  readonly key?: string;
}

/**
 * `message` (and `toString()`) is the whole one-line report, e.g.
 * `mailgate.toml:12: milter "opendkim".fallback_status: "acept" is not one of accept, tempfail, reject, discard`;
 * `reason` is the part after the key.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly key: string | undefined;
  readonly reason: string;

  constructor(reason: string, where: ConfigErrorLocation = {}) {
    super(oneLine(formatConfigError(reason, where)));
    this.file = where.file;
    this.line = where.line;
    this.key = where.key;
    this.reason = oneLine(reason);
  }

  override toString(): string {
    return this.message;
  }
}

function formatConfigError(reason: string, where: ConfigErrorLocation): string {
  const parts: string[] = [];
  if (where.file !== undefined) parts.push(where.line === undefined ? where.file : `${where.file}:${where.line}`);
  if (where.key !== undefined) parts.push(where.key);
  parts.push(reason);
  return parts.join(': ');
}

/** Control characters (a newline inside a quoted value, say) escaped, so the report stays one line. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
