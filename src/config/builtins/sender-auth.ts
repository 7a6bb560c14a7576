/** Options of the built-in `sender-auth` filter (SPF, DKIM, DMARC), read from its [[milter]] table (builtin = "sender-auth", formerly "auth"). */
import { isAbsolute, resolve } from 'node:path';
import { cidrError } from '../cidr.js';
import type { ConfigErrorLocation } from '../errors.js';
import type { BuiltinReadContext } from './context.js';
import type { TableReader } from '../reader.js';

/** Keys this filter accepts in its [[milter]] table, besides the common ones. */
export const SENDER_AUTH_KEYS = [
  'authserv_id',
  'spf',
  'spf_reject_fail',
  'spf_reject_permerror',
  'spf_defer_temperror',
  'spf_skip_networks',
  'received_spf_header',
  'skip_authenticated',
  'verify',
  'dmarc_reject',
  'max_message_size',
  'min_key_bits',
  'check_timeout',
  'sign',
  'sign_networks',
  'sign_authenticated',
] as const;

const SIGN_KEYS = ['domain', 'selector', 'key_file', 'headers'] as const;

/** One `[[milter.sign]]` entry: mail whose From: domain is `domain` is signed with this key. */
export interface DkimSigningConfig {
  /** Lower-case domain (d=). */
  readonly domain: string;
  readonly selector: string;
  /** Absolute path of the PEM private key (RSA or Ed25519); read when the filter starts. */
  readonly keyFile: string;
  /** Header fields to sign; absent: mailauth's usual list (From, To, Subject, Date, Message-ID, ...). */
  readonly headers?: readonly string[];
  /** Where key_file was written, so a key that cannot be read is reported at its line. */
  readonly keyFileLocation: ConfigErrorLocation;
}

export interface SenderAuthOptions {
  /** authserv-id of our Authentication-Results; absent: the host name. */
  readonly authservId?: string;
  /** Check SPF at MAIL FROM. */
  readonly spf: boolean;
  readonly spfRejectFail: boolean;
  readonly spfRejectPermerror: boolean;
  readonly spfDeferTemperror: boolean;
  readonly receivedSpfHeader: boolean;
  /** Clients (CIDR) whose MAIL FROM is not SPF-checked (local submission). */
  readonly spfSkipNetworks: readonly string[];
  /** Clients that authenticated (SMTP AUTH) are neither SPF-checked nor verified. */
  readonly skipAuthenticated: boolean;
  /** Verify DKIM and DMARC at end of message and add Authentication-Results. */
  readonly verify: boolean;
  /** Apply the sender's DMARC policy: p=reject refuses, p=quarantine quarantines. */
  readonly dmarcReject: boolean;
  /** Largest message (bytes) verified or signed; larger ones pass with a log line. */
  readonly maxMessageSize: number;
  /** Shortest DKIM public key (bits) accepted for verification. */
  readonly minKeyBits: number;
  /** Longest one SPF check or one verification may take, in seconds; then temperror. */
  readonly checkTimeout: number;
  readonly sign: readonly DkimSigningConfig[];
  /** Clients (CIDR) whose mail is signed. */
  readonly signNetworks: readonly string[];
  /** Mail from clients that authenticated is signed. */
  readonly signAuthenticated: boolean;
}

export const SENDER_AUTH_DEFAULTS = {
  spf: true,
  spfRejectFail: false,
  spfRejectPermerror: false,
  spfDeferTemperror: false,
  receivedSpfHeader: false,
  spfSkipNetworks: ['127.0.0.0/8', '::1/128'],
  skipAuthenticated: true,
  verify: true,
  dmarcReject: false,
  maxMessageSize: 10 * 1024 * 1024,
  minKeyBits: 1024,
  checkTimeout: 20,
  signNetworks: ['127.0.0.0/8', '::1/128'],
  signAuthenticated: true,
} as const;

