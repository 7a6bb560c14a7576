/**
 * One connection through the rules filter. Connection rules (host, address, helo) run at connect and
 * HELO and their effects last for every message; sender, recipient, header and body rules run per
 * message. Headers are matched together at the end of the headers, the decoded body at end of
 * message, where headers are added, the quarantine set and the score threshold checked.
 */
import type { RuleConfig, RuleField, RulesOptions } from '../../config/builtins/rules.js';
import type { Change, EndOfMessageResult } from '../../mail/changes.js';
import type { ConnectionInfo } from '../../mail/connection.js';
import type { StageHandlers } from '../../mail/define-filter.js';
import type { Logger } from '../../mail/logger.js';
import { ACCEPT, CONTINUE, DISCARD, type Reply } from '../../mail/reply.js';
import { CollectedMessage } from '../shared/message.js';
import { bodyText } from './body-text.js';
import { Effects, type Verdict } from './effects.js';
import { evaluate, type MatchReport, type RuleTexts } from './evaluate.js';
import { headerText } from './header-text.js';
import type { Matcher } from './matcher.js';
import { scoreVerdict } from './score.js';

/** What every session of one filter shares. */
export interface RulesRuntime {
  readonly options: RulesOptions;
  readonly matcher: Matcher;
  readonly logger: Logger;
}

type Scope = 'connection' | 'message';

