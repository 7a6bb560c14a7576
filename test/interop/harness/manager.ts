// `mailgate manager -c FILE` as the one milter Postfix names, with a TOML file
// generated into a directory the test owns. The manager is run exactly as
// users run it (node dist/cli/main.js, see mailgate.ts) and can be stopped,
// restarted and reloaded (SIGHUP) with a rewritten file; its stderr JSON log
// lines (pino) are parsed, across restarts, so tests can assert on the
// `"event":"session"` record of every finished SMTP session.
//
// Readiness: the unix socket LISTENs (from /proc, no probe connection, which
// the manager would count as a session) AND the manager logged "manager
// ready", which it does only after applying the socket's mode and group.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAILGATE_CLI, REPO_ROOT, assertCliBuilt } from './mailgate.js';
import { startDaemon, waitFor, type Daemon, type ExitStatus } from './process.js';
import { mailgateUnixListening } from './endpoint.js';

export type ManagerFallback = 'accept' | 'temporary-failure' | 'reject' | 'discard';

/** One [[milter]] table. Timeouts in seconds. */
export interface ManagerChild {
  name: string;
  /** libmilter spelling: unix:/path or inet:PORT@HOST. */
  connectionSpec: string;
  enabled?: boolean;
  fallbackStatus?: ManagerFallback;
  evaluationMode?: boolean;
  applicableConditions?: readonly string[];
  connectionTimeout?: number;
  writingTimeout?: number;
  readingTimeout?: number;
  endOfMessageTimeout?: number;
}

/** The [manager] table plus the children. */
export interface ManagerConfig {
  /** Absolute path of the manager's unix socket. */
  socketPath: string;
  unixSocketGroup?: string;
  /** Octal, e.g. "0660". */
  unixSocketMode?: string;
  fallbackStatus?: ManagerFallback;
  maxConnections?: number;
  /** Seconds an MTA connection may stay silent. */
  mtaTimeout?: number;
  children: readonly ManagerChild[];
}

/** A TOML basic string; JSON's escapes (\", \\, \uXXXX) are valid TOML. */
const str = (s: string): string => JSON.stringify(s);

export function managerToml(c: ManagerConfig): string {
  const lines = ['[manager]', `connection_spec = ${str(`unix:${c.socketPath}`)}`];
  if (c.unixSocketGroup !== undefined) lines.push(`unix_socket_group = ${str(c.unixSocketGroup)}`);
  if (c.unixSocketMode !== undefined) lines.push(`unix_socket_mode = ${str(c.unixSocketMode)}`);
  if (c.fallbackStatus !== undefined) lines.push(`fallback_status = ${str(c.fallbackStatus)}`);
  if (c.maxConnections !== undefined) lines.push(`max_connections = ${c.maxConnections}`);
  if (c.mtaTimeout !== undefined) lines.push(`mta_timeout = ${c.mtaTimeout}`);
  for (const m of c.children) {
    lines.push('', '[[milter]]', `name = ${str(m.name)}`, `connection_spec = ${str(m.connectionSpec)}`);
    if (m.enabled !== undefined) lines.push(`enabled = ${m.enabled}`);
    if (m.fallbackStatus !== undefined) lines.push(`fallback_status = ${str(m.fallbackStatus)}`);
    if (m.evaluationMode !== undefined) lines.push(`evaluation_mode = ${m.evaluationMode}`);
    if (m.applicableConditions !== undefined) lines.push(`applicable_conditions = [${m.applicableConditions.map(str).join(', ')}]`);
    if (m.connectionTimeout !== undefined) lines.push(`connection_timeout = ${m.connectionTimeout}`);
    if (m.writingTimeout !== undefined) lines.push(`writing_timeout = ${m.writingTimeout}`);
    if (m.readingTimeout !== undefined) lines.push(`reading_timeout = ${m.readingTimeout}`);
    if (m.endOfMessageTimeout !== undefined) lines.push(`end_of_message_timeout = ${m.endOfMessageTimeout}`);
  }
  return `${lines.join('\n')}\n`;
}

/** One parsed JSON log line (pino): level, time, msg, and whatever the manager added. */
export interface ManagerRecord {
  readonly level?: number;
  readonly msg?: string;
  readonly event?: string;
  readonly [key: string]: unknown;
}

/** The `"event":"session"` record the manager logs when an SMTP session ends. */
export interface SessionRecord extends ManagerRecord {
  readonly event: 'session';
  readonly status: string;
  /** Child name → its last status ("accept", "continue", "fallback", "stopped", "none", ...). */
  readonly children: Readonly<Record<string, string>>;
  /** Seconds. */
  readonly elapsed: number;
}

export function parseRecords(output: string): ManagerRecord[] {
  const records: ManagerRecord[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      records.push(JSON.parse(line) as ManagerRecord);
    } catch {
      /* a line still being written, or not ours */
    }
  }
  return records;
}

export function isSession(r: ManagerRecord): r is SessionRecord {
  return r.event === 'session' && typeof r['children'] === 'object' && r['children'] !== null;
}

