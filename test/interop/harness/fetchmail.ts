// Downloading a maildrop with Debian's fetchmail (6.4), the way a user's cron job does: a run-control file
// (mode 0600, as fetchmail demands), BSMTP output to a file instead of an MTA (`--bsmtp`), its UIDL list in
// a private idfile, HOME and FETCHMAILHOME in a temp dir so nothing of the machine's is read or written.
// Exit code 0: mail fetched; 1: no mail (fetchmail's EXIT CODES).
import { access, constants, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeResult, runCommand, type CommandResult } from './process.js';
import { makeTempDir, type TempDir } from './tmpdir.js';

export const FETCHMAIL = '/usr/bin/fetchmail';

export interface FetchmailPoll {
  port: number;
  user: string;
  password: string;
  /** Leave the messages on the server (`keep`); otherwise fetchmail deletes what it fetched. */
  keep: boolean;
  /** Delete the messages seen in earlier runs too (`flush`: with uidl, those are not fetched again). */
  flush?: boolean;
  /** plain: `sslproto ''` (no TLS at all); stls: TLS required in-band; ssl: implicit TLS. Certificates not checked. */
  tls: 'plain' | 'stls' | 'ssl';
}

export interface Fetchmail {
  readonly dir: TempDir;
  /** One run; the BSMTP it wrote, and its result (exit code 0 or 1, else this throws with the transcript). */
  run(poll: FetchmailPoll): Promise<{ result: CommandResult; bsmtp: string }>;
  remove(): Promise<void>;
}

/** Throws a clear error when fetchmail is missing (scripts/install-test-peers.sh installs it). */
export async function requireFetchmail(): Promise<void> {
  try {
    await access(FETCHMAIL, constants.X_OK);
  } catch {
    throw new Error(`${FETCHMAIL} is missing: install fetchmail (scripts/install-test-peers.sh, as root)`);
  }
}

function quoted(s: string): string {
  if (/["\\\n]/.test(s)) throw new Error(`fetchmail rc: cannot quote ${JSON.stringify(s)}`);
  return `"${s}"`;
}

export async function fetchmail(): Promise<Fetchmail> {
  await requireFetchmail();
  const dir = await makeTempDir('fetchmail');
  const home = await dir.sub('home', 0o700);
  let runs = 0;
  return {
    dir,
    async run(poll) {
      runs++;
      const rc = join(dir.path, `fetchmailrc-${runs}`);
      const out = join(dir.path, `out-${runs}.bsmtp`);
      const tls = { plain: "sslproto ''", stls: "sslproto 'tls1.2+' no sslcertck", ssl: 'ssl no sslcertck' }[poll.tls];
      const text = `set no bouncemail\npoll 127.0.0.1 protocol pop3 port ${poll.port} uidl timeout 20\n  user ${quoted(poll.user)} password ${quoted(poll.password)} ${poll.keep ? 'keep' : 'nokeep'}${poll.flush ? ' flush' : ''} ${tls}\n`;
      await writeFile(rc, text, { mode: 0o600 });
      const result = await runCommand(FETCHMAIL, ['-f', rc, '--nosyslog', '-v', '--bsmtp', out, '-i', join(dir.path, 'idfile'), '--nodetach'], {
        env: { ...process.env, HOME: home, FETCHMAILHOME: home, LC_ALL: 'C' },
        timeoutMs: 60_000,
      });
      if (result.exitCode !== 0 && result.exitCode !== 1) throw new Error(`fetchmail failed: ${describeResult(result)}`);
      const bsmtp = await readFile(out, 'utf8').catch(() => '');
      return { result, bsmtp };
    },
    remove: () => dir.remove(),
  };
}
