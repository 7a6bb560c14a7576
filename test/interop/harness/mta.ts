// `mailgate start` as the MTA under test: the built CLI run with a private mailgate.toml in a temp dir, on
// free loopback ports. Tests talk to it with real clients (swaks, smtp-source, Postfix) and read what it
// delivered from the Maildirs under its data_dir.
import { chown, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAILGATE_CLI, REPO_ROOT, assertCliBuilt } from './mailgate.js';
import { freePorts } from './ports.js';
import { runCommand, startDaemon, waitFor, type CommandResult, type Daemon } from './process.js';
import { tcpListening } from './endpoint.js';
import { makeTempDir, type TempDir } from './tmpdir.js';

export interface MtaOptions {
  /** Extra TOML appended to the generated file (sections the test needs, e.g. [delivery] relay_host). */
  extra?: string;
  /** The [smtp] mynetworks list; default the program's own default (loopback). */
  mynetworks?: readonly string[];
  /** Local domains ([domains] local); default ["localhost"]. */
  localDomains?: readonly string[];
  /**
   * Runs `mailgate start` and every `mailgate` command as this user (the suite runs as root), as an
   * administrator runs the MTA under its own account: data_dir is made 0700 and owned by it.
   */
  runAs?: { uid: number; gid: number };
  /** Further [smtp] lines, e.g. "recipient_limit = 3" (a second [smtp] table in `extra` would be refused). */
  smtp?: string;
}

export interface Mta {
  readonly dir: TempDir;
  readonly configFile: string;
  readonly dataDir: string;
  readonly mxPort: number;
  readonly submissionPort: number;
  readonly tlsPort: number;
  /** The milter listener ([manager] connection_spec): a free port too, never the default 10025 that tests
   * running in parallel (and the embedded-default test) would fight over. */
  readonly milterPort: number;
  /** [imap] listen and tls_listen, [pop3] listen and tls_listen: free ports, for the same reason. */
  readonly imapPort: number;
  readonly imapsPort: number;
  readonly pop3Port: number;
  readonly pop3sPort: number;
  daemon(): Daemon;
  /** Runs `mailgate ARGS --config FILE` to completion (stdin from `input`). */
  cli(args: readonly string[], input?: string): Promise<CommandResult>;
  /** Adds a user with a password (through --password-stdin). */
  addUser(address: string, password: string): Promise<void>;
  /** The message files delivered to a local user (new/ and cur/), contents. */
  maildir(user: string): Promise<string[]>;
  waitForMaildir(user: string, count: number, timeoutMs?: number): Promise<string[]>;
  /** Starts (again) after stop or kill. */
  start(): Promise<void>;
  stop(): Promise<void>;
  kill(): Promise<void>;
  remove(): Promise<void>;
}

