// A private, offline spamd (SpamAssassin 4.0.1, Debian 12) on 127.0.0.1:PORT,
// plus spamdRequest/spamcCheck: a raw SPAMC/1.5 client over node:net for
// tests of our own spamd client.
//
// Flags and why:
// - `-L` (local tests only): no DNSBL/URIBL/Razor/Pyzor/DCC lookups. Without
//   it the first scan runs into DNS deadlines (~15 s) on this network-less box.
// - `-x` (no user config) and `-u nobody` when root: children never touch a
//   real home directory; HOME and --helper-home-dir point into the temp dir
//   (chowned to nobody, since the children create ~/.spamassassin there).
// - `-C /usr/share/spamassassin`: pin the rules Debian's spamassassin package
//   ships (they load without sa-update) even if someone ran sa-update, which
//   would otherwise win from /var/lib/spamassassin/<version>/.
// - `--siteconfigpath TMP/site`: a private copy of Debian's /etc/spamassassin
//   *.pre files (they load the plugins) and our own local.cf; the system
//   local.cf never applies.
// - `-i 127.0.0.1:PORT -A 127.0.0.1`: loopback only. `-m 2 --min-children 1`.
// - `-r TMP/spamd.pid`, `-s stderr`: pid file in the temp dir, log on stderr
//   (captured as the daemon's output, which start errors include).
//
// Readiness: spamd binds its port (~0.3 s) BEFORE it has compiled the rules,
// and logs "server started on ..." only once it can serve (~1 s on 2 cores).
// We wait for both, from /proc and from its log; no probe connection.
import { writeFile, copyFile, chown, readdir } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { makeTempDir } from './tmpdir.js';
import { freePort } from './ports.js';
import { startDaemon, waitFor, type Daemon } from './process.js';
import { tcpListening } from './endpoint.js';

/** The GTUBE line: any message containing it scores 1000 (rule GTUBE). */
export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

const SPAMD = '/usr/sbin/spamd';
const RULES_DIR = '/usr/share/spamassassin';
const DEBIAN_SITE_DIR = '/etc/spamassassin';

// Deterministic, stateless scoring: no Bayes database is built or consulted
// (each spamd is fresh anyway), nothing is learned.
const LOCAL_CF = `use_bayes 0
bayes_auto_learn 0
`;

export interface Spamd {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly daemon: Daemon;
  /** Milliseconds from spawn to "server started" (for reports). */
  readonly startupMs: number;
  /** The unix socket spamd also listens on, when asked for (SpamdOptions.unixSocket). */
  readonly socketPath?: string;
  stop(): Promise<void>;
}

export interface SpamdOptions {
  /** Extra local.cf lines (SpamAssassin configuration). */
  localCf?: readonly string[];
  /** --max-children (default 2). */
  maxChildren?: number;
  /** Also listen on a unix socket in the temp dir (a second --listen); its path is Spamd.socketPath. */
  unixSocket?: boolean;
}

function uidGidOf(user: string): { uid: number; gid: number } {
  return {
    uid: Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim()),
  };
}