export function rulesSession(rt: RulesRuntime): StageHandlers {
  const { options, logger } = rt;
  const of = (...fields: RuleField[]): RuleConfig[] => options.rules.filter((r) => fields.includes(r.field));
  const connectRules = of('host', 'address');
  const heloRules = of('helo');
  const senderRules = of('sender');
  const recipientRules = of('recipient');
  const headerRules = of('header');
  const bodyRules = of('body');
  const collect = headerRules.length > 0 || bodyRules.length > 0;

  const connection = new Effects();
  let message = new Effects();
  let collected: CollectedMessage | undefined;

  const cut = (text: string): string => (text.length <= options.maxTextSize ? text : text.slice(0, options.maxTextSize));
  const report = ({ rule, verdict }: MatchReport): void => {
    const what = verdict?.kind ?? rule.action.kind;
    // debug: at info every matching session would log ~430 bytes beside its statistics line.
    logger.debug({ rule: rule.path, field: rule.field, ...(rule.header ? { header: rule.header } : {}), action: what }, `rule ${rule.path} matched: ${what}`);
  };
  const run = (items: RuleTexts[], effects: Effects): Verdict | undefined => evaluate(rt.matcher, items, effects, report);
  /** Rules stop for the message once the connection or the message has a verdict. */
  const decided = (): boolean => connection.verdict !== undefined || message.verdict !== undefined;
  const nothingPending = (): boolean => connection.headers.length === 0 && message.headers.length === 0;

  /** The reply for a verdict found at an envelope stage, remembering what outlives it. */
  const answer = (verdict: Verdict | undefined, scope: Scope): Reply => {
    if (verdict === undefined) return CONTINUE;
    const effects = scope === 'connection' ? connection : message;
    switch (verdict.kind) {
      case 'reject':
      case 'tempfail':
        return verdict.reply;
      case 'discard':
        // A connection cannot be discarded, its messages can: answered at each MAIL.
        effects.verdict = verdict;
        return scope === 'connection' ? CONTINUE : DISCARD;
      case 'quarantine':
        effects.verdict = verdict;
        return CONTINUE;
      case 'accept':
        effects.verdict = verdict;
        // Accept ends this filter's part, so only when no header is waiting for end of message.
        return nothingPending() ? ACCEPT : CONTINUE;
    }
  };

  const resetMessage = (): void => {
    message = new Effects();
    collected = undefined;
  };

  return {
    connect(info: ConnectionInfo): Reply {
      const items = connectRules.map((rule) => {
        const value = rule.field === 'host' ? info.hostname : info.address;
        return { rule, texts: value === undefined ? [] : [cut(value)] };
      });
      return answer(run(items, connection), 'connection');
    },

    helo(name: string): Reply {
      if (connection.verdict !== undefined) return CONTINUE;
      return answer(run(heloRules.map((rule) => ({ rule, texts: [cut(name)] })), connection), 'connection');
    },

    mail(sender: string): Reply {
      resetMessage();
      if (connection.verdict?.kind === 'discard') return DISCARD;
      if (connection.verdict !== undefined) return CONTINUE;
      return answer(run(senderRules.map((rule) => ({ rule, texts: [cut(envelopeAddress(sender))] })), message), 'message');
    },

    rcpt(recipient: string): Reply {
      if (decided()) return CONTINUE;
      const verdict = run(recipientRules.map((rule) => ({ rule, texts: [cut(envelopeAddress(recipient))] })), message);
      // A reject or tempfail refuses this recipient only (answer() does not remember them).
      return answer(verdict, 'message');
    },

    header(name: string, value: string): Reply {
      if (collect && !decided()) {
        collected ??= new CollectedMessage(options.maxBodySize);
        collected.addHeader(name, value);
      }
      return CONTINUE;
    },

    endOfHeaders(): Reply {
      if (headerRules.length === 0 || decided()) return CONTINUE;
      const fields = collected?.headers.all ?? [];
      const items = headerRules.map((rule) => {
        const lower = rule.header?.toLowerCase();
        const values = fields.filter((f) => lower === '*' || f.name.toLowerCase() === lower).map((f) => cut(headerText(f.value)));
        return { rule, texts: values };
      });
      return answer(run(items, message), 'message');
    },

    body(chunk: Buffer): Reply {
      if (bodyRules.length > 0 && !decided()) {
        collected ??= new CollectedMessage(options.maxBodySize);
        collected.addBody(chunk);
      }
      return CONTINUE;
    },

    async endOfMessage(): Promise<EndOfMessageResult> {
      try {
        if (bodyRules.length > 0 && !decided()) {
          const text = await decodedBody(collected ?? new CollectedMessage(options.maxBodySize), options, logger);
          message.verdict = run(bodyRules.map((rule) => ({ rule, texts: [text] })), message);
        }
        return result();
      } finally {
        resetMessage();
      }
    },

    abort(): void {
      resetMessage();
    },
  };

  function result(): EndOfMessageResult {
    const headers = [...connection.headers, ...message.headers];
    let verdict = connection.verdict ?? message.verdict;
    if (verdict === undefined && options.scoreThreshold !== undefined) {
      const score = connection.score + message.score;
      const outcome = scoreVerdict(score, options.scoreThreshold, options.scoreAction);
      if (outcome !== undefined) {
        logger.debug({ score, threshold: options.scoreThreshold, action: options.scoreAction.kind }, `score ${score} reached the threshold ${options.scoreThreshold}: ${options.scoreAction.kind}`);
        if ('header' in outcome) headers.push(outcome.header);
        else verdict = outcome;
      }
    }
    const changes: Change[] = headers.map((h) => ({ kind: 'addHeader', name: h.name, value: h.value }));
    switch (verdict?.kind) {
      case 'reject':
      case 'tempfail':
        return { reply: verdict.reply, changes: [] };
      case 'discard':
        return { reply: DISCARD, changes: [] };
      case 'quarantine':
        return { reply: CONTINUE, changes: [...changes, { kind: 'quarantine', reason: verdict.reason }] };
      default:
        return { reply: CONTINUE, changes };
    }
  }
}

/** `<user@example.com>` → `user@example.com`; `<>` (a bounce) → the empty string. */
export function envelopeAddress(address: string): string {
  const trimmed = address.trim();
  return trimmed.startsWith('<') && trimmed.endsWith('>') ? trimmed.slice(1, -1) : trimmed;
}

/** The decoded body text; a message mailparser cannot read is scanned as its raw body. */
async function decodedBody(message: CollectedMessage, options: RulesOptions, logger: Logger): Promise<string> {
  try {
    return await bodyText(message.toBuffer(), options.maxTextSize);
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'rules: the message could not be decoded; body rules see the raw body');
    return message.body().toString('latin1').slice(0, options.maxTextSize);
  }
}
