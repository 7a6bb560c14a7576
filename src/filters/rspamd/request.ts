/**
 * The envelope as `/checkv2` request headers, the way rspamd's own milter proxy fills them
 * (rspamd_milter_to_http): IP, Helo, Hostname, From, one Rcpt per recipient, Queue-Id, User,
 * MTA-Name. Pure; values are made safe for an HTTP header line.
 */
import type { ConnectionInfo } from '../../mail/connection.js';

export interface Envelope {
  readonly connection?: ConnectionInfo;
  readonly helo?: string;
  /** As the client sent it, e.g. "<a@example.com>" or "<>". */
  readonly sender?: string;
  readonly recipients: readonly string[];
  readonly queueId?: string;
  /** `{auth_authen}`: the SMTP AUTH login. */
  readonly user?: string;
  /** `{daemon_name}` or `{j}`. */
  readonly mtaName?: string;
}

export interface RequestSettings {
  readonly password?: string;
  readonly passAll: boolean;
}

/** Header name → one value, or several (one header line each). */
export type RequestHeaders = Record<string, string | string[]>;

/**
 * HTTP header values must not carry CR, LF or NUL, and node:http refuses characters above U+00FF;
 * UTF-8 bytes are sent as they are (rspamd reads the bytes), other controls become spaces.
 */
export function headerSafe(value: string): string {
  const bytes = Buffer.from(value, 'utf8').toString('latin1');
  // eslint-disable-next-line no-control-regex
  return bytes.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, ' ').trim();
}

/** Postfix reports an unresolved client as "[address]" and libmilter as "unknown": no host name. */
function knownHostname(hostname: string | undefined): string | undefined {
  if (hostname === undefined) return undefined;
  const h = hostname.trim();
  if (h === '' || h === 'unknown' || h.startsWith('[')) return undefined;
  return h;
}

export function requestHeaders(env: Envelope, settings: RequestSettings): RequestHeaders {
  const headers: RequestHeaders = {};
  const set = (name: string, value: string | undefined): void => {
    if (value === undefined) return;
    const safe = headerSafe(value);
    if (safe !== '') headers[name] = safe;
  };
  const c = env.connection;
  if (c && (c.family === 'inet' || c.family === 'inet6')) set('IP', c.address);
  set('Hostname', knownHostname(c?.hostname));
  set('Helo', env.helo);
  // "<>" is the null sender: rspamd reads it as an empty envelope sender, as from its milter.
  set('From', env.sender);
  const rcpts = env.recipients.map(headerSafe).filter((r) => r !== '');
  if (rcpts.length > 0) headers['Rcpt'] = rcpts;
  set('Queue-Id', env.queueId);
  set('User', env.user);
  set('MTA-Name', env.mtaName);
  if (settings.passAll) headers['Pass'] = 'all';
  set('Password', settings.password);
  return headers;
}
