/** The two servers under test, startable in this process or in a forked child (server-proc.ts). */
import { silentLogger } from '../src/mail/logger.js';
import { MilterServer } from '../src/milter/server.js';
import { listenPingPong } from './pingpong.js';
import { benchFilter } from './workload.js';

export type ServerMode = 'raw' | 'milter';

/** Parent → child IPC. */
export type ParentMessage =
  | { type: 'cpu' }
  | { type: 'stop' }
  | { type: 'profileStart' }
  | { type: 'profileStop'; file: string };
/** Child → parent IPC. */
export type ChildMessage =
  | { type: 'ready' }
  /** `counters`: figures the process keeps itself (e.g. the manager's time spent writing statistics lines). */
  | { type: 'cpu'; user: number; system: number; counters?: Record<string, number> }
  | { type: 'profiling' }
  | { type: 'stopped' };

export interface BenchServer {
  close(): Promise<void>;
}

export async function startServer(mode: ServerMode, path: string): Promise<BenchServer> {
  if (mode === 'raw') {
    const server = await listenPingPong(path);
    return { close: () => new Promise((resolve) => server.close(() => resolve())) };
  }
  const server = new MilterServer(benchFilter(), { logger: silentLogger, drainTimeout: 1 });
  await server.listen(`unix:${path}`);
  return { close: () => server.close() };
}
