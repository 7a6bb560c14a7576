/**
 * Options of the built-in `rspamd` filter, read from its [[milter]] table (builtin = "rspamd").
 * Names follow rspamd's own milter proxy (worker-proxy.inc: reject_message, spam_header, timeout)
 * where it has one; the skip and fallback options follow the other built-in scanners.
 */
import { cidrError } from '../cidr.js';
import type { BuiltinReadContext } from './context.js';
import type { TableReader } from '../reader.js';
import { resolvePath } from '../paths.js';

/** Keys this filter accepts in its [[milter]] table, besides the common ones. */
export const RSPAMD_KEYS = [
  'url',
  'socket',
  'password',
  'timeout',
  'on_fail',
  'max_size',
  'skip_authenticated',
  'skip_networks',
  'reject_message',
  'tempfail_message',
  'greylist_action',
  'spam_header',
  'rewrite_subject',
  'score_header',
  'result_header',
  'milter_block',
  'pass_all',
] as const;

export type RspamdOnFail = 'accept' | 'tempfail';
export type RspamdGreylistAction = 'accept' | 'tempfail';

export interface RspamdOptions {
  /** Base URL of the normal worker; `/checkv2` is appended to its path. Only http: is supported. */
  readonly url: string;
  /** Unix socket of the normal worker; when set, the URL's host and port are not used. */
  readonly socket?: string;
  /** Sent as the `Password` request header. */
  readonly password?: string;
  /** Whole request (connect, send, answer), in seconds. */
  readonly timeoutSeconds: number;
  /** What the message gets when rspamd cannot be asked or answers nonsense. */
  readonly onFail: RspamdOnFail;
  /** Messages larger than this (bytes) pass unscanned. */
  readonly maxSize: number;
  readonly skipAuthenticated: boolean;
  /** Client networks (CIDR or address) that are not scanned. */
  readonly skipNetworks: readonly string[];
  /** Reject text when rspamd gives none (rspamd's `reject_message`). */
  readonly rejectMessage: string;
  /** Tempfail text for `soft reject` when rspamd gives none. */
  readonly tempfailMessage: string;
  /** `greylist`: rspamd's milter accepts (its greylist module emits `soft reject` itself). */
  readonly greylistAction: RspamdGreylistAction;
  /** Header set to "Yes" on `add header` (rspamd's `spam_header`). */
  readonly spamHeader: string;
  /** Subject for `rewrite subject` when rspamd does not return one; `%s` is the old subject. */
  readonly rewriteSubject: string;
  /** Extra header with "SCORE / REQUIRED", if named. */
  readonly scoreHeader?: string;
  /** Extra X-Spamd-Result-style header with the symbols, if named. */
  readonly resultHeader?: string;
  /** Apply the reply's `milter` block (header additions/removals, recipients, sender). */
  readonly milterBlock: boolean;
  /** Send `Pass: all` (run every rule, no early stop). */
  readonly passAll: boolean;
}

export const RSPAMD_DEFAULTS = {
  url: 'http://127.0.0.1:11333',
  timeoutSeconds: 20,
  onFail: 'accept',
  maxSize: 20 * 1024 * 1024,
  rejectMessage: 'Spam message rejected',
  tempfailMessage: 'Try again later',
  greylistAction: 'accept',
  spamHeader: 'X-Spam',
  rewriteSubject: '***SPAM*** %s',
} as const satisfies Partial<RspamdOptions>;

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** "512K", "20M", "1G", "1000" → bytes; undefined when not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+)\s*([kKmMgG]?)[bB]?\s*$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * (SIZE_UNITS[m[2]!.toLowerCase()] ?? 1);
}

/** A header field name: printable US-ASCII without ':' (RFC 5322 §3.6.8). */
export function isHeaderName(name: string): boolean {
  return /^[\x21-\x39\x3b-\x7e]+$/.test(name);
}

