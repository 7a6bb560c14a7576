/**
 * What matched rules leave behind: headers to add, the score so far, and the terminal verdict (the
 * first accept / reject / tempfail / discard / quarantine that matched). One Effects for the
 * connection (host, address, helo rules) and one per message.
 */
import type { RuleConfig } from '../../config/builtins/rules.js';
import { reject, tempfail, type Reply } from '../../mail/reply.js';
import { expandTemplate, oneLineText } from './template.js';

export type Verdict =
  | { readonly kind: 'accept' }
  | { readonly kind: 'discard' }
  | { readonly kind: 'quarantine'; readonly reason: string }
  | { readonly kind: 'reject' | 'tempfail'; readonly reply: Reply };

export interface HeaderToAdd {
  readonly name: string;
  readonly value: string;
}

export class Effects {
  readonly headers: HeaderToAdd[] = [];
  score = 0;
  verdict: Verdict | undefined;
}

/** Longest header value, reply text and quarantine reason a match can produce. */
const MAX_HEADER_VALUE = 900;
const MAX_REPLY_TEXT = 400;
const MAX_REASON = 200;

/**
 * Applies one matched rule: headers and scores go into `effects`; a terminal action is returned
 * (the caller decides whether it lasts beyond this event: a recipient's reject does not).
 */
export function applyRule(rule: RuleConfig, match: RegExpExecArray, effects: Effects): Verdict | undefined {
  const action = rule.action;
  switch (action.kind) {
    case 'add_header':
      effects.headers.push({ name: action.name, value: oneLineText(expandTemplate(action.value, match), MAX_HEADER_VALUE) });
      return undefined;
    case 'score':
      effects.score += action.score;
      return undefined;
    case 'accept':
    case 'discard':
      return { kind: action.kind };
    case 'quarantine':
      return { kind: 'quarantine', reason: oneLineText(expandTemplate(action.reason, match), MAX_REASON) || 'content rules' };
    case 'reject':
    case 'tempfail': {
      const { code, enhancedCode } = action.reply;
      const text = oneLineText(expandTemplate(action.reply.text, match), MAX_REPLY_TEXT);
      const make = action.kind === 'reject' ? reject : tempfail;
      return { kind: action.kind, reply: make(code, enhancedCode, text === '' ? undefined : text) };
    }
  }
}
