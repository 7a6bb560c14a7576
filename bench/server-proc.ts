/**
 * Child process of the benchmark: serves the raw ping-pong server or a MilterServer with the bench
 * filter on a unix socket, so the server has its own event loop and core, like a real milter.
 * argv: <raw|milter> <socket path>. IPC: sends {type:'ready'}; answers {type:'cpu'} with its CPU
 * usage; {type:'profileStart'} / {type:'profileStop', file} profile a phase;
 * {type:'stop'} closes the server and lets the process exit normally (so --cpu-prof writes).
 */
import { serveBenchIpc } from './process.js';
import { startServer } from './servers.js';

async function main(): Promise<void> {
  const [mode, path] = process.argv.slice(2);
  if ((mode !== 'raw' && mode !== 'milter') || path === undefined || process.send === undefined) {
    throw new Error('usage: forked by bench/milter.js with <raw|milter> <socket path>');
  }
  const server = await startServer(mode, path);
  serveBenchIpc(() => server.close());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