export interface Manager {
  readonly configFile: string;
  readonly socketPath: string;
  /** The running (or last) manager process. */
  daemon(): Daemon;
  /** Every log record of every process started so far, oldest first. */
  records(): ManagerRecord[];
  /** Session records only. */
  sessions(): SessionRecord[];
  /** Raw output of every process so far (for failure messages). */
  output(): string;
  /** Waits for a record, among those logged after `afterIndex` records (default: any), matching `pred`. */
  waitForRecord(what: string, pred: (r: ManagerRecord) => boolean, opts?: { afterIndex?: number; timeoutMs?: number }): Promise<ManagerRecord>;
  /** Rewrites the configuration file (takes effect at the next reload or restart). */
  writeConfig(config: ManagerConfig | string): Promise<void>;
  /** SIGHUP, then waits for "configuration reloaded" (throws on "reload failed"). */
  reload(): Promise<void>;
  /** SIGTERM and wait for the exit (must be 0), then start again with the current file (optionally rewritten first). */
  restart(config?: ManagerConfig | string, opts?: LaunchOptions): Promise<void>;
  /** Starts the manager again after it exited (stopped, crashed or killed). */
  start(opts?: LaunchOptions): Promise<void>;
  /** SIGTERM (SIGKILL after graceMs); resolves to the exit status. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

export interface LaunchOptions {
  /** Run the manager under this umask (octal text, e.g. "027"), as a service manager might. */
  umask?: string;
  /** The manager's environment (default: this process's), e.g. a PATH with a fake postconf first. */
  env?: NodeJS.ProcessEnv;
}

export interface StartManagerOptions extends LaunchOptions {
  /** Directory for the configuration file (the test's temp dir). */
  dir: string;
  config: ManagerConfig;
  /** Default manager.toml. */
  fileName?: string;
}

export async function startManager(opts: StartManagerOptions): Promise<Manager> {
  assertCliBuilt();
  const configFile = join(opts.dir, opts.fileName ?? 'manager.toml');
  const socketPath = opts.config.socketPath;
  let previousOutput = '';
  let current: Daemon | undefined;

  const write = async (config: ManagerConfig | string): Promise<void> => {
    await writeFile(configFile, typeof config === 'string' ? config : managerToml(config));
  };
  const output = (): string => previousOutput + (current?.output() ?? '');
  const records = (): ManagerRecord[] => parseRecords(output());

  const launch = async (o: LaunchOptions = {}): Promise<void> => {
    if (current && !current.exitStatus()) throw new Error('mailgate manager is already running');
    if (current) previousOutput += current.output();
    const args = [MAILGATE_CLI, 'manager', '-c', configFile];
    const umask = o.umask;
    if (umask !== undefined && !/^[0-7]{3,4}$/.test(umask)) throw new Error(`bad umask ${umask}`);
    // With a umask: sh sets it and exec's node, so the pid is still the manager's.
    const daemon =
      umask === undefined
        ? startDaemon('mailgate manager', process.execPath, args, { cwd: REPO_ROOT, env: o.env ?? process.env })
        : startDaemon('mailgate manager', '/bin/sh', ['-c', `umask ${umask} && exec "$0" "$@"`, process.execPath, ...args], {
            cwd: REPO_ROOT,
            env: o.env ?? process.env,
          });
    current = daemon;
    try {
      await waitFor(
        `mailgate manager ready on ${socketPath}`,
        async () => ((await mailgateUnixListening(socketPath)) && parseRecords(daemon.output()).some((r) => r.msg === 'manager ready') ? true : undefined),
        { daemon, timeoutMs: 15_000, diagnostics: () => `--- ${configFile} ---\n(see the manager output above)` },
      );
    } catch (err) {
      await daemon.stop(2_000);
      throw err;
    }
  };

  const stop = async (graceMs = 10_000): Promise<ExitStatus> => {
    if (!current) return { code: null, signal: null };
    return current.stop(graceMs);
  };

  const waitForRecord: Manager['waitForRecord'] = (what, pred, o = {}) =>
    waitFor(
      what,
      () => records()
        .slice(o.afterIndex ?? 0)
        .find(pred),
      { timeoutMs: o.timeoutMs ?? 10_000, diagnostics: () => `--- manager output ---\n${output()}` },
    );

  await write(opts.config);
  await launch(opts);

  return {
    configFile,
    socketPath,
    daemon: () => {
      if (!current) throw new Error('manager not started');
      return current;
    },
    records,
    sessions: () => records().filter(isSession),
    output,
    waitForRecord,
    writeConfig: write,
    async reload() {
      const d = current;
      if (!d || d.exitStatus()) throw new Error(`manager is not running\n${output()}`);
      const before = records().length;
      process.kill(d.pid, 'SIGHUP');
      const r = await waitForRecord(
        'manager: "configuration reloaded" or "reload failed"',
        (x) => x.msg === 'configuration reloaded' || (typeof x.msg === 'string' && x.msg.startsWith('reload failed')),
        { afterIndex: before },
      );
      if (r.msg !== 'configuration reloaded') throw new Error(`reload failed: ${JSON.stringify(r)}`);
    },
    async restart(config, o) {
      const st = await stop();
      if (st.code !== 0) throw new Error(`manager exited with ${JSON.stringify(st)} on SIGTERM\n${output()}`);
      if (config !== undefined) await write(config);
      await launch(o);
    },
    start: launch,
    stop,
  };
}
