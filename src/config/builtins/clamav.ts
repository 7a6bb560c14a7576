/**
 * Options of the built-in `clamav` filter, read from its [[milter]] table (builtin = "clamav").
 * The names follow clamav-milter.conf (ClamdSocket → clamd, OnInfected → on_infected, ...); values
 * are accepted in clamav-milter's spelling too ("Reject", "Blackhole", "Yes"), so a clamav-milter.conf
 * translates line by line.
 */
import { cidrError } from '../cidr.js';
import { parseConnectionSpec, SpecError, type ConnectionSpec } from '../connection-spec.js';
import type { TableReader } from '../reader.js';
import type { BuiltinReadContext } from './context.js';
import { resolvePath } from '../paths.js';

/** Keys this filter accepts in its [[milter]] table, besides the common ones. */
export const CLAMAV_KEYS = [
  'clamd',
  'on_infected',
  'on_fail',
  'add_header',
  'reject_msg',
  'max_file_size',
  'local_net',
  'skip_authenticated',
  'report_hostname',
  'connect_timeout',
  'read_timeout',
  'keep_alive',
] as const;

/** OnInfected: what happens to a message clamd found a virus in. blackhole = discard. */
export type ClamavInfectedAction = 'reject' | 'defer' | 'blackhole' | 'quarantine' | 'accept';
/** OnFail: what happens when clamd cannot give an answer. */
export type ClamavFailAction = 'accept' | 'defer' | 'reject';
/** AddHeader: replace (remove existing X-Virus-* first, then append), add (insert), no. */
export type ClamavHeaderMode = 'replace' | 'add' | 'no';

export interface ClamavOptions {
  /** clamd addresses, used round-robin (ClamdSocket, repeatable). */
  readonly clamd: readonly ConnectionSpec[];
  readonly onInfected: ClamavInfectedAction;
  readonly onFail: ClamavFailAction;
  readonly addHeader: ClamavHeaderMode;
  /** Reply text for on_infected = reject; `%v` is the virus name; '' leaves the text to the MTA. */
  readonly rejectMsg: string;
  /** Messages larger than this many bytes pass unscanned (with a log line). */
  readonly maxFileSize: number;
  /** Client networks not scanned (CIDR or address), and `local` for connections without an address. */
  readonly localNet: readonly string[];
  /** Authenticated senders not scanned: `{auth_authen}` matching this (true: any login). */
  readonly skipAuthenticated: RegExp | undefined;
  /** Host name in X-Virus-Scanned; default the machine's name. */
  readonly reportHostname: string | undefined;
  /** Seconds to connect to one clamd address. */
  readonly connectTimeout: number;
  /** Seconds to wait for clamd while streaming and for its answer (ReadTimeout). */
  readonly readTimeout: number;
  /** Keep connections to clamd open between messages as clamd sessions (IDSESSION). */
  readonly keepAlive: boolean;
}

export const CLAMAV_DEFAULTS = Object.freeze({
  /** Debian's clamd.conf LocalSocket. */
  clamd: 'unix:/run/clamav/clamd.ctl',
  onInfected: 'quarantine' as ClamavInfectedAction,
  onFail: 'defer' as ClamavFailAction,
  /** Debian's clamav-milter.conf ships AddHeader Replace (the compiled-in default is No). */
  addHeader: 'replace' as ClamavHeaderMode,
  rejectMsg: 'Virus found: %v',
  /** clamd's default StreamMaxLength: a larger stream would only earn an ERROR from clamd. */
  maxFileSize: 25 * 1024 * 1024,
  connectTimeout: 5,
  readTimeout: 120,
  keepAlive: true,
});

const INFECTED_ACTIONS: readonly ClamavInfectedAction[] = ['reject', 'defer', 'blackhole', 'quarantine', 'accept'];
const FAIL_ACTIONS: readonly ClamavFailAction[] = ['accept', 'defer', 'reject'];
const HEADER_MODES: readonly ClamavHeaderMode[] = ['replace', 'add', 'no'];

/** clamav-milter's capitalised spellings, and milter words for the same thing. */
const ACTION_ALIASES: Readonly<Record<string, ClamavInfectedAction>> = {
  Reject: 'reject',
  Defer: 'defer',
  Blackhole: 'blackhole',
  Quarantine: 'quarantine',
  Accept: 'accept',
  discard: 'blackhole',
  tempfail: 'defer',
};
const FAIL_ALIASES: Readonly<Record<string, ClamavFailAction>> = { Accept: 'accept', Defer: 'defer', Reject: 'reject', tempfail: 'defer' };
const HEADER_ALIASES: Readonly<Record<string, ClamavHeaderMode>> = { Replace: 'replace', Yes: 'replace', yes: 'replace', Add: 'add', No: 'no' };

