/** A forked bench process (milter servers, manager, children) driven over IPC: ready, cpu, profile, stop. */
import { fork, type ChildProcess } from 'node:child_process';
import { PhaseProfiler } from './profiler.js';
import type { ChildMessage, ParentMessage } from './servers.js';

export class BenchProcess {
  private readonly waiters: ((m: ChildMessage) => void)[] = [];
  private stopping = false;

  private constructor(
    readonly label: string,
    readonly child: ChildProcess,
  ) {
    child.on('message', (m: ChildMessage) => this.waiters.shift()?.(m));
    child.on('exit', (code, signal) => {
      if (this.stopping) return;
      console.error(`bench: ${label} process exited unexpectedly (${signal ?? code})`);
      process.exit(1);
    });
  }

  /** Forks `script` with `args` and waits for its ready message; `onFork` runs before that (e.g. CPU pinning). */
  static async start(label: string, script: string, args: readonly string[], onFork?: (child: ChildProcess) => void): Promise<BenchProcess> {
    const child = fork(script, [...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    onFork?.(child);
    const proc = new BenchProcess(label, child);
    const first = await new Promise<ChildMessage>((res) => proc.waiters.push(res));
    if (first.type !== 'ready') throw new Error(`bench: ${label} process sent ${first.type} before ready`);
    return proc;
  }

  private ask(msg: ParentMessage): Promise<ChildMessage> {
    return new Promise((res) => {
      this.waiters.push(res);
      this.child.send(msg);
    });
  }

  /** CPU (user + system) used so far, µs. */
  async cpuUs(): Promise<number> {
    return (await this.usage()).us;
  }

  /** CPU (user + system) used so far, µs, and the process's own counters so far. */
  async usage(): Promise<{ us: number; counters: Record<string, number> }> {
    const m = await this.ask({ type: 'cpu' });
    if (m.type !== 'cpu') throw new Error(`bench: expected cpu, got ${m.type}`);
    return { us: m.user + m.system, counters: m.counters ?? {} };
  }

  async profileStart(): Promise<void> {
    await this.ask({ type: 'profileStart' });
  }

  async profileStop(file: string): Promise<void> {
    await this.ask({ type: 'profileStop', file });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const exited = new Promise<void>((res) => this.child.once('exit', () => res()));
    await this.ask({ type: 'stop' });
    await exited;
  }
}

/**
 * The forked side: answers cpu (with `counters()`, if given) and profile requests, runs `stop` on
 * request, then says ready.
 */
export function serveBenchIpc(stop: () => Promise<void>, counters?: () => Record<string, number>): void {
  const send = (m: ChildMessage) => process.send?.(m);
  const profiler = new PhaseProfiler();
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'profileStart') {
      void profiler.start().then(() => send({ type: 'profiling' }));
    } else if (m.type === 'profileStop') {
      void profiler.stop(m.file).then(() => send({ type: 'profiling' }));
    } else if (m.type === 'cpu') {
      const u = process.cpuUsage();
      send({ type: 'cpu', user: u.user, system: u.system, ...(counters ? { counters: counters() } : {}) });
    } else if (m.type === 'stop') {
      void stop().then(() => {
        send({ type: 'stopped' });
        process.disconnect();
      });
    }
  });
  send({ type: 'ready' });
}
