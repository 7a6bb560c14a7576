// A private redis-server (Debian's redis-server 7.0) on 127.0.0.1:PORT for the
// shared greylist store.
//
// Flags and why:
// - `--bind 127.0.0.1 --port PORT`: loopback only, a free port (ports.ts).
// - `--save '' --appendonly no`: nothing is persisted; state dies with the test.
// - `--dir TMP`: even so, anything Redis might write (a crash dump, a manual
//   SAVE) lands in the temp dir, never in the cwd.
// - `--daemonize no --logfile ''`: stays our child, logs on stdout (captured
//   as the daemon's output, which start errors include).
// - `--protected-mode yes`: no password, but only loopback clients anyway.
//
// Readiness: "Ready to accept connections" in its log and the port in LISTEN.
import { access, constants } from 'node:fs/promises';
import { makeTempDir } from './tmpdir.js';
import { freePort } from './ports.js';
import { startDaemon, waitFor, type Daemon } from './process.js';
import { tcpListening } from './endpoint.js';

export const REDIS_SERVER = '/usr/bin/redis-server';

export interface RedisServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly daemon: Daemon;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  try {
    await access(REDIS_SERVER, constants.X_OK);
  } catch {
    throw new Error(`${REDIS_SERVER} is missing: install the redis-server package (scripts/install-test-peers.sh)`);
  }
  const tmp = await makeTempDir('redis');
  const port = await freePort();
  const args = [
    '--bind', '127.0.0.1',
    '--port', String(port),
    '--save', '',
    '--appendonly', 'no',
    '--dir', tmp.path,
    '--daemonize', 'no',
    '--logfile', '',
    '--protected-mode', 'yes',
  ];
  const daemon = startDaemon('redis-server', REDIS_SERVER, args, { cwd: tmp.path });
  const stop = async (): Promise<void> => {
    await daemon.stop(2_000);
    await tmp.remove();
  };
  try {
    await waitFor(
      `redis-server ready on 127.0.0.1:${port}`,
      async () => (/Ready to accept connections/.test(daemon.output()) && (await tcpListening(port)) ? true : undefined),
      { daemon, timeoutMs: 15_000, intervalMs: 25 },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { host: '127.0.0.1', port, url: `redis://127.0.0.1:${port}`, daemon, stop };
}
