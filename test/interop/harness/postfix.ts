// A private Postfix instance: own config/queue/data/meta directories and log
// file in a temp dir, smtpd on a free 127.0.0.1 port, every message relayed to
// an smtp-sink on loopback. Never touches the system instance in /etc/postfix.
//
// Start method: `postfix -c DIR start-fg` as a child process. Plain
// `postfix start` daemonizes and, without a terminal, fails silently; start-fg
// keeps postfix-script in the foreground (it runs `master -s`, which becomes
// its own session leader) and exits when the master exits. Errors, even fatal
// ones, go to maillog_file (postlog falls back to writing it directly).
import { readFile, writeFile, copyFile, chown, mkdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from './tmpdir.js';
import { freePort } from './ports.js';
import { onEmergencyExit, runCommand, startDaemon, waitFor } from './process.js';
import { parseSpec, postfixSpec, tcpListening } from './endpoint.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';
import { postfixIds } from './postfix-user.js';
import { mainCf, masterCf } from './postfix-config.js';

export interface PostfixOptions {
  /** smtpd_milters; any spelling parseSpec accepts (rendered in Postfix syntax). Empty: no milter. */
  milterSpec: string;
  /** Relay to an existing sink on this port; by default a new smtp-sink is started (and stopped with Postfix). */
  relayPort?: number;
  /** Extra main.cf parameters, applied last. */
  extra?: Record<string, string>;
  /** Run smtpd chrooted in the queue directory (Debian's default); other services stay unchrooted. */
  smtpdChroot?: boolean;
}

export interface Postfix {
  readonly port: number;
  readonly configDir: string;
  /** queue_directory: where Postfix's daemons run (their working directory, and smtpd's chroot if any). */
  readonly queueDir: string;
  readonly logFile: string;
  /** The smtp-sink Postfix relays to, when startPostfix started it. */
  readonly sink: SmtpSink | undefined;
  log(): Promise<string>;
  /** Waits for a maillog line matching `re` and returns it. */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startPostfix(opts: PostfixOptions): Promise<Postfix> {
  const tmp = await makeTempDir('postfix');
  const root = tmp.path;
  const configDir = await tmp.sub('etc');
  const queueDir = await tmp.sub('queue'); // postfix-script creates the subdirectories
  const dataDir = await tmp.sub('data');
  const metaDir = await tmp.sub('meta');
  const logFile = join(root, 'maillog');
  const { uid, gid } = postfixIds();
  await chown(dataDir, uid, gid); // else: "open lock file .../master.lock: Permission denied"
  for (const f of ['postfix-files', 'dynamicmaps.cf']) await copyFile(join('/etc/postfix', f), join(metaDir, f));
  for (const d of ['postfix-files.d', 'dynamicmaps.cf.d']) await mkdir(join(metaDir, d), { recursive: true });

  const sink = opts.relayPort === undefined ? await startSmtpSink() : undefined;
  const relayPort = opts.relayPort ?? sink?.port ?? 0;
  const port = await freePort();
  const milters = opts.milterSpec === '' ? '' : postfixSpec(parseSpec(opts.milterSpec));
  await writeFile(join(configDir, 'main.cf'), mainCf(root, milters, relayPort, opts.extra ?? {}));
  await writeFile(join(configDir, 'master.cf'), masterCf(port, opts.smtpdChroot));

  const log = async (): Promise<string> => readFile(logFile, 'utf8').catch(() => '');
  const diagnostics = async (): Promise<string> => {
    // postfix(1) prints its fatal errors on stderr only when that is a
    // terminal (else they go to syslog/maillog, which may not be set up yet):
    // script(1) gives it a pseudo-terminal.
    const check = await runCommand('/usr/bin/script', ['-qec', `/usr/sbin/postfix -c '${configDir}' check`, '/dev/null']).catch((e: Error) => ({
      exitCode: null,
      stdout: '',
      stderr: e.message,
    }));
    return `postfix check (exit ${check.exitCode}):\n${check.stdout}${check.stderr}\n--- ${logFile} ---\n${await log()}`;
  };

  // The master runs in its own session, out of reach of the process-group kill
  // in process.ts; if the worker dies, SIGTERM it via its pid file (the master
  // forwards SIGTERM to its children and exits).
  const pidFile = join(root, 'queue', 'pid', 'master.pid');
  const killMaster = (): void => {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGTERM');
    } catch {
      /* not running */
    }
  };
  const unregister = onEmergencyExit(killMaster);

  const daemon = startDaemon('postfix start-fg', '/usr/sbin/postfix', ['-c', configDir, 'start-fg']);
  const stop = async (): Promise<void> => {
    unregister();
    if (!daemon.exitStatus()) {
      await runCommand('/usr/sbin/postfix', ['-c', configDir, 'stop'], { timeoutMs: 10_000 }).catch(() => undefined);
      const done = await Promise.race([daemon.exited, new Promise((r) => setTimeout(r, 10_000, 'timeout').unref())]);
      if (done === 'timeout') {
        await runCommand('/usr/sbin/postfix', ['-c', configDir, 'abort'], { timeoutMs: 10_000 }).catch(() => undefined);
        killMaster();
        await daemon.stop();
      }
    }
    await sink?.stop();
    await tmp.remove();
  };

  try {
    await waitFor(`postfix smtpd on 127.0.0.1:${port}`, async () => ((await tcpListening(port)) ? true : undefined), {
      daemon,
      timeoutMs: 20_000,
      diagnostics,
    });
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    port,
    configDir,
    queueDir,
    logFile,
    sink,
    log,
    waitForLog: (re, timeoutMs = 20_000) =>
      waitFor(`maillog line matching ${re}`, async () => (await log()).split('\n').find((l) => re.test(l)), {
        timeoutMs,
        diagnostics: log,
      }),
    stop,
  };
}
