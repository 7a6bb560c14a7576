/** In-process V8 CPU profiling around one phase (same format as node --cpu-prof, .cpuprofile). */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

export class PhaseProfiler {
  private session: Session | undefined;

  async start(intervalUs = 100): Promise<void> {
    if (this.session) return;
    const s = new Session();
    s.connect();
    await s.post('Profiler.enable');
    await s.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await s.post('Profiler.start');
    this.session = s;
  }

  async stop(file: string): Promise<void> {
    const s = this.session;
    if (!s) return;
    this.session = undefined;
    const { profile } = await s.post('Profiler.stop');
    s.disconnect();
    await writeFile(file, JSON.stringify(profile));
  }
}
