/**
 * Options of the built-in `greylist` filter, read from its [[milter]] table (builtin = "greylist").
 * The ACLs and timings are milter-greylist's own greylist.conf syntax, from a file (`conf`) or inline
 * (`conf_text`); this reader only fetches the text and remembers where it came from, the filter
 * parses it (so its errors name the greylist.conf file, or mailgate.toml's lines for conf_text).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BuiltinReadContext } from './context.js';
import type { TableReader } from '../reader.js';

/** Keys this filter accepts in its [[milter]] table, besides the common ones. */
export const GREYLIST_KEYS = ['conf', 'conf_text', 'store', 'redis_url', 'redis_prefix', 'sqlite_file'] as const;

export const GREYLIST_STORES = ['sqlite', 'redis', 'memory'] as const;
export type GreylistStoreKind = (typeof GREYLIST_STORES)[number];

/**
 * The greylist's Redis defaults, the only definition (the stores and `mailgate greylist` use these):
 * database 0 of a local Redis, keys under "mailgate:greylist:", as the README documents and as the
 * keys of an existing shared deployment are named.
 */
export const DEFAULT_GREYLIST_REDIS_URL = 'redis://127.0.0.1:6379/0';
export const DEFAULT_GREYLIST_REDIS_PREFIX = 'mailgate:greylist:';

/** greylist.conf text and where it came from. */
export interface GreylistConfText {
  readonly text: string;
  /** File named in errors: the greylist.conf path, or the mailgate.toml for conf_text. */
  readonly file: string;
  /** Added to the text's line numbers (conf_text: the TOML line before its first line). */
  readonly lineOffset: number;
  /** The TOML key, for conf_text (e.g. `milter[0].conf_text`). */
  readonly key?: string;
}

export interface GreylistOptions {
  readonly conf: GreylistConfText;
  readonly store: GreylistStoreKind;
  readonly redisUrl: string;
  readonly redisPrefix: string;
  /** Undefined: `<data_dir>/greylist.sqlite`; relative paths are relative to data_dir. */
  readonly sqliteFile?: string;
}

export function readGreylistOptions(r: TableReader, ctx: BuiltinReadContext): GreylistOptions {
  const store = r.oneOf('store', GREYLIST_STORES) ?? 'sqlite';
  const redisUrl = r.optionalNonEmptyString('redis_url', 'a redis:// URL') ?? DEFAULT_GREYLIST_REDIS_URL;
  if (!/^rediss?:\/\//.test(redisUrl)) throw r.error('redis_url', `expected a redis:// or rediss:// URL, got ${JSON.stringify(redisUrl)}`);
  const redisPrefix = r.optionalNonEmptyString('redis_prefix', 'a key prefix') ?? DEFAULT_GREYLIST_REDIS_PREFIX;
  const sqliteFile = r.optionalNonEmptyString('sqlite_file', 'a file path');
  return {
    conf: readConfText(r, ctx),
    store,
    redisUrl,
    redisPrefix,
    ...(sqliteFile !== undefined ? { sqliteFile } : {}),
  };
}

function readConfText(r: TableReader, ctx: BuiltinReadContext): GreylistConfText {
  const path = r.optionalNonEmptyString('conf', 'the path of a milter-greylist configuration file');
  const inline = r.string('conf_text', 'milter-greylist configuration text (a """multi-line string""")');
  if (path !== undefined && inline !== undefined) {
    throw r.error('conf_text', 'conf and conf_text are both set; give the greylist.conf path (conf) or its text (conf_text), not both');
  }
  if (path !== undefined) {
    const file = resolve(ctx.baseDir, path);
    try {
      return { text: readFileSync(file, 'utf8'), file, lineOffset: 0 };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message;
      throw r.error('conf', `cannot read ${file}: ${why}`);
    }
  }
  if (inline !== undefined) {
    const keyLine = r.ctx.locator.line(r.keyPath('conf_text')) ?? 1;
    const key = r.ctx.display(r.keyPath('conf_text'));
    // A """...""" string starting with a newline begins on the next line (TOML drops that newline);
    // a one-line string is on the key's line.
    const lineOffset = inline.includes('\n') ? keyLine : keyLine - 1;
    return { text: inline, file: r.ctx.file, lineOffset, key };
  }
  throw r.error(undefined, `${r.label} with builtin = "greylist" needs conf (the path of a greylist.conf) or conf_text (its text)`);
}
