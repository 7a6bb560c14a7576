/**
 * One evaluation: the rules of one event, each against its texts (a header rule may see several
 * header values), run as one time-limited batch; then, in configuration order, each rule's first
 * match applies its action, until a terminal action ends the evaluation.
 */
import type { RuleConfig } from '../../config/builtins/rules.js';
import { applyRule, type Effects, type Verdict } from './effects.js';
import type { MatchJob, Matcher } from './matcher.js';

export interface RuleTexts {
  readonly rule: RuleConfig;
  readonly texts: readonly string[];
}

export interface MatchReport {
  readonly rule: RuleConfig;
  readonly match: RegExpExecArray;
  readonly verdict: Verdict | undefined;
}

export function evaluate(
  matcher: Matcher,
  items: readonly RuleTexts[],
  effects: Effects,
  onMatch: (report: MatchReport) => void,
): Verdict | undefined {
  const jobs: MatchJob[] = [];
  const first: number[] = [];
  for (const item of items) {
    first.push(jobs.length);
    for (const text of item.texts) jobs.push({ pattern: item.rule.pattern, text, label: item.rule.path });
  }
  const results = matcher.run(jobs);
  for (const [i, item] of items.entries()) {
    const start = first[i] ?? 0;
    let match: RegExpExecArray | null = null;
    for (let j = start; j < start + item.texts.length && match === null; j++) match = results[j] ?? null;
    if (match === null) continue;
    const verdict = applyRule(item.rule, match, effects);
    onMatch({ rule: item.rule, match, verdict });
    if (verdict !== undefined) return verdict;
  }
  return undefined;
}
