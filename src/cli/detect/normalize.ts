/** Turning the socket notations milters and their packages use into Mailgate connection specs. */
import { parseConnectionSpec } from '../../milter/spec.js';

export type NormalizedSpec = { readonly spec: string; readonly problem?: undefined } | { readonly spec?: undefined; readonly problem: string };

/**
 * A connection spec for the socket text `raw` as a milter's configuration writes it, checked with
 * parseConnectionSpec. Accepted notations:
 *
 * | written                                   | becomes                   |
 * |-------------------------------------------|---------------------------|
 * | `/path` (bare path)                       | `unix:/path`              |
 * | `unix:/path`, `local:/path`               | `unix:/path`              |
 * | `inet:PORT@HOST`, `inet:PORT@[ADDR]`      | unchanged                 |
 * | `inet6:PORT@[ADDR]`                       | unchanged                 |
 * | `inet:PORT` (all interfaces)              | `inet:PORT@[127.0.0.1]`   |
 * | `inet6:PORT` (all interfaces)             | `inet6:PORT@[::1]`        |
 * | `inet:HOST:PORT` (Postfix style)          | `inet:PORT@HOST`          |
 * | `HOST:PORT` (rspamd `bind_socket`)        | `inet:PORT@HOST`          |
 * | `[ADDR]:PORT`                             | `inet:PORT@[ADDR]`        |
 * | `*:PORT` (rspamd, all interfaces)         | `inet:PORT@localhost`     |
 * | `*v4:PORT` / `*v6:PORT`                   | `inet:PORT@[127.0.0.1]` / `inet6:PORT@[::1]` |
 *
 * Only the first word counts (rspamd writes `/path mode=0666 owner=x`). A value still holding a `$VARIABLE`
 * or that parseConnectionSpec rejects is returned as a problem, never thrown.
 */
export function normalizeSocket(raw: string): NormalizedSpec {
  let text = raw.trim();
  if (text.length >= 2 && (text[0] === '"' || text[0] === "'") && text[text.length - 1] === text[0]) text = text.slice(1, -1).trim();
  text = text.split(/\s+/)[0] ?? '';
  if (text.length === 0) return { problem: 'the socket is empty' };
  if (/\$\{?[A-Za-z0-9_]+/.test(text)) return { problem: `socket "${text}" refers to an undefined shell variable` };

  const spec = toSpec(text);
  try {
    parseConnectionSpec(spec);
  } catch (err) {
    return { problem: (err as Error).message };
  }
  return { spec };
}

function toSpec(text: string): string {
  if (text.startsWith('/')) return `unix:${text}`;
  const scheme = /^(unix|local|inet6?):(.*)$/i.exec(text);
  if (scheme !== null) {
    const type = (scheme[1] ?? '').toLowerCase();
    let rest = scheme[2] ?? '';
    if (type === 'unix' || type === 'local') {
      // milter-manager collapses repeated prefixes ("unix:local:/x").
      while (/^(unix|local):/i.test(rest)) rest = rest.replace(/^(unix|local):/i, '');
      return `unix:${rest}`;
    }
    if (/^\d+$/.test(rest)) return type === 'inet6' ? `inet6:${rest}@[::1]` : `inet:${rest}@[127.0.0.1]`;
    if (!rest.includes('@')) {
      const hostPort = splitHostPort(rest);
      if (hostPort !== undefined) return `${type}:${hostPort.port}@${hostPort.host}`;
    }
    return `${type}:${rest}`;
  }
  const wildcard = /^\*(v4|v6)?:(\d+)$/.exec(text);
  if (wildcard !== null) {
    if (wildcard[1] === 'v6') return `inet6:${wildcard[2]}@[::1]`;
    return wildcard[1] === 'v4' ? `inet:${wildcard[2]}@[127.0.0.1]` : `inet:${wildcard[2]}@localhost`;
  }
  const hostPort = splitHostPort(text);
  if (hostPort !== undefined) return `inet:${hostPort.port}@${hostPort.host}`;
  return text;
}

/** "host:port", "[addr]:port" or "a.b.c.d:port"; undefined for anything else. */
function splitHostPort(text: string): { host: string; port: string } | undefined {
  const bracketed = /^(\[[^\]]+\]):(\d+)$/.exec(text);
  if (bracketed !== null) return { host: bracketed[1] ?? '', port: bracketed[2] ?? '' };
  const plain = /^([^:@/[\]\s]+):(\d+)$/.exec(text);
  if (plain !== null) return { host: plain[1] ?? '', port: plain[2] ?? '' };
  return undefined;
}
