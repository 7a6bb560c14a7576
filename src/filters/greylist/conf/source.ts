/**
 * Where greylist.conf text came from, so every error points at the administrator's own file: a
 * greylist.conf on disk, or the `conf_text` string inside mailgate.toml (then lines are offset to
 * the TOML file's lines and the key is named).
 */
import { ConfigError } from '../../../config/errors.js';

export interface ConfSource {
  /** File named in errors (the greylist.conf path, or mailgate.toml for conf_text). */
  readonly file: string;
  /** Added to the text's own 1-based line numbers (the TOML line before conf_text's first line). */
  readonly lineOffset?: number;
  /** The TOML key holding the text (conf_text), named in errors. */
  readonly key?: string;
}

/** A greylist.conf syntax error: ConfigError plus where in the text and which token. */
export class GreylistConfError extends ConfigError {
  constructor(
    reason: string,
    source: ConfSource,
    /** 1-based line in the greylist.conf text (before the offset). */
    readonly confLine: number,
    /** 1-based column. */
    readonly column: number,
    /** The offending token as written ('' at end of input). */
    readonly token: string,
  ) {
    super(`column ${column}: ${reason}`, {
      file: source.file,
      line: confLine + (source.lineOffset ?? 0),
      ...(source.key !== undefined ? { key: source.key } : {}),
    });
  }
}

/** "end of line", or the token quoted (clipped), for messages. */
export function describeToken(text: string): string {
  if (text === '') return 'end of input';
  if (text === '\n') return 'end of line';
  const clipped = text.length > 40 ? `${text.slice(0, 37)}...` : text;
  return JSON.stringify(clipped);
}
