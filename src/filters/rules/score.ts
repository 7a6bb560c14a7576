/** The score threshold: what happens at end of message when the rules' scores add up to it. */
import type { ScoreAction } from '../../config/builtins/rules.js';
import { reject, tempfail } from '../../mail/reply.js';
import type { HeaderToAdd, Verdict } from './effects.js';
import { expandTemplate } from './template.js';

// The score reply is a template without groups: nothing in it reads the match.
const NO_MATCH = /(?:)/.exec('') as RegExpExecArray;

/** undefined below the threshold; else a verdict, or the header to add for score_action = "add_header". */
export function scoreVerdict(score: number, threshold: number, action: ScoreAction): Verdict | { readonly header: HeaderToAdd } | undefined {
  if (score < threshold) return undefined;
  switch (action.kind) {
    case 'reject':
    case 'tempfail': {
      const text = expandTemplate(action.reply.text, NO_MATCH);
      const make = action.kind === 'reject' ? reject : tempfail;
      return { kind: action.kind, reply: make(action.reply.code, action.reply.enhancedCode, text === '' ? undefined : text) };
    }
    case 'discard':
      return { kind: 'discard' };
    case 'quarantine':
      return { kind: 'quarantine', reason: `content rules score ${formatScore(score)} at or above ${formatScore(threshold)}` };
    case 'add_header':
      return { header: { name: action.name, value: `yes, score=${formatScore(score)} threshold=${formatScore(threshold)}` } };
  }
}

/** Scores are sums of decimals: 0.1 + 0.2 is shown as 0.3. */
export function formatScore(n: number): string {
  return String(Number(n.toFixed(3)));
}
