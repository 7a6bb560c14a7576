/**
 * Child process of the benchmark: serves the raw ping-pong server or a MilterServer with the bench
 * filter on a unix socket, so the server has its own event loop and core, like a real milter.
 * argv: <raw|milter> <socket path>. IPC: sends {type:'ready'}; answers {type:'cpu'} with its CPU
 * usage; {type:'profileStart'} / {type:'profileStop', file} profile a phase;
 * {type:'stop'} closes the server and lets the process exit normally (so --cpu-prof writes).
 */
import { PhaseProfiler } from './profiler.js';
import { startServer, type ChildMessage, type ParentMessage } from './servers.js';

async function main(): Promise<void> {
  const [mode, path] = process.argv.slice(2);
  if ((mode !== 'raw' && mode !== 'milter') || path === undefined || process.send === undefined) {
    throw new Error('usage: forked by bench/milter.js with <raw|milter> <socket path>');
  }
  const send = (m: ChildMessage) => process.send?.(m);
  const server = await startServer(mode, path);
  const profiler = new PhaseProfiler();
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'profileStart') {
      void profiler.start().then(() => send({ type: 'profiling' }));
    } else if (m.type === 'profileStop') {
      void profiler.stop(m.file).then(() => send({ type: 'profiling' }));
    } else if (m.type === 'cpu') {
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