export function readClamavOptions(r: TableReader, ctx: BuiltinReadContext): ClamavOptions {
  const onInfected = r.oneOf('on_infected', INFECTED_ACTIONS, ACTION_ALIASES) ?? CLAMAV_DEFAULTS.onInfected;
  const rejectMsg = r.string('reject_msg') ?? CLAMAV_DEFAULTS.rejectMsg;
  const badChar = [...rejectMsg].find((c) => c < ' ' || c === '\x7f');
  if (badChar !== undefined) throw r.error('reject_msg', `must be printable text on one line (found ${JSON.stringify(badChar)})`);
  const reportHostname = r.optionalNonEmptyString('report_hostname', 'a host name');
  if (reportHostname !== undefined && ![...reportHostname].every((c) => c > ' ' && c !== '\x7f')) throw r.error('report_hostname', 'must not contain spaces or control characters');
  return {
    clamd: readAddresses(r).map((spec) => (spec.type === 'unix' ? { ...spec, path: resolvePath(ctx.baseDir, spec.path) } : spec)),
    onInfected,
    onFail: r.oneOf('on_fail', FAIL_ACTIONS, FAIL_ALIASES) ?? CLAMAV_DEFAULTS.onFail,
    addHeader: r.oneOf('add_header', HEADER_MODES, HEADER_ALIASES) ?? CLAMAV_DEFAULTS.addHeader,
    rejectMsg,
    maxFileSize: readSize(r, 'max_file_size') ?? CLAMAV_DEFAULTS.maxFileSize,
    localNet: readLocalNet(r),
    skipAuthenticated: readSkipAuthenticated(r),
    reportHostname,
    connectTimeout: r.seconds('connect_timeout') ?? CLAMAV_DEFAULTS.connectTimeout,
    readTimeout: r.seconds('read_timeout') ?? CLAMAV_DEFAULTS.readTimeout,
    keepAlive: r.boolean('keep_alive') ?? CLAMAV_DEFAULTS.keepAlive,
  };
}

/** One string or an array of them; each unix:/path, inet:PORT@HOST, inet6:PORT@ADDR or clamav-milter's tcp:HOST[:PORT]. */
function readAddresses(r: TableReader): ConnectionSpec[] {
  const one = (text: string, fail: (msg: string) => Error): ConnectionSpec => {
    const spec = parseClamdAddress(text);
    if (typeof spec === 'string') throw fail(spec);
    return spec;
  };
  if (typeof r.data['clamd'] === 'string') {
    const text = r.string('clamd') ?? '';
    return [one(text, (msg) => r.error('clamd', msg))];
  }
  const list = r.stringArray('clamd', (text, path) => one(text, (msg) => r.ctx.error(path, msg)));
  if (list === undefined) return [parseClamdAddress(CLAMAV_DEFAULTS.clamd) as ConnectionSpec];
  if (list.length === 0) throw r.error('clamd', 'needs at least one clamd address (leave clamd out for the default unix:/run/clamav/clamd.ctl)');
  return list;
}

/** A clamd address, or why it is not one. Wildcard hosts (inet:3310) mean this machine. */
export function parseClamdAddress(text: string): ConnectionSpec | string {
  const tcp = /^tcp:(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/i.exec(text);
  if (tcp) {
    const host = tcp[1]!.replace(/^\[(.*)\]$/, '$1');
    const port = Number(tcp[2] ?? 3310);
    if (port > 65535) return `clamd address "${text}": port ${port} is not from 1 to 65535`;
    return { type: 'inet', host, port, family: host.includes(':') ? 6 : 4 };
  }
  let spec: ConnectionSpec;
  try {
    spec = parseConnectionSpec(text.startsWith('/') ? `unix:${text}` : text);
  } catch (err) {
    if (err instanceof SpecError) return `${err.message.replace('connection spec', 'clamd address')} (or tcp:HOST:PORT)`;
    throw err;
  }
  if (spec.type === 'unix') return spec;
  if (spec.port === 0) return `clamd address "${text}": port 0 is not a port clamd listens on`;
  if (spec.host === '0.0.0.0') return { ...spec, host: '127.0.0.1' };
  if (spec.host === '::') return { ...spec, host: '::1' };
  return spec;
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Bytes: an integer, or clamav-milter's "100M" / "512K" / "1G" spelling. */
function readSize(r: TableReader, key: string): number | undefined {
  if (typeof r.data[key] === 'string') {
    const text = r.string(key) ?? '';
    const m = /^\s*(\d+)\s*([kmg]?)b?\s*$/i.exec(text);
    if (!m) throw r.error(key, `${JSON.stringify(text)} is not a size like 25M, 512K or a number of bytes`);
    const bytes = Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!;
    if (bytes <= 0) throw r.error(key, `must be greater than 0, got ${JSON.stringify(text)}`);
    return bytes;
  }
  return r.number(key, { integer: true, positive: true });
}

function readLocalNet(r: TableReader): string[] {
  return (
    r.stringArray('local_net', (text, path) => {
      if (text === 'local') return text;
      const error = cidrError(text);
      if (error !== undefined) throw r.ctx.error(path, `${error} (or "local" for connections without an address)`);
      return text;
    }) ?? []
  );
}

/** true: every authenticated sender; a string: a regular expression the login must match (unanchored). */
function readSkipAuthenticated(r: TableReader): RegExp | undefined {
  if (typeof r.data['skip_authenticated'] === 'string') {
    const pattern = r.string('skip_authenticated') ?? '';
    if (pattern.length === 0) throw r.error('skip_authenticated', 'must not be empty (true skips every authenticated sender)');
    try {
      return new RegExp(pattern);
    } catch (err) {
      throw r.error('skip_authenticated', `not a valid regular expression: ${(err as Error).message}`);
    }
  }
  const flag = r.boolean('skip_authenticated');
  return flag === true ? /(?:)/ : undefined;
}
