/** The sockets milters name in their own configuration files. */
import type { RootedFs } from './rooted-fs.js';
import type { Located } from './shell.js';

function lines(text: string): string[] {
  return text.split(/\r?\n/);
}

export interface ClamavMilterConf {
  readonly file: string;
  readonly milterSocket?: Located;
  /** Line of an uncommented `Example` (clamav-milter refuses to start while it is there). */
  readonly exampleLine?: number;
}

/** clamav-milter.conf: `MilterSocket VALUE` (the last one wins) and the `Example` guard line. */
export function readClamavMilterConf(fs: RootedFs, path: string): ClamavMilterConf | undefined {
  const text = fs.read(path);
  if (text === undefined) return undefined;
  const file = fs.real(path);
  let milterSocket: Located | undefined;
  let exampleLine: number | undefined;
  lines(text).forEach((line, i) => {
    if (/^\s*#/.test(line)) return;
    const socket = /^\s*MilterSocket\s+(.+?)\s*$/.exec(line);
    if (socket?.[1] !== undefined) milterSocket = { value: socket[1], file, line: i + 1 };
    else if (/^\s*Example(\s|$)/.test(line)) exampleLine ??= i + 1;
  });
  return { file, milterSocket, exampleLine };
}

export interface GreylistConf {
  readonly file: string;
  readonly socket?: Located;
  /** Longest `tarpit` of the (r)acl lines, seconds. */
  readonly maxTarpit?: number;
}

const TIME_UNITS: Readonly<Record<string, number>> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** milter-greylist's greylist.conf: `socket "VALUE" [mode]` and the tarpit times of its ACLs. */
export function readGreylistConf(fs: RootedFs, path: string): GreylistConf | undefined {
  const text = fs.read(path);
  if (text === undefined) return undefined;
  const file = fs.real(path);
  let socket: Located | undefined;
  let maxTarpit: number | undefined;
  // Backslash-continued lines are joined; the line number is that of the first.
  const joined: { text: string; line: number }[] = [];
  let continued = false;
  lines(text).forEach((line, i) => {
    if (/^\s*#/.test(line)) {
      continued = false;
      return;
    }
    const last = joined[joined.length - 1];
    if (continued && last !== undefined) last.text = `${last.text.replace(/\\\s*$/, '')} ${line}`;
    else joined.push({ text: line, line: i + 1 });
    continued = /\\\s*$/.test(line);
  });
  for (const { text: line, line: number } of joined) {
    const s = /^\s*socket\s+"(.+?)"/.exec(line);
    if (s?.[1] !== undefined) {
      socket = { value: s[1], file, line: number };
      continue;
    }
    if (/^\s*r?acl\s+/.test(line)) {
      const t = /\btarpit\s+(\d+)([smhdw]?)\b/.exec(line);
      if (t !== null) {
        const seconds = Number(t[1]) * (TIME_UNITS[t[2] ?? ''] ?? 1);
        maxTarpit = Math.max(maxTarpit ?? 0, seconds);
      }
    }
  }
  return { file, socket, maxTarpit };
}

/** opendkim.conf: `Socket VALUE` (keywords are case-insensitive; the last one wins). */
export function readOpendkimConf(fs: RootedFs, path: string): { file: string; socket?: Located } | undefined {
  const text = fs.read(path);
  if (text === undefined) return undefined;
  const file = fs.real(path);
  let socket: Located | undefined;
  lines(text).forEach((line, i) => {
    const m = /^\s*Socket\s+(\S+)/i.exec(line);
    if (m?.[1] !== undefined) socket = { value: m[1], file, line: i + 1 };
  });
  return { file, socket };
}

export interface RspamdProxy {
  /** `bind_socket` of the proxy worker, or undefined when no file sets it. */
  readonly bindSocket?: Located;
  /** `milter = no` found (with where), when the proxy is not in milter mode. */
  readonly milterOff?: Located;
}

/** Highest priority first: override.d, local.d, then the packaged worker-proxy.inc. */
const RSPAMD_PROXY_FILES = ['/etc/rspamd/override.d/worker-proxy.inc', '/etc/rspamd/local.d/worker-proxy.inc', '/etc/rspamd/worker-proxy.inc'];
/** Where Debian's rspamd.conf declares the proxy worker and its default `bind_socket`. */
const RSPAMD_CONF = '/etc/rspamd/rspamd.conf';

/**
 * rspamd's proxy worker (what milter-manager gets from `rspamadm configdump`): `bind_socket` and `milter`
 * from override.d / local.d / worker-proxy.inc, then the `worker "rspamd_proxy"` block of rspamd.conf.
 * Only the first `bind_socket` of the deciding file counts.
 */
export function readRspamdProxy(fs: RootedFs): RspamdProxy {
  let bindSocket: Located | undefined;
  let milter: Located | undefined;
  for (const path of RSPAMD_PROXY_FILES) {
    const text = fs.read(path);
    if (text === undefined) continue;
    const found = scanUcl(text, fs.real(path));
    bindSocket ??= found.bindSocket;
    milter ??= found.milter;
  }
  if (bindSocket === undefined || milter === undefined) {
    const text = fs.read(RSPAMD_CONF);
    if (text !== undefined) {
      const block = /worker\s+"rspamd_proxy"\s*\{/.exec(text);
      if (block !== null) {
        const startLine = text.slice(0, block.index).split('\n').length;
        const body = text.slice(block.index + block[0].length);
        const end = body.search(/^\s*\}/m);
        const found = scanUcl(end === -1 ? body : body.slice(0, end), fs.real(RSPAMD_CONF), startLine - 1);
        bindSocket ??= found.bindSocket;
        milter ??= found.milter;
      }
    }
  }
  const off = milter !== undefined && /^(no|false|off)$/i.test(milter.value) ? milter : undefined;
  return { bindSocket, milterOff: off };
}

function scanUcl(text: string, file: string, lineOffset = 0): { bindSocket?: Located; milter?: Located } {
  let bindSocket: Located | undefined;
  let milter: Located | undefined;
  lines(text).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)(#|\/\/).*$/, '');
    const b = /^\s*bind_socket\s*[=:]?\s*(?:"([^"]*)"|'([^']*)'|([^;\s]+))/.exec(line);
    if (b !== null && bindSocket === undefined) {
      bindSocket = { value: b[1] ?? b[2] ?? b[3] ?? '', file, line: lineOffset + i + 1 };
    }
    const m = /^\s*milter\s*[=:]?\s*"?(\w+)"?/.exec(line);
    if (m?.[1] !== undefined) milter = { value: m[1], file, line: lineOffset + i + 1 };
  });
  return { bindSocket, milter };
}