const DOMAIN = /^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const SELECTOR = /^[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?(\.[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?)*$/;
const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

export function readSenderAuthOptions(r: TableReader, ctx: BuiltinReadContext): SenderAuthOptions {
  const authservId = r.optionalNonEmptyString('authserv_id', 'a host name');
  if (authservId !== undefined && (!/^[\x21-\x7e]+$/.test(authservId) || /[;()"\\]/.test(authservId))) {
    throw r.error('authserv_id', `${JSON.stringify(authservId)} is not usable as an authserv-id (one word, no spaces, ";", quotes or parentheses)`);
  }
  const sign = r.tables('sign', '[[milter.sign]]').map((t) => readSigning(t, ctx));
  const seen = new Map<string, number>();
  sign.forEach((s, i) => {
    const first = seen.get(s.domain);
    if (first !== undefined) throw r.ctx.error(`${r.keyPath('sign')}[${i}].domain`, `domain ${JSON.stringify(s.domain)} already has a key (sign[${first}])`);
    seen.set(s.domain, i);
  });
  return {
    ...(authservId === undefined ? {} : { authservId }),
    spf: r.boolean('spf') ?? SENDER_AUTH_DEFAULTS.spf,
    spfRejectFail: r.boolean('spf_reject_fail') ?? SENDER_AUTH_DEFAULTS.spfRejectFail,
    spfRejectPermerror: r.boolean('spf_reject_permerror') ?? SENDER_AUTH_DEFAULTS.spfRejectPermerror,
    spfDeferTemperror: r.boolean('spf_defer_temperror') ?? SENDER_AUTH_DEFAULTS.spfDeferTemperror,
    receivedSpfHeader: r.boolean('received_spf_header') ?? SENDER_AUTH_DEFAULTS.receivedSpfHeader,
    spfSkipNetworks: readNetworks(r, 'spf_skip_networks') ?? [...SENDER_AUTH_DEFAULTS.spfSkipNetworks],
    skipAuthenticated: r.boolean('skip_authenticated') ?? SENDER_AUTH_DEFAULTS.skipAuthenticated,
    verify: r.boolean('verify') ?? SENDER_AUTH_DEFAULTS.verify,
    dmarcReject: r.boolean('dmarc_reject') ?? SENDER_AUTH_DEFAULTS.dmarcReject,
    maxMessageSize: r.number('max_message_size', { integer: true, positive: true }) ?? SENDER_AUTH_DEFAULTS.maxMessageSize,
    minKeyBits: r.number('min_key_bits', { integer: true, min: 0 }) ?? SENDER_AUTH_DEFAULTS.minKeyBits,
    checkTimeout: r.seconds('check_timeout') ?? SENDER_AUTH_DEFAULTS.checkTimeout,
    sign,
    signNetworks: readNetworks(r, 'sign_networks') ?? [...SENDER_AUTH_DEFAULTS.signNetworks],
    signAuthenticated: r.boolean('sign_authenticated') ?? SENDER_AUTH_DEFAULTS.signAuthenticated,
  };
}

function readNetworks(r: TableReader, key: string): string[] | undefined {
  return r.stringArray(key, (v, path) => {
    const why = cidrError(v);
    if (why !== undefined) throw r.ctx.error(path, why);
    return v;
  });
}

function readSigning(t: TableReader, ctx: BuiltinReadContext): DkimSigningConfig {
  t.checkKeys(SIGN_KEYS);
  const domain = t.requiredString('domain', 'a domain name');
  if (!DOMAIN.test(domain)) throw t.error('domain', `${JSON.stringify(domain)} is not a domain name`);
  const selector = t.requiredString('selector', 'a DKIM selector');
  if (!SELECTOR.test(selector)) throw t.error('selector', `${JSON.stringify(selector)} is not a DKIM selector (letters, digits, "-", "_", dots)`);
  const keyFile = t.requiredString('key_file', 'the path of a PEM private key');
  const headers = t.stringArray('headers', (v, path) => {
    if (!HEADER_NAME.test(v)) throw t.ctx.error(path, `${JSON.stringify(v)} is not a header field name`);
    return v;
  });
  if (headers !== undefined && !headers.some((h) => h.toLowerCase() === 'from')) {
    throw t.error('headers', 'must include "From" (RFC 6376 §5.4)');
  }
  const keyPath = t.keyPath('key_file');
  return {
    domain: domain.toLowerCase().replace(/\.$/, ''),
    selector,
    keyFile: isAbsolute(keyFile) ? keyFile : resolve(ctx.baseDir, keyFile),
    ...(headers === undefined ? {} : { headers }),
    keyFileLocation: { file: t.ctx.file, line: t.ctx.locator.line(keyPath), key: t.ctx.display(keyPath) },
  };
}