export function readRspamdOptions(r: TableReader, ctx: BuiltinReadContext): RspamdOptions {
  const url = r.optionalNonEmptyString('url', 'an http:// URL') ?? RSPAMD_DEFAULTS.url;
  checkUrl(r, url);
  const socket = r.optionalNonEmptyString('socket', 'a unix socket path');
  const password = r.optionalNonEmptyString('password');
  const timeoutSeconds = r.seconds('timeout') ?? RSPAMD_DEFAULTS.timeoutSeconds;
  const scoreHeader = headerName(r, 'score_header');
  const resultHeader = headerName(r, 'result_header');
  return {
    url,
    ...(socket === undefined ? {} : { socket: resolvePath(ctx.baseDir, socket) }),
    ...(password === undefined ? {} : { password }),
    timeoutSeconds,
    onFail: r.oneOf('on_fail', ['accept', 'tempfail'], { defer: 'tempfail', 'temporary-failure': 'tempfail' }) ?? RSPAMD_DEFAULTS.onFail,
    maxSize: readSize(r, 'max_size') ?? RSPAMD_DEFAULTS.maxSize,
    skipAuthenticated: r.boolean('skip_authenticated') ?? false,
    skipNetworks:
      r.stringArray('skip_networks', (text, path) => {
        const error = cidrError(text);
        if (error !== undefined) throw r.ctx.error(path, error);
        return text;
      }) ?? [],
    rejectMessage: oneLineText(r, 'reject_message') ?? RSPAMD_DEFAULTS.rejectMessage,
    tempfailMessage: oneLineText(r, 'tempfail_message') ?? RSPAMD_DEFAULTS.tempfailMessage,
    greylistAction: r.oneOf('greylist_action', ['accept', 'tempfail']) ?? RSPAMD_DEFAULTS.greylistAction,
    spamHeader: headerName(r, 'spam_header') ?? RSPAMD_DEFAULTS.spamHeader,
    rewriteSubject: oneLineText(r, 'rewrite_subject') ?? RSPAMD_DEFAULTS.rewriteSubject,
    ...(scoreHeader === undefined ? {} : { scoreHeader }),
    ...(resultHeader === undefined ? {} : { resultHeader }),
    milterBlock: r.boolean('milter_block') ?? true,
    passAll: r.boolean('pass_all') ?? false,
  };
}

function checkUrl(r: TableReader, url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw r.error('url', `${JSON.stringify(url)} is not a URL (expected e.g. http://127.0.0.1:11333)`);
  }
  if (parsed.protocol !== 'http:') {
    throw r.error('url', `${JSON.stringify(url)}: only http:// is supported (rspamd's normal worker speaks plain HTTP; use socket for a unix socket)`);
  }
  if (parsed.search !== '' || parsed.hash !== '') throw r.error('url', `${JSON.stringify(url)}: no query or fragment allowed`);
}

function readSize(r: TableReader, key: string): number | undefined {
  if (!r.has(key)) return r.number(key); // records the default origin
  const v = r.data[key];
  if (typeof v === 'string') {
    const size = r.string(key);
    const bytes = size === undefined ? undefined : parseSize(size);
    if (bytes === undefined || bytes <= 0) throw r.error(key, `${JSON.stringify(v)} is not a size (bytes, or a number with K, M or G)`);
    return bytes;
  }
  return r.number(key, { integer: true, positive: true });
}

function headerName(r: TableReader, key: string): string | undefined {
  const name = r.optionalNonEmptyString(key, 'a header name');
  if (name !== undefined && !isHeaderName(name)) throw r.error(key, `${JSON.stringify(name)} is not a header name (printable ASCII, no spaces or ':')`);
  return name;
}

function oneLineText(r: TableReader, key: string): string | undefined {
  const text = r.optionalNonEmptyString(key);
  if (text !== undefined && /[\r\n\0]/.test(text)) throw r.error(key, 'must be one line (no line breaks)');
  return text;
}
