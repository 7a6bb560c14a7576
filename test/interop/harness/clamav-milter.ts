// clamav-milter 1.4.6 (Debian 12) in front of a private clamd (clamd.ts), with
// its own config file (/etc/clamav/clamav-milter.conf is never read):
//
//   MilterSocket SPEC (libmilter syntax), MilterSocketMode 666, FixStaleSocket
//   ClamdSocket unix:CLAMD_SOCKET, Foreground true, PidFile/LogFile in TMP,
//   OnInfected Reject, OnFail Defer, AddHeader Replace,
//   RejectMsg "Virus found: %v"  → 550 5.7.1 Virus found: Eicar-Test-Signature.UNOFFICIAL
//   no User (stays root)
//
// Quirks:
// - clamav-milter starts even when clamd is not there (it only logs "No clamd
//   server appears to be available"); start clamd first.
// - Clean mail gets ACCEPT at end of message plus X-Virus-Scanned
//   ("clamav-milter 1.4.6 at <hostname>") and X-Virus-Status: Clean; infected
//   mail with OnInfected Reject gets a reply code at EOM, the headers being
//   moot. It negotiates NOHELO and NOEOH.
// - libmilter: ~4.5 s to exit on SIGTERM, so 1 s grace then SIGKILL.
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from './tmpdir.js';
import { startDaemon, LIBMILTER_STOP_GRACE_MS, type Daemon } from './process.js';
import { parseSpec, libmilterSpec, waitListening } from './endpoint.js';

const CLAMAV_MILTER = '/usr/sbin/clamav-milter';

export type OnInfected = 'Accept' | 'Reject' | 'Defer' | 'Blackhole' | 'Quarantine';

export interface ClamavMilter {
  readonly daemon: Daemon;
  readonly configFile: string;
  log(): Promise<string>;
  stop(): Promise<void>;
}

export interface ClamavMilterOptions {
  /** The clamd to use (e.g. from startClamd()); its ClamdSocket spelling. */
  clamd: { readonly clamdSocketSpec: string };
  /** Milter socket; any spelling parseSpec accepts. */
  spec: string;
  /** Default Reject. */
  onInfected?: OnInfected;
  /** RejectMsg (%v = virus name); null: none, the MTA's default text. Default "Virus found: %v". */
  rejectMsg?: string | null;
  /** AddHeader: Replace (default), Yes, Add, No. */
  addHeader?: 'Replace' | 'Yes' | 'Add' | 'No';
  /** Extra clamav-milter.conf lines. */
  config?: readonly string[];
}

export async function startClamavMilter(opts: ClamavMilterOptions): Promise<ClamavMilter> {
  const tmp = await makeTempDir('clamav-milter');
  const ep = parseSpec(opts.spec);
  const configFile = join(tmp.path, 'clamav-milter.conf');
  const logFile = join(tmp.path, 'clamav-milter.log');
  const rejectMsg = opts.rejectMsg === undefined ? 'Virus found: %v' : opts.rejectMsg;
  await writeFile(
    configFile,
    [
      `MilterSocket ${libmilterSpec(ep)}`,
      ...(ep.kind === 'unix' ? ['MilterSocketMode 666'] : []),
      'FixStaleSocket true',
      `ClamdSocket ${opts.clamd.clamdSocketSpec}`,
      'Foreground true',
      `PidFile ${join(tmp.path, 'clamav-milter.pid')}`,
      `LogFile ${logFile}`,
      'LogTime true',
      'LogInfected Basic',
      'LogClean Basic',
      `OnInfected ${opts.onInfected ?? 'Reject'}`,
      'OnFail Defer',
      `AddHeader ${opts.addHeader ?? 'Replace'}`,
      ...(rejectMsg === null ? [] : [`RejectMsg ${rejectMsg}`]),
      ...(opts.config ?? []),
      '',
    ].join('\n'),
  );
  const log = async (): Promise<string> => readFile(logFile, 'utf8').catch(() => '');
  const daemon = startDaemon('clamav-milter', CLAMAV_MILTER, [`--config-file=${configFile}`]);
  const stop = async (): Promise<void> => {
    await daemon.stop(LIBMILTER_STOP_GRACE_MS);
    await tmp.remove();
  };
  try {
    await waitListening(ep, 'clamav-milter', {
      daemon,
      timeoutMs: 15_000,
      diagnostics: async () => `--- ${configFile} ---\n${await readFile(configFile, 'utf8')}\n--- ${logFile} ---\n${await log()}`,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { daemon, configFile, log, stop };
}