export async function makeMta(opts: MtaOptions = {}): Promise<Mta> {
  assertCliBuilt();
  const dir = await makeTempDir('mta');
  const dataDir = join(dir.path, 'data');
  const [mxPort, submissionPort, tlsPort, milterPort, imapPort, imapsPort, pop3Port, pop3sPort] = (await freePorts(8)) as [
    number, number, number, number, number, number, number, number,
  ];
  const configFile = join(dir.path, 'mailgate.toml');
  const lines = [
    `data_dir = "${dataDir}"`,
    `hostname = "mx.mailgate.test"`,
    `[smtp]`,
    `listen = ["127.0.0.1:${mxPort}"]`,
    ...(opts.mynetworks ? [`mynetworks = ${JSON.stringify(opts.mynetworks)}`] : []),
    ...(opts.smtp ? [opts.smtp] : []),
    `[submission]`,
    `listen = ["127.0.0.1:${submissionPort}"]`,
    `tls_listen = ["127.0.0.1:${tlsPort}"]`,
    `[domains]`,
    `local = ${JSON.stringify(opts.localDomains ?? ['localhost'])}`,
    // The milter listener for a Postfix beside it: on a free port, never the default 10025 that parallel tests share.
    ...(opts.extra?.includes('[manager]') ? [] : [`[manager]`, `connection_spec = "inet:${milterPort}@[127.0.0.1]"`]),
    ...(opts.extra?.includes('[imap]') ? [] : [`[imap]`, `listen = ["127.0.0.1:${imapPort}"]`, `tls_listen = ["127.0.0.1:${imapsPort}"]`]),
    ...(opts.extra?.includes('[pop3]') ? [] : [`[pop3]`, `listen = ["127.0.0.1:${pop3Port}"]`, `tls_listen = ["127.0.0.1:${pop3sPort}"]`]),
    opts.extra ?? '',
  ];
  await writeFile(configFile, `${lines.join('\n')}\n`);
  const asUser = opts.runAs === undefined ? {} : { uid: opts.runAs.uid, gid: opts.runAs.gid };
  if (opts.runAs !== undefined) {
    await mkdir(dataDir, { mode: 0o700 });
    await chown(dataDir, opts.runAs.uid, opts.runAs.gid);
  }
  let daemon: Daemon | undefined;
  const cli = (args: readonly string[], input?: string): Promise<CommandResult> =>
    runCommand(process.execPath, [MAILGATE_CLI, ...args, '--config', configFile], { cwd: REPO_ROOT, timeoutMs: 30_000, input, ...asUser });
  /** The paths of the user's messages in new/ and cur/. */
  const messageFiles = async (user: string): Promise<string[]> => {
    const [local, domain] = [user.slice(0, user.lastIndexOf('@')), user.slice(user.lastIndexOf('@') + 1)];
    const root = join(dataDir, 'mail', domain, local);
    const out: string[] = [];
    for (const sub of ['new', 'cur']) {
      const names = await readdir(join(root, sub)).catch(() => [] as string[]);
      for (const n of names) out.push(join(root, sub, n));
    }
    return out;
  };
  const maildir = async (user: string): Promise<string[]> => {
    const out: string[] = [];
    for (const f of await messageFiles(user)) {
      // A server seeing the message (SELECT, IDLE) moves it from new/ to cur/ between the listing and the read:
      // skipped here, the next listing finds it in cur/.
      const text = await readFile(f, 'latin1').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      if (text !== undefined) out.push(text);
    }
    return out;
  };
  const mta: Mta = {
    dir,
    configFile,
    dataDir,
    mxPort,
    submissionPort,
    tlsPort,
    milterPort,
    imapPort,
    imapsPort,
    pop3Port,
    pop3sPort,
    daemon: () => {
      if (!daemon) throw new Error('mailgate start is not running');
      return daemon;
    },
    cli,
    async addUser(address, password) {
      const r = await cli(['user', 'add', address, '--password-stdin'], `${password}\n`);
      if (r.exitCode !== 0) throw new Error(`mailgate user add ${address} failed: exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
    },
    maildir,
    // Polls the names only and reads the files once: reading thousands of them ten times a second (the SIGKILL
    // test) took the CPU the server under test needed.
    waitForMaildir: async (user, count, timeoutMs = 20_000) => {
      await waitFor(`${count} message(s) in ${user}'s Maildir`, async () => ((await messageFiles(user)).length >= count ? true : undefined), {
        timeoutMs,
        daemon,
        intervalMs: 100,
      });
      return maildir(user);
    },
    async start() {
      daemon = startDaemon('mailgate start', process.execPath, [MAILGATE_CLI, 'start', '--config', configFile], { cwd: REPO_ROOT, ...asUser });
      const d = daemon;
      // Every listener this harness configured: IMAP and POP3 bind after SMTP (once the mailbox store is open).
      const ports = [
        mxPort,
        submissionPort,
        ...(opts.extra?.includes('[imap]') ? [] : [imapPort, imapsPort]),
        ...(opts.extra?.includes('[pop3]') ? [] : [pop3Port, pop3sPort]),
      ];
      await waitFor('mailgate start listening', async () => ((await Promise.all(ports.map((p) => tcpListening(p)))).every(Boolean) ? true : undefined), {
        daemon: d,
        timeoutMs: 20_000,
      });
    },
    async stop() {
      await daemon?.stop(15_000);
    },
    async kill() {
      if (!daemon) return;
      process.kill(daemon.pid, 'SIGKILL');
      await daemon.exited;
    },
    async remove() {
      await daemon?.stop(5_000);
      await dir.remove();
    },
  };
  return mta;
}
