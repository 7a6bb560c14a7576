/** Options of the built-in `spamassassin` filter, read from its [[milter]] table (builtin = "spamassassin"). */
import { cidrError } from '../cidr.js';
import { parseConnectionSpec } from '../connection-spec.js';
import { resolveSpecPath } from '../paths.js';
import type { TableReader } from '../reader.js';
import type { BuiltinReadContext } from './context.js';

/** Keys this filter accepts in its [[milter]] table, besides the common ones. */
export const SPAMASSASSIN_KEYS = [
  'spamd',
  'user',
  'reject_score',
  'reject_code',
  'reject_ecode',
  'reject_text',
  'modify_message',
  'max_size',
  'skip_authenticated',
  'skip_networks',
  'on_fail',
  'timeout',
  'connect_timeout',
] as const;

export const SPAMASSASSIN_ON_FAIL = ['accept', 'tempfail'] as const;

export interface SpamAssassinOptions {
  /** Where spamd listens: `unix:/PATH`, `inet:PORT@HOST`, `inet6:PORT@[ADDR]`. */
  readonly spamd: string;
  /** `User:` sent to spamd (spamass-milter -u); whose SpamAssassin preferences apply. */
  readonly user?: string;
  /** Refuse at or above this score (spamass-milter -r); -1: refuse whatever SpamAssassin marks as spam. */
  readonly rejectScore?: number;
  readonly rejectCode: number;
  readonly rejectEcode: string;
  readonly rejectText: string;
  /** Apply SpamAssassin's rewritten Subject/MIME fields and body (false: spamass-milter -m). */
  readonly modifyMessage: boolean;
  /** Messages larger than this many bytes pass unscanned (spamc -s). */
  readonly maxSize: number;
  /** Clients that authenticated (SMTP AUTH) are not scanned (spamass-milter -a / -I). */
  readonly skipAuthenticated: boolean;
  /** Clients in these networks are not scanned (spamass-milter -i). */
  readonly skipNetworks: readonly string[];
  /** What a message gets when spamd cannot answer. */
  readonly onFail: (typeof SPAMASSASSIN_ON_FAIL)[number];
  /** Seconds for the whole spamd request. */
  readonly timeout: number;
  /** Seconds to connect to spamd. */
  readonly connectTimeout: number;
}

export const SPAMASSASSIN_DEFAULTS = Object.freeze({
  spamd: 'inet:783@127.0.0.1',
  rejectCode: 550,
  rejectEcode: '5.7.1',
  rejectText: 'Blocked by SpamAssassin',
  modifyMessage: true,
  maxSize: 500 * 1024,
  skipAuthenticated: true,
  onFail: 'accept',
  timeout: 30,
  connectTimeout: 5,
} as const);

export function readSpamAssassinOptions(r: TableReader, ctx: BuiltinReadContext): SpamAssassinOptions {
  const D = SPAMASSASSIN_DEFAULTS;
  const spamd = r.optionalNonEmptyString('spamd', 'a spamd address like inet:783@127.0.0.1 or unix:/PATH') ?? D.spamd;
  try {
    const spec = parseConnectionSpec(spamd);
    if (spec.type === 'inet' && spec.port === 0) throw new Error(`connection spec "${spamd}": spamd's port cannot be 0`);
  } catch (err) {
    throw r.error('spamd', (err as Error).message);
  }

  const user = r.optionalNonEmptyString('user', 'a SpamAssassin user name');
  if (user !== undefined && !/^[\x21-\x7e][\x20-\x7e]*$/.test(user)) throw r.error('user', `${JSON.stringify(user)}: use printable ASCII`);

  const rejectScore = r.number('reject_score');
  if (rejectScore !== undefined && rejectScore < 0 && rejectScore !== -1) {
    throw r.error('reject_score', `must be a score (0 or more) or -1 (refuse whatever SpamAssassin marks as spam), got ${rejectScore}`);
  }
  const rejectCode = r.number('reject_code', { integer: true }) ?? D.rejectCode;
  if (rejectCode < 400 || rejectCode > 599) throw r.error('reject_code', `must be an SMTP code from 400 to 599, got ${rejectCode}`);
  // Without reject_ecode, a 4xx reject_code gets 4.7.1.
  const rejectEcode = r.optionalNonEmptyString('reject_ecode', 'an enhanced status code like "5.7.1"') ?? `${String(rejectCode)[0]}${D.rejectEcode.slice(1)}`;
  if (!/^[45]\.\d{1,3}\.\d{1,3}$/.test(rejectEcode)) throw r.error('reject_ecode', `${JSON.stringify(rejectEcode)} is not an enhanced status code like "5.7.1"`);
  if (rejectEcode[0] !== String(rejectCode)[0]) {
    throw r.error('reject_ecode', `"${rejectEcode}" does not match reject_code ${rejectCode} (both must be 4xx or both 5xx)`);
  }
  const rejectText = r.optionalNonEmptyString('reject_text') ?? D.rejectText;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(rejectText)) throw r.error('reject_text', 'must be one line without control characters');

  const skipNetworks =
    r.stringArray('skip_networks', (text, path) => {
      const error = cidrError(text);
      if (error !== undefined) throw r.ctx.error(path, error);
      return text;
    }) ?? [];

  const timeout = r.seconds('timeout') ?? D.timeout;
  const connectTimeout = r.seconds('connect_timeout') ?? Math.min(D.connectTimeout, timeout);
  if (connectTimeout > timeout) throw r.error('connect_timeout', `must not be longer than timeout (${timeout}), got ${connectTimeout}`);

  return {
    spamd: resolveSpecPath(ctx.baseDir, spamd),
    ...(user === undefined ? {} : { user }),
    ...(rejectScore === undefined ? {} : { rejectScore }),
    rejectCode,
    rejectEcode,
    rejectText,
    modifyMessage: r.boolean('modify_message') ?? D.modifyMessage,
    maxSize: r.number('max_size', { integer: true, positive: true }) ?? D.maxSize,
    skipAuthenticated: r.boolean('skip_authenticated') ?? D.skipAuthenticated,
    skipNetworks,
    onFail: r.oneOf('on_fail', SPAMASSASSIN_ON_FAIL, { 'temporary-failure': 'tempfail' }) ?? D.onFail,
    timeout,
    connectTimeout,
  };
}