export async function startSpamd(opts: SpamdOptions = {}): Promise<Spamd> {
  const tmp = await makeTempDir('spamd');
  const site = await tmp.sub('site');
  const home = await tmp.sub('home');
  const pidFile = join(tmp.path, 'spamd.pid');
  const asRoot = process.getuid?.() === 0;
  try {
    const rules = (await readdir(RULES_DIR).catch(() => [] as string[])).filter((f) => f.endsWith('.cf'));
    if (rules.length === 0) {
      throw new Error(`no SpamAssassin rules in ${RULES_DIR}: is the spamassassin package installed? (scripts/install-test-peers.sh)`);
    }
    for (const f of await readdir(DEBIAN_SITE_DIR)) {
      if (f.endsWith('.pre')) await copyFile(join(DEBIAN_SITE_DIR, f), join(site, f));
    }
    await writeFile(join(site, 'local.cf'), LOCAL_CF + (opts.localCf ?? []).map((l) => `${l}\n`).join(''));
    if (asRoot) {
      const { uid, gid } = uidGidOf('nobody');
      await chown(home, uid, gid);
    }
  } catch (err) {
    await tmp.remove();
    throw err;
  }

  const port = await freePort();
  const socketPath = opts.unixSocket ? join(tmp.path, 'spamd.sock') : undefined;
  const args = [
    '-L',
    '-x',
    ...(asRoot ? ['-u', 'nobody'] : []),
    `--configpath=${RULES_DIR}`,
    `--siteconfigpath=${site}`,
    `--helper-home-dir=${home}`,
    `--listen=127.0.0.1:${port}`,
    ...(socketPath === undefined ? [] : [`--listen=${socketPath}`]),
    '--allowed-ips=127.0.0.1',
    `--max-children=${opts.maxChildren ?? 2}`,
    '--min-children=1',
    `--pidfile=${pidFile}`,
    '--syslog=stderr',
  ];
  const t0 = Date.now();
  const daemon = startDaemon('spamd', SPAMD, args, { env: { ...process.env, HOME: home } });
  const stop = async (): Promise<void> => {
    // spamd needs ~2 s to reap its children on SIGTERM.
    await daemon.stop(3_000);
    await tmp.remove();
  };
  // "info: spamd: server started on IO::Socket::IP [127.0.0.1]:PORT (running version 4.0.1)"
  const started = new RegExp(`server started on .*:${port}\\b`);
  try {
    await waitFor(
      `spamd serving on 127.0.0.1:${port}`,
      async () => (started.test(daemon.output()) && (await tcpListening(port)) ? true : undefined),
      { daemon, timeoutMs: 30_000, intervalMs: 50 },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { host: '127.0.0.1', port, daemon, startupMs: Date.now() - t0, stop, ...(socketPath === undefined ? {} : { socketPath }) };
}

export interface SpamdReply {
  /** e.g. "SPAMD/1.1 0 EX_OK" */
  readonly statusLine: string;
  readonly protocolVersion: string;
  /** sysexits code; 0 = EX_OK. */
  readonly code: number;
  readonly codeText: string;
  /** Response headers (case kept as sent), e.g. { Spam: "True ; 1000.0 / 5.0" }. */
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed `Spam:` header, when present. */
  readonly spam: { isSpam: boolean; score: number; threshold: number } | undefined;
  readonly body: string;
  readonly raw: string;
}

export interface SpamdRequestOptions {
  host?: string;
  timeoutMs?: number;
  /** `User:` request header. */
  user?: string;
}

/**
 * One raw SPAMC/1.5 request: "<COMMAND> SPAMC/1.5", "Content-length: N" (that
 * exact case: spamd matches header names case-sensitively), optional "User:",
 * a blank line, the message; then a half-close, and the whole reply is read
 * until spamd closes.
 */
export function spamdRequest(
  port: number,
  command: string,
  message: string | Buffer,
  opts: SpamdRequestOptions = {},
): Promise<SpamdReply> {
  const body = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  const head =
    `${command} SPAMC/1.5\r\n` +
    `Content-length: ${body.length}\r\n` +
    (opts.user === undefined ? '' : `User: ${opts.user}\r\n`) +
    '\r\n';
  const host = opts.host ?? '127.0.0.1';
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`spamd ${command} to ${host}:${port}: no complete reply within ${timeoutMs} ms; got: ${Buffer.concat(chunks).toString('latin1')}`));
    }, timeoutMs);
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`spamd ${command} to ${host}:${port}: ${err.message}`));
    });
    sock.once('connect', () => sock.end(Buffer.concat([Buffer.from(head, 'latin1'), body])));
    sock.once('close', (hadError) => {
      clearTimeout(timer);
      if (hadError) return; // 'error' already rejected
      try {
        resolve(parseSpamdReply(Buffer.concat(chunks).toString('latin1')));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

/** CHECK: spamd answers "Spam: True|False ; SCORE / THRESHOLD" and no body. */
export function spamcCheck(port: number, message: string | Buffer, opts: SpamdRequestOptions = {}): Promise<SpamdReply> {
  return spamdRequest(port, 'CHECK', message, opts);
}

export function parseSpamdReply(raw: string): SpamdReply {
  const split = raw.indexOf('\r\n\r\n');
  const headPart = split === -1 ? raw.replace(/\r\n$/, '') : raw.slice(0, split);
  const body = split === -1 ? '' : raw.slice(split + 4);
  const [statusLine = '', ...headerLines] = headPart.split('\r\n');
  const status = /^SPAMD\/(\d+\.\d+) (\d+) ?(.*)$/.exec(statusLine);
  if (!status?.[1] || status[2] === undefined) throw new Error(`not a SPAMD reply: ${JSON.stringify(raw)}`);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  const spamHeader = headers['Spam'];
  const m = spamHeader === undefined ? null : /^(True|False|Yes|No) ; (-?[\d.]+) \/ (-?[\d.]+)$/.exec(spamHeader);
  return {
    statusLine,
    protocolVersion: status[1],
    code: Number(status[2]),
    codeText: status[3] ?? '',
    headers,
    spam: m?.[1] && m[2] && m[3] ? { isSpam: m[1] === 'True' || m[1] === 'Yes', score: Number(m[2]), threshold: Number(m[3]) } : undefined,
    body,
    raw,
  };
}
