/**
 * Child process for the benchmark: serves either the raw ping-pong server or a MilterServer with the
 * bench filter on a unix socket, so the server has its own event loop and core, like a real milter.
 * argv: <raw|milter> <socket path>. IPC: sends {type:'ready'}; answers {type:'cpu'} with its CPU
 * usage; {type:'stop'} closes the server and lets the process exit (so --cpu-prof can write).
 */
import { silentLogger } from '../mail/logger.js';
import { MilterServer } from '../milter/server.js';
import { listenPingPong } from './pingpong.js';
import { benchFilter } from './workload.js';

export type ParentMessage = { type: 'cpu' } | { type: 'stop' };
export type ChildMessage = { type: 'ready' } | { type: 'cpu'; user: number; system: number } | { type: 'stopped' };

export interface BenchServer {
  close(): Promise<void>;
}

export async function startServer(mode: string, path: string): Promise<BenchServer> {
  if (mode === 'raw') {
    const server = await listenPingPong(path);
    return { close: () => new Promise((resolve) => server.close(() => resolve())) };
  }
  if (mode === 'milter') {
    const server = new MilterServer(benchFilter(), { logger: silentLogger, drainTimeout: 1 });
    await server.listen(`unix:${path}`);
    return { close: () => server.close() };
  }
  throw new Error(`unknown server mode ${mode}`);
}

async function main(): Promise<void> {
  const [mode, path] = process.argv.slice(2);
  if (mode === undefined || path === undefined || process.send === undefined) {
    throw new Error('usage: forked by bench/milter.js with <raw|milter> <socket path>');
  }
  const send = (m: ChildMessage) => process.send?.(m);
  const server = await startServer(mode, path);
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'cpu') {
      const u = process.cpuUsage();
      send({ type: 'cpu', user: u.user, system: u.system });
    } else if (m.type === 'stop') {
      void server.close().then(() => {
        send({ type: 'stopped' });
        process.disconnect();
      });
    }
  });
  send({ type: 'ready' });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
