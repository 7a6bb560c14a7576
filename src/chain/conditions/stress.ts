/**
 * "Stress Notify" / "No Stress": react to load. The manager is stressed when the number of SMTP
 * sessions in progress reaches a threshold (for Postfix, 3/4 of the smtpd process limit; computing
 * that is the caller's job). Decided at connect, so a session keeps its verdict for its lifetime.
 */
import { APPLY, STOP, type Condition, type ConditionStage, type ConditionVerdict } from '../condition.js';

export interface StressOptions {
  /**
   * Sessions in progress (this one included) at which the manager counts as stressed; 0 = never.
   * A function is read at each connect: a threshold learnt later (from Postfix) applies from then on.
   */
  threshold: number | (() => number);
}

const STAGES: ReadonlySet<ConditionStage> = new Set<ConditionStage>(['connect']);

const STRESSED: ConditionVerdict = Object.freeze({ stop: false, macros: Object.freeze({ '{stress}': 'yes' }) });

function validThreshold(threshold: unknown): threshold is number {
  return typeof threshold === 'number' && Number.isFinite(threshold) && threshold >= 0;
}

function stressTest(options: StressOptions, name: string): (sessions: number) => boolean {
  const threshold = options?.threshold;
  if (typeof threshold === 'function') {
    return (sessions) => {
      const t = threshold();
      return validThreshold(t) && t > 0 && sessions >= t;
    };
  }
  if (!validThreshold(threshold)) {
    throw new Error(`${name}: threshold must be a number >= 0 (0 means never stressed), got ${String(threshold)}`);
  }
  return (sessions) => threshold > 0 && sessions >= threshold;
}

/** Never stops; tells the child about stress with {stress}=yes so it can lighten its own work. */
export function createStressNotify(options: StressOptions): Condition {
  const stressed = stressTest(options, 'Stress Notify');
  return {
    name: 'Stress Notify',
    description: 'Define stress=yes macro when stress situation',
    stages: STAGES,
    check: (stage, ctx) => (stage === 'connect' && stressed(ctx.concurrentSessions) ? STRESSED : APPLY),
  };
}

/** Skips the child (e.g. an expensive content filter) for sessions that start while stressed. */
export function createNoStress(options: StressOptions): Condition {
  const stressed = stressTest(options, 'No Stress');
  return {
    name: 'No Stress',
    description: 'Apply milter only when normal condition',
    stages: STAGES,
    check: (stage, ctx) => (stage === 'connect' && stressed(ctx.concurrentSessions) ? STOP : APPLY),
  };
}
