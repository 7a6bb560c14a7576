// A private clamd (ClamAV 1.4.6, Debian 12) whose database is ONE custom body
// signature for the EICAR test string. freshclam is never needed (nor
// possible: no network), and loading takes milliseconds instead of the
// official database's tens of seconds and >1 GiB of RAM.
//
// The signature is an .ndb (hex body pattern, target 0 = any file, offset *):
// it matches the EICAR string anywhere in the scanned stream, e.g. inline in a
// mail body as clamav-milter streams it. An .hdb (MD5 of the whole 68-byte
// file) would only match the bare file. Custom signatures are reported with
// the suffix ".UNOFFICIAL".
//
// clamd.conf (written fresh; /etc/clamav/clamd.conf is never read):
//   DatabaseDirectory TMP/db, LocalSocket TMP/clamd.sock (mode 666),
//   optional TCPSocket PORT + TCPAddr 127.0.0.1, Foreground true,
//   LogFile TMP/clamd.log (clamd also logs to stdout in the foreground),
//   PidFile TMP/clamd.pid, SelfCheck 0 (no periodic db reload check),
//   Bytecode false, no User (stays root, or whoever runs the tests).
// clamd opens its sockets only after loading the database, so LISTEN (from
// /proc) means ready.
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from './tmpdir.js';
import { freePort } from './ports.js';
import { startDaemon, waitFor, type Daemon } from './process.js';
import { tcpListening, unixListening } from './endpoint.js';

/** The 68-byte EICAR anti-virus test string. */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
export const EICAR_SIGNATURE = 'Eicar-Test-Signature';
/** What clamd reports for EICAR with our custom database. */
export const EICAR_VIRUS_NAME = `${EICAR_SIGNATURE}.UNOFFICIAL`;

const CLAMD = '/usr/sbin/clamd';

export interface Clamd {
  /** Unix socket path (always there). */
  readonly socketPath: string;
  /** Loopback TCP port, when started with { tcp: true }. */
  readonly tcpPort: number | undefined;
  /** clamav-milter's ClamdSocket spelling of the unix socket: unix:/path */
  readonly clamdSocketSpec: string;
  readonly configFile: string;
  readonly daemon: Daemon;
  /** Milliseconds from spawn to listening (for reports). */
  readonly startupMs: number;
  log(): Promise<string>;
  stop(): Promise<void>;
}

export interface ClamdOptions {
  /** Also listen on 127.0.0.1:<free port>. */
  tcp?: boolean;
  /** Extra clamd.conf lines. */
  config?: readonly string[];
}

/** The .ndb line: Name:TargetType:Offset:HexSignature. */
export function eicarNdbLine(): string {
  return `${EICAR_SIGNATURE}:0:*:${Buffer.from(EICAR, 'latin1').toString('hex')}`;
}

export async function startClamd(opts: ClamdOptions = {}): Promise<Clamd> {
  const tmp = await makeTempDir('clamd');
  const db = await tmp.sub('db');
  await writeFile(join(db, 'eicar.ndb'), `${eicarNdbLine()}\n`);
  const socketPath = join(tmp.path, 'clamd.sock');
  const logFile = join(tmp.path, 'clamd.log');
  const configFile = join(tmp.path, 'clamd.conf');
  const tcpPort = opts.tcp ? await freePort() : undefined;
  await writeFile(
    configFile,
    [
      `DatabaseDirectory ${db}`,
      `LocalSocket ${socketPath}`,
      'LocalSocketMode 666',
      'FixStaleSocket true',
      ...(tcpPort === undefined ? [] : [`TCPSocket ${tcpPort}`, 'TCPAddr 127.0.0.1']),
      'Foreground true',
      `LogFile ${logFile}`,
      'LogTime true',
      `PidFile ${join(tmp.path, 'clamd.pid')}`,
      'SelfCheck 0',
      'Bytecode false',
      ...(opts.config ?? []),
      '',
    ].join('\n'),
  );
  const log = async (): Promise<string> => readFile(logFile, 'utf8').catch(() => '');
  const t0 = Date.now();
  const daemon = startDaemon('clamd', CLAMD, [`--config-file=${configFile}`]);
  const stop = async (): Promise<void> => {
    await daemon.stop(3_000);
    await tmp.remove();
  };
  try {
    await waitFor(
      `clamd listening on ${socketPath}${tcpPort === undefined ? '' : ` and 127.0.0.1:${tcpPort}`}`,
      async () => ((await unixListening(socketPath)) && (tcpPort === undefined || (await tcpListening(tcpPort))) ? true : undefined),
      { daemon, timeoutMs: 30_000, intervalMs: 20, diagnostics: async () => `--- ${logFile} ---\n${await log()}` },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    socketPath,
    tcpPort,
    clamdSocketSpec: `unix:${socketPath}`,
    configFile,
    daemon,
    startupMs: Date.now() - t0,
    log,
    stop,
  };
}
