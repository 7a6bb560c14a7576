// Our own command-line tools, run exactly as users run them: `node
// dist/cli/main.js ...` from a prior `npm run build` (tests never build).
// MAILGATE_CLI overrides the script path, e.g. to try an installed copy.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { runCommand, startDaemon, type CommandResult, type Daemon } from './process.js';
import { parseSpec, waitListening } from './endpoint.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MAILGATE_CLI = process.env['MAILGATE_CLI'] ?? join(REPO_ROOT, 'dist', 'cli', 'main.js');

/** Fails loudly (never skips) when the build output is missing. */
export function assertCliBuilt(): void {
  if (!existsSync(MAILGATE_CLI)) {
    throw new Error(`${MAILGATE_CLI} does not exist: run \`npm run build\` before the interop tests`);
  }
}

export interface TestClient {
  readonly daemon: Daemon;
  /** What test-client printed so far (its report of commands and macros). */
  stdout(): string;
  stop(): Promise<void>;
}

/**
 * Starts `mailgate test-client -s SPEC ...args` and waits until it listens.
 * Readiness comes from /proc, not from any line it prints, and not from a
 * probe connection (which it would report as a session). Its unix socket is
 * left as test-client made it: pass `--unix-socket-group postfix` so that
 * Postfix's smtpd (user postfix) may connect to the default mode 0660.
 */
export async function startTestClient(opts: { spec: string; args?: readonly string[] }): Promise<TestClient> {
  assertCliBuilt();
  const daemon = startDaemon('mailgate test-client', process.execPath, [MAILGATE_CLI, 'test-client', '-s', opts.spec, ...(opts.args ?? [])], {
    cwd: REPO_ROOT,
  });
  const stop = async (): Promise<void> => {
    await daemon.stop(3_000);
  };
  try {
    await waitListening(parseSpec(opts.spec), 'mailgate test-client', { daemon, timeoutMs: 15_000, keepMode: true });
  } catch (err) {
    await stop();
    throw err;
  }
  return { daemon, stdout: () => daemon.stdout(), stop };
}

/** Runs `mailgate test-server ...args` to completion. */
export function runTestServer(args: readonly string[], timeoutMs = 45_000): Promise<CommandResult> {
  assertCliBuilt();
  return runCommand(process.execPath, [MAILGATE_CLI, 'test-server', ...args], { cwd: REPO_ROOT, timeoutMs });
}
