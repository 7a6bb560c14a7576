/**
 * bench:imap's Mailgate: `mailgate start` from dist/ (with the V8 flags of the command's first line, as
 * bench:smtp runs it) on a temp data_dir whose one user's Maildir, <data_dir>/mail/<domain>/<local>/, is a
 * hard-linked copy of the corpus; the account made with `mailgate domain add` and `mailgate user add
 * --password-stdin` as an administrator would (so the password is stored as Mailgate stores new ones).
 * IMAP listens on a free loopback port, every other listener on another; the per-address and per-user
 * connection limits are lifted as they are for Dovecot. Log lines go to a file, not through this process.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePorts } from '../../test/interop/harness/ports.js';
import { runCommand, startDaemon, waitFor } from '../../test/interop/harness/process.js';
import { tcpListening } from '../../test/interop/harness/endpoint.js';
import { makeTempDir } from '../../test/interop/harness/tmpdir.js';
import { rssKb, treeCpuMs } from './memory.js';
import { BENCH_DOMAIN, BENCH_LOCAL, BENCH_PASSWORD, BENCH_USER, linkCopy, type ImapUnderTest } from './target.js';

function config(dataDir: string, p: Record<string, number>): string {
  return `data_dir = "${dataDir}"

[manager]
connection_spec = "inet:${p['milter']}@[127.0.0.1]"

[smtp]
listen = ["127.0.0.1:${p['mx']}"]

[submission]
listen = ["127.0.0.1:${p['submission']}"]
tls_listen = ["127.0.0.1:${p['submissions']}"]

[imap]
listen = ["127.0.0.1:${p['imap']}"]
tls_listen = ["127.0.0.1:${p['imaps']}"]
connection_limit = 4000
client_connection_limit = 0
user_connection_limit = 0

[pop3]
listen = ["127.0.0.1:${p['pop3']}"]
tls_listen = ["127.0.0.1:${p['pop3s']}"]
`;
}

/** The V8 flags the installed command runs with: those of its first line (#!/usr/bin/env -S node FLAGS). */
function nodeFlags(cli: string): string[] {
  const first = readFileSync(cli, 'utf8').split('\n', 1)[0] ?? '';
  return /^#!\/usr\/bin\/env -S node\s+(.*)$/.exec(first)?.[1]?.split(/\s+/).filter(Boolean) ?? [];
}

/** `profileDir`: node's --cpu-prof into that directory (written when the process exits after SIGTERM). */
/**
 * `importHash`: a Dovecot-style hash ({SHA512-CRYPT}...) given to the user with `mailgate user import`
 * instead of `user add`'s own (scrypt), to take the password scheme out of the login figures.
 */
export async function startMailgateUnderTest(corpusDir: string, importHash: string | undefined, profileDir?: string): Promise<ImapUnderTest> {
  const cli = process.env['MAILGATE_CLI'] ?? join(process.cwd(), 'dist', 'cli', 'main.js');
  if (!existsSync(cli)) throw new Error(`${cli} does not exist: run \`npm run build\` first`);
  const tmp = await makeTempDir('bench-imap-mailgate');
  const names = ['milter', 'mx', 'submission', 'submissions', 'imap', 'imaps', 'pop3', 'pop3s'];
  const free = await freePorts(names.length); // at once: freePort() in a row can hand one port out twice
  const ports: Record<string, number> = Object.fromEntries(names.map((k, i) => [k, free[i] as number]));
  const dataDir = join(tmp.path, 'data');
  const file = join(tmp.path, 'mailgate.toml');
  const log = join(tmp.path, 'mailgate.log');
  let daemon: ReturnType<typeof startDaemon> | undefined;
  const stop = async (): Promise<void> => {
    await daemon?.stop(15_000);
    await tmp.remove();
  };
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o755 });
    await writeFile(file, config(dataDir, ports));
    const cmd = async (args: string[], input?: string): Promise<string> => {
      const r = await runCommand(process.execPath, [cli, ...args, '--config', file], { cwd: tmp.path, ...(input === undefined ? {} : { input }) });
      if (r.exitCode !== 0) throw new Error(`mailgate ${args.join(' ')}: exit ${r.exitCode}: ${(r.stderr || r.stdout).trim().slice(0, 400)}`);
      return r.stdout;
    };
    await cmd(['domain', 'add', BENCH_DOMAIN]);
    if (importHash === undefined) {
      await cmd(['user', 'add', BENCH_USER, '--password-stdin'], `${BENCH_PASSWORD}\n`);
    } else {
      await writeFile(join(tmp.path, 'passwd'), `${BENCH_USER}:${importHash}\n`, { mode: 0o600 });
      await cmd(['user', 'import', join(tmp.path, 'passwd')]);
    }
    const maildir = join(dataDir, 'mail', BENCH_DOMAIN, BENCH_LOCAL);
    await mkdir(join(dataDir, 'mail', BENCH_DOMAIN), { recursive: true });
    // `user add` may have made an empty Maildir: the corpus replaces it.
    await runCommand('rm', ['-rf', maildir]);
    await linkCopy(corpusDir, maildir);
    daemon = await startDaemonAndWait();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    name: 'mailgate',
    port: ports['imap']!,
    user: BENCH_USER,
    password: BENCH_PASSWORD,
    memoryKb: () => rssKb(daemon!.pid),
    cpuMs: () => treeCpuMs(daemon!.pid),
    restart: async () => {
      await daemon?.stop(15_000);
      daemon = await startDaemonAndWait();
    },
    stop,
  };

  async function startDaemonAndWait(): Promise<ReturnType<typeof startDaemon>> {
    // `exec` keeps the pid, the one whose memory and CPU are read. A restart writes a second profile.
    const d = startDaemon(
      'mailgate start',
      '/bin/sh',
      ['-c', 'exec "$0" "$@" 2>>"$MAILGATE_BENCH_LOG" >>"$MAILGATE_BENCH_LOG"', process.execPath, ...nodeFlags(cli), ...(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]), cli, 'start', '--config', file],
      { cwd: tmp.path, env: { ...process.env, MAILGATE_BENCH_LOG: log } },
    );
    try {
      await waitFor('mailgate start: IMAP listener', async () => ((await tcpListening(ports['imap']!)) ? true : undefined), {
        daemon: d,
        timeoutMs: 60_000,
        diagnostics: () => readFileSync(log, 'utf8').slice(-2000),
      });
    } catch (err) {
      await d.stop(5_000);
      throw err;
    }
    return d;
  }
}
