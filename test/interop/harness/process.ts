// Spawning peers: long-running daemons (killed on teardown, even when a test
// fails) and one-shot commands (with a hard timeout).
import { spawn, type ChildProcess } from 'node:child_process';

// Last-resort cleanup, for when afterAll never runs (worker killed on a
// timeout, crash): SIGKILL every live daemon's process group and run the
// registered hooks. Vitest stops workers with SIGTERM, whose default action
// skips 'exit' listeners, so we also catch the signals and re-raise them.
const live = new Set<ChildProcess>();
const emergencyHooks = new Set<() => void>();
function emergencyCleanup(): void {
  for (const child of live) killGroup(child, 'SIGKILL');
  // Newest first, like a teardown stack: e.g. Postfix's "kill the master via
  // its pid file" must run before its temp dir is removed.
  for (const hook of [...emergencyHooks].reverse()) {
    try {
      hook();
    } catch {
      /* best effort */
    }
  }
  emergencyHooks.clear();
}
process.once('exit', emergencyCleanup);
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.once(signal, () => {
    emergencyCleanup();
    process.kill(process.pid, signal); // our once-listener is gone: default action now
  });
}

/** Registers a synchronous last-resort cleanup; returns its unregister function. */
export function onEmergencyExit(hook: () => void): () => void {
  emergencyHooks.add(hook);
  return () => emergencyHooks.delete(hook);
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    // Daemons are spawned detached, i.e. as process-group leaders: the negative
    // pid also reaches anything they forked (e.g. miltertest's startfilter).
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

/**
 * libmilter filters (opendkim, pymilter) take ~5 s to exit cleanly on SIGTERM:
 * the listener only notices smfi_stop when its select() times out. Nothing in
 * a test depends on a clean exit, so give them a second, then SIGKILL.
 */
export const LIBMILTER_STOP_GRACE_MS = 1_000;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Daemon {
  readonly name: string;
  readonly pid: number;
  /** Everything written so far to stdout and stderr, interleaved. */
  output(): string;
  stdout(): string;
  /** Set once the process has exited. */
  exitStatus(): ExitStatus | undefined;
  readonly exited: Promise<ExitStatus>;
  /** SIGTERM, then SIGKILL after graceMs. Idempotent. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

export interface DaemonOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this user and group (the test runs as root), e.g. the MTA as an unprivileged mail user. */
  uid?: number;
  gid?: number;
}

export function startDaemon(name: string, cmd: string, args: readonly string[], opts: DaemonOptions = {}): Daemon {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'], // no stdin: peers must not wait for a terminal
    detached: true,
    ...(opts.uid === undefined ? {} : { uid: opts.uid }),
    ...(opts.gid === undefined ? {} : { gid: opts.gid }),
  });
  live.add(child);
  let all = '';
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    all += s;
    out += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    all += s;
  });
  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('error', (err) => {
      all += `\n[spawn error: ${err.message}]\n`;
      status = { code: null, signal: null };
      live.delete(child);
      resolve(status);
    });
    child.once('close', (code, signal) => {
      status = { code, signal };
      live.delete(child);
      resolve(status);
    });
  });
  let stopping: Promise<ExitStatus> | undefined;
  return {
    name,
    pid: child.pid ?? -1,
    output: () => all,
    stdout: () => out,
    exitStatus: () => status,
    exited,
    stop(graceMs = 5_000) {
      stopping ??= (async () => {
        if (status) return status;
        killGroup(child, 'SIGTERM');
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
        const s = await exited;
        clearTimeout(timer);
        return s;
      })();
      return stopping;
    },
  };
}

export interface CommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Formats a CommandResult for assertion messages. */
export function describeResult(r: CommandResult): string {
  return `exit ${r.exitCode}${r.signal ? ` (signal ${r.signal})` : ''}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

export interface CommandOptions extends DaemonOptions {
  timeoutMs?: number;
  input?: string;
}

/** Runs a command to completion; never rejects on a non-zero exit (tests assert on it). */
export function runCommand(cmd: string, args: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 30_000,
      killSignal: 'SIGKILL',
      ...(opts.uid === undefined ? {} : { uid: opts.uid }),
      ...(opts.gid === undefined ? {} : { gid: opts.gid }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.once('error', reject); // e.g. ENOENT: the peer is not installed
    child.once('close', (exitCode, signal) => resolve({ exitCode, signal, stdout, stderr }));
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Fail fast (with its output) if this daemon dies while we wait. */
  daemon?: Daemon;
  /** Extra diagnostics for the timeout error, e.g. a log file's content. */
  diagnostics?: () => Promise<string> | string;
}

/** Polls `probe` until it returns a non-undefined value. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, opts: WaitOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    const st = opts.daemon?.exitStatus();
    if (opts.daemon && st) {
      throw new Error(
        `${opts.daemon.name} exited (code ${st.code}, signal ${st.signal}) while waiting for ${what}\n` +
          `--- ${opts.daemon.name} output ---\n${opts.daemon.output()}` +
          (opts.diagnostics ? `\n--- diagnostics ---\n${await opts.diagnostics()}` : ''),
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}` +
          (opts.daemon ? `\n--- ${opts.daemon.name} output ---\n${opts.daemon.output()}` : '') +
          (opts.diagnostics ? `\n--- diagnostics ---\n${await opts.diagnostics()}` : ''),
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}
