// opendkim in sign mode with a throw-away key: signing needs no DNS at all.
//
// Config quirks found on Debian 12 (opendkim 2.11):
// - RequireSafeKeys no: otherwise opendkim refuses the key because a parent
//   directory (/tmp, mode 1777) "can be read or written by other users".
// - Background no + `-f`: stay in the foreground as our child.
// - Syslog no: there is no log-file option; errors go to stderr, which we keep.
// - It signs only mail whose From: domain is in Domain, from a client in
//   InternalHosts (default 127.0.0.1), and replies SMFIR_INSHEADER (index 0,
//   DKIM-Signature) then ACCEPT at end of message.
// - Like any libmilter filter it needs ~5 s to exit on SIGTERM (see process.ts).
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from './tmpdir.js';
import { runCommand, startDaemon, LIBMILTER_STOP_GRACE_MS, type Daemon } from './process.js';
import { parseSpec, opendkimSpec, waitListening } from './endpoint.js';

export const DKIM_DOMAIN = 'example.com';
export const DKIM_SELECTOR = 'test';

export interface OpenDkim {
  readonly daemon: Daemon;
  /** The DNS TXT record opendkim-genkey produced (for verification by tests). */
  readonly publicKeyRecord: string;
  stop(): Promise<void>;
}

export interface OpenDkimOptions {
  /** Socket; any spelling parseSpec accepts (rendered as opendkim's inet:PORT@HOST / local:/path). */
  spec: string;
  /**
   * Sign and verify (Mode sv) instead of sign only, with the generated key as the only public key it
   * knows (TestPublicKeys, a "NAME RECORD" file: no DNS), so that its own signatures verify.
   */
  verify?: boolean;
  /** Further opendkim.conf lines (e.g. "MTA ORIGINATING", "InternalHosts 192.0.2.1"). */
  extraConf?: readonly string[];
}

/** The TXT record's text from opendkim-genkey's zone-file snippet (its quoted strings joined). */
export function txtRecordText(zoneSnippet: string): string {
  return (zoneSnippet.match(/"[^"]*"/g) ?? []).map((q) => q.slice(1, -1)).join('');
}

export async function startOpenDkim(opts: OpenDkimOptions): Promise<OpenDkim> {
  const tmp = await makeTempDir('opendkim');
  const ep = parseSpec(opts.spec);
  const gen = await runCommand('/usr/sbin/opendkim-genkey', ['-D', tmp.path, '-d', DKIM_DOMAIN, '-s', DKIM_SELECTOR]);
  if (gen.exitCode !== 0) {
    await tmp.remove();
    throw new Error(`opendkim-genkey failed (${gen.exitCode}): ${gen.stdout}${gen.stderr}`);
  }
  const conf = join(tmp.path, 'opendkim.conf');
  const keysFile = join(tmp.path, 'test-public-keys');
  if (opts.verify) {
    const record = txtRecordText(await readFile(join(tmp.path, `${DKIM_SELECTOR}.txt`), 'utf8'));
    await writeFile(keysFile, `${DKIM_SELECTOR}._domainkey.${DKIM_DOMAIN} ${record}\n`);
  }
  await writeFile(
    conf,
    [
      opts.verify ? 'Mode sv' : 'Mode s',
      ...(opts.verify ? [`TestPublicKeys ${keysFile}`] : []),
      `Domain ${DKIM_DOMAIN}`,
      `Selector ${DKIM_SELECTOR}`,
      `KeyFile ${join(tmp.path, `${DKIM_SELECTOR}.private`)}`,
      `Socket ${opendkimSpec(ep)}`,
      'Background no',
      'Syslog no',
      'UserID root',
      `PidFile ${join(tmp.path, 'opendkim.pid')}`,
      'RequireSafeKeys no',
      'Canonicalization relaxed/simple',
      ...(opts.extraConf ?? []),
      '',
    ].join('\n'),
  );
  const daemon = startDaemon('opendkim', '/usr/sbin/opendkim', ['-f', '-x', conf]);
  const stop = async (): Promise<void> => {
    await daemon.stop(LIBMILTER_STOP_GRACE_MS);
    await tmp.remove();
  };
  try {
    await waitListening(ep, 'opendkim', { daemon, timeoutMs: 15_000 });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    daemon,
    publicKeyRecord: await readFile(join(tmp.path, `${DKIM_SELECTOR}.txt`), 'utf8'),
    stop,
  };
}
