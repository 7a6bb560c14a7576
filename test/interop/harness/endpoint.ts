// Milter socket addresses. Every peer spells them differently:
//   libmilter / pymilter / miltertest / mailgate: unix:/path, inet:PORT@HOST
//   opendkim:                                     local:/path, inet:PORT@HOST
//   Postfix (smtpd_milters):                      unix:/path, inet:HOST:PORT
// so tests keep an Endpoint and render the spelling each peer wants.
import { connect } from 'node:net';
import { readFile, chmod, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { waitFor, type WaitOptions } from './process.js';

export type Endpoint = { kind: 'unix'; path: string } | { kind: 'inet'; host: string; port: number };

export async function inetEndpoint(): Promise<Endpoint> {
  return { kind: 'inet', host: '127.0.0.1', port: await freePort() };
}

export function unixEndpoint(dir: string, name = 'milter.sock'): Endpoint {
  return { kind: 'unix', path: join(dir, name) };
}

/** libmilter syntax: pymilter, miltertest, mailgate's -s. */
export function libmilterSpec(ep: Endpoint): string {
  return ep.kind === 'unix' ? `unix:${ep.path}` : `inet:${ep.port}@${ep.host}`;
}

export function opendkimSpec(ep: Endpoint): string {
  return ep.kind === 'unix' ? `local:${ep.path}` : `inet:${ep.port}@${ep.host}`;
}

export function postfixSpec(ep: Endpoint): string {
  return ep.kind === 'unix' ? `unix:${ep.path}` : `inet:${ep.host}:${ep.port}`;
}

/** Accepts any of the spellings above (and a bare /path). */
export function parseSpec(spec: string): Endpoint {
  const unix = /^(?:unix:|local:)?(\/.*)$/.exec(spec);
  if (unix?.[1]) return { kind: 'unix', path: unix[1] };
  const atForm = /^inet6?:(\d+)@\[?([^\]]+)\]?$/.exec(spec);
  if (atForm?.[1] && atForm[2]) return { kind: 'inet', host: atForm[2], port: Number(atForm[1]) };
  const colonForm = /^inet:\[?([^\]]+?)\]?:(\d+)$/.exec(spec);
  if (colonForm?.[1] && colonForm[2]) return { kind: 'inet', host: colonForm[1], port: Number(colonForm[2]) };
  throw new Error(`unrecognised milter socket spec: ${spec}`);
}

// Readiness is read from /proc rather than by connecting: a probe connection
// would be a (bogus) milter session that some peers log, count or print.
async function procLines(file: string): Promise<string[]> {
  try {
    return (await readFile(file, 'utf8')).split('\n').slice(1);
  } catch {
    return [];
  }
}

/** True when some socket is LISTENing on this TCP port (any local address). */
export async function tcpListening(port: number): Promise<boolean> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of await procLines(file)) {
      const cols = line.trim().split(/\s+/);
      // cols[1] = local "ADDR:PORT" (hex), cols[3] = state, 0A = LISTEN
      if (cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A') return true;
    }
  }
  return false;
}

/** True when a unix stream socket bound to `path` is listening (__SO_ACCEPTCON). */
export async function unixListening(path: string): Promise<boolean> {
  for (const line of await procLines('/proc/net/unix')) {
    const cols = line.trim().split(/\s+/);
    // Num RefCount Protocol Flags Type St Inode Path
    if (cols.slice(7).join(' ') === path && cols[3] === '00010000') return true;
  }
  return false;
}

/**
 * A Mailgate socket: bound in a private directory and renamed into place once listening, so the
 * kernel's table (/proc/net/unix) names the private path; a socket at `path` means it listens.
 */
export async function mailgateUnixListening(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSocket();
  } catch {
    return false;
  }
}

export async function isListening(ep: Endpoint): Promise<boolean> {
  return ep.kind === 'unix' ? unixListening(ep.path) : tcpListening(ep.port);
}

/**
 * Waits until the endpoint listens. Third-party peers' unix sockets are then
 * opened to everyone (0666): they create them as root under our umask, but
 * Postfix's smtpd connects as the `postfix` user and connect(2) needs write
 * permission. Mailgate sets its own mode and group (`keepMode`).
 */
export async function waitListening(
  ep: Endpoint,
  what: string,
  opts: WaitOptions & { keepMode?: boolean } = {},
): Promise<void> {
  // keepMode: Mailgate's own socket (see mailgateUnixListening).
  const listening = (): Promise<boolean> => (ep.kind === 'unix' && opts.keepMode ? mailgateUnixListening(ep.path) : isListening(ep));
  await waitFor(`${what} listening on ${libmilterSpec(ep)}`, async () => ((await listening()) ? true : undefined), opts);
  if (ep.kind === 'unix' && !opts.keepMode) await chmod(ep.path, 0o666);
}

/** True when a TCP connection to 127.0.0.1:`port` is accepted right now (a listener that answers, not only a socket in LISTEN). */
export function acceptsConnection(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
