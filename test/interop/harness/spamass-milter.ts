// spamass-milter 0.4.0 (Debian 12) in front of a private spamd (spamd.ts).
//
//   spamass-milter -p SPEC -P TMP/spamass-milter.pid [-r N] -- -F /dev/null -d 127.0.0.1 -p SPAMD_PORT
//
// - `-p` takes libmilter syntax (unix:/path or inet:PORT@HOST).
// - Everything after `--` goes to spamc, which spamass-milter forks (in
//   PROCESS mode) for every message: `-d HOST -p PORT` points it at our spamd;
//   `-F /dev/null` keeps a system /etc/spamassassin/spamc.conf out of it.
// - `-r N`: reject (550 5.7.1 "Blocked by SpamAssassin") when the integer
//   part of the score is >= N; GTUBE scores ~1000.
// - NOT `-i 127.0.0.1` (Debian's /etc/default/spamass-milter has it): that
//   skips every message from loopback, i.e. all of ours.
// - Runs as root (no -u), in the foreground (no -f).
// - Its own messages go to syslog only (there is no /dev/log in our
//   containers, so they are lost). spamc's stdout AND stderr are one pipe that
//   spamass-milter parses as the processed message: never pass spamc `-l`.
// - If spamc cannot reach spamd (even with spamc -x), the message is ACCEPTED
//   unchanged, merely without X-Spam-* headers, and nothing is logged where we
//   can see it: assert on the headers, not on the absence of a reject.
// - libmilter: ~5 s to exit on SIGTERM, so 1 s grace then SIGKILL.
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from './tmpdir.js';
import { startDaemon, LIBMILTER_STOP_GRACE_MS, type Daemon } from './process.js';
import { parseSpec, libmilterSpec, waitListening } from './endpoint.js';

const SPAMASS_MILTER = '/usr/sbin/spamass-milter';
const SPAMC = '/usr/bin/spamc'; // hard-coded in spamass-milter

/** The SMTP reply text spamass-milter sends with -r (code 550, enhanced 5.7.1). */
export const SPAMASS_REJECT_TEXT = 'Blocked by SpamAssassin';

export interface SpamassMilter {
  readonly daemon: Daemon;
  stop(): Promise<void>;
}

export interface SpamassMilterOptions {
  /** The spamd to use (e.g. from startSpamd()). */
  spamd: { readonly port: number; readonly host?: string };
  /** Milter socket; any spelling parseSpec accepts. */
  spec: string;
  /** -r: reject at score >= this (default 15); null: never reject, only mark. */
  rejectScore?: number | null;
  /** Extra spamass-milter options (before `--`). */
  args?: readonly string[];
  /** Extra spamc options (after `--`). */
  spamcArgs?: readonly string[];
}

export async function startSpamassMilter(opts: SpamassMilterOptions): Promise<SpamassMilter> {
  for (const bin of [SPAMASS_MILTER, SPAMC]) {
    await access(bin, constants.X_OK).catch(() => {
      throw new Error(`${bin} is missing: install the spamass-milter and spamc packages (scripts/install-test-peers.sh)`);
    });
  }
  const tmp = await makeTempDir('spamass-milter');
  const ep = parseSpec(opts.spec);
  const rejectScore = opts.rejectScore === undefined ? 15 : opts.rejectScore;
  const args = [
    '-p',
    libmilterSpec(ep),
    '-P',
    join(tmp.path, 'spamass-milter.pid'),
    ...(rejectScore === null ? [] : ['-r', String(rejectScore)]),
    ...(opts.args ?? []),
    '--',
    '-F',
    '/dev/null',
    '-d',
    opts.spamd.host ?? '127.0.0.1',
    '-p',
    String(opts.spamd.port),
    ...(opts.spamcArgs ?? []),
  ];
  const daemon = startDaemon('spamass-milter', SPAMASS_MILTER, args);
  const stop = async (): Promise<void> => {
    await daemon.stop(LIBMILTER_STOP_GRACE_MS);
    await tmp.remove();
  };
  try {
    await waitListening(ep, 'spamass-milter', {
      daemon,
      timeoutMs: 15_000,
      diagnostics: () => `command: ${SPAMASS_MILTER} ${args.join(' ')}\n(spamass-milter logs to syslog only)`,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { daemon, stop };
}
