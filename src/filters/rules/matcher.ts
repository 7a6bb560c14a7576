/**
 * Runs patterns with a time limit. A JavaScript regular expression can backtrack for minutes on a
 * crafted text (`(a+)+$`); V8 only stops one through a vm script timeout, so every batch of
 * patterns of one stage runs inside one vm call (one watchdog per batch, not per pattern). A
 * pattern that runs out of time counts as not matching; the patterns after it still run.
 */
import vm from 'node:vm';
import { timerDelay } from '../../config/timer-limit.js';

export interface MatchJob {
  readonly pattern: RegExp;
  readonly text: string;
  /** Names the job in the failure report (e.g. the rule's path). */
  readonly label?: string;
}

interface BatchState {
  jobs: readonly MatchJob[];
  results: (RegExpExecArray | null)[];
  next: number;
}

const RUN_BATCH = `
for (; state.next < state.jobs.length; state.next++) {
  const job = state.jobs[state.next];
  job.pattern.lastIndex = 0;
  state.results[state.next] = job.pattern.exec(job.text);
}`;

export class Matcher {
  private readonly sandbox: { state: BatchState };
  private readonly context: vm.Context;
  private readonly script = new vm.Script(RUN_BATCH, { filename: 'rules-matcher' });

  constructor(
    private readonly timeoutMs: number,
    /** Called once for each job that ran out of time (or threw); it counts as not matching. */
    private readonly onFailure: (job: MatchJob, reason: string) => void,
  ) {
    this.sandbox = { state: { jobs: [], results: [], next: 0 } };
    this.context = vm.createContext(this.sandbox);
  }

  /** The first match of each job's pattern in its text (null: no match or out of time), in job order. */
  run(jobs: readonly MatchJob[]): (RegExpExecArray | null)[] {
    if (jobs.length === 0) return [];
    const state: BatchState = { jobs, results: new Array<RegExpExecArray | null>(jobs.length).fill(null), next: 0 };
    this.sandbox.state = state;
    try {
      while (state.next < jobs.length) {
        try {
          this.script.runInContext(this.context, { timeout: timerDelay(this.timeoutMs) });
        } catch (err) {
          const timedOut = (err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
          this.onFailure(jobs[state.next] as MatchJob, timedOut ? `ran longer than ${this.timeoutMs} ms` : (err as Error).message);
          state.results[state.next] = null;
          state.next++;
        }
      }
      return state.results;
    } finally {
      this.sandbox.state = { jobs: [], results: [], next: 0 };
    }
  }
}
