/**
 * Options of the built-in `rules` filter, read from its [[milter]] table (builtin = "rules"):
 * `[[milter.rule]]` entries (field, pattern, action) plus the score threshold and the scan limits.
 * Every pattern and every `$1` template is compiled here, so a mistake is a file:line error at load.
 */
import { compileRegExp, validRegExpFlags } from '../patterns.js';
import type { TableReader } from '../reader.js';
import type { BuiltinReadContext } from './context.js';

/** Keys this filter accepts in its [[milter]] table, besides the common ones. */
export const RULES_KEYS = [
  'rule',
  'score_threshold',
  'score_action',
  'score_reply',
  'score_header',
  'max_body_size',
  'max_text_size',
  'match_timeout',
] as const;

export const RULE_KEYS = ['field', 'header', 'pattern', 'flags', 'action', 'reply', 'header_name', 'header_value', 'score', 'reason'] as const;
export const RULE_FIELDS = ['host', 'address', 'helo', 'sender', 'recipient', 'header', 'body'] as const;
export const RULE_ACTIONS = ['accept', 'reject', 'tempfail', 'discard', 'quarantine', 'add_header', 'score'] as const;
export const SCORE_ACTIONS = ['reject', 'tempfail', 'discard', 'quarantine', 'add_header'] as const;

export type RuleField = (typeof RULE_FIELDS)[number];
export type RuleActionName = (typeof RULE_ACTIONS)[number];
export type ScoreActionName = (typeof SCORE_ACTIONS)[number];

/** A piece of a `$1` template: literal text, a numbered group (0 = the whole match) or a named group. */
export type TemplatePart = string | { readonly group: number } | { readonly name: string };
export type Template = readonly TemplatePart[];

export interface RuleReply {
  readonly code: number;
  readonly enhancedCode: string;
  readonly text: Template;
}

export type RuleAction =
  | { readonly kind: 'accept' }
  | { readonly kind: 'discard' }
  | { readonly kind: 'reject' | 'tempfail'; readonly reply: RuleReply }
  | { readonly kind: 'quarantine'; readonly reason: Template }
  | { readonly kind: 'add_header'; readonly name: string; readonly value: Template }
  | { readonly kind: 'score'; readonly score: number };

export interface RuleConfig {
  /** Where the rule is written, e.g. `milter "rules".rule[2]` (for log lines). */
  readonly path: string;
  readonly field: RuleField;
  /** For field = "header": the header name as written, or "*" for every header. */
  readonly header?: string;
  readonly pattern: RegExp;
  readonly action: RuleAction;
}

export type ScoreAction =
  | { readonly kind: 'reject' | 'tempfail'; readonly reply: RuleReply }
  | { readonly kind: 'discard' }
  | { readonly kind: 'quarantine' }
  | { readonly kind: 'add_header'; readonly name: string };

export interface RulesOptions {
  readonly rules: readonly RuleConfig[];
  /** Total score at or above which `scoreAction` applies (end of message); undefined: scores are never acted on. */
  readonly scoreThreshold?: number;
  readonly scoreAction: ScoreAction;
  /** Message bytes kept for decoding the body text. */
  readonly maxBodySize: number;
  /** Characters of each text (envelope value, header value, body text) a pattern is run on. */
  readonly maxTextSize: number;
  /** Milliseconds all patterns of one stage may run before the rest is treated as not matching. */
  readonly matchTimeout: number;
}

export const RULES_DEFAULTS = {
  scoreAction: 'reject',
  scoreHeader: 'X-Rules-Score',
  rejectReply: '550 5.7.1 Message refused by content rules',
  tempfailReply: '451 4.7.1 Message deferred by content rules, try again later',
  maxBodySize: 1024 * 1024,
  maxTextSize: 64 * 1024,
  matchTimeout: 250,
} as const;

export function readRulesOptions(r: TableReader, ctx: BuiltinReadContext): RulesOptions {
  void ctx;
  r.record('rule');
  const rules = r.tables('rule', '[[milter.rule]]').map(readRule);
  const scoreThreshold = r.number('score_threshold');
  const scoreActionName = r.oneOf('score_action', SCORE_ACTIONS) ?? RULES_DEFAULTS.scoreAction;
  const scoreAction = readScoreAction(r, scoreActionName);
  const scored = rules.findIndex((rule) => rule.action.kind === 'score');
  if (scored !== -1 && scoreThreshold === undefined) {
    throw r.ctx.error(`${r.keyPath('rule')}[${scored}].score`, 'a rule with action = "score" needs score_threshold in its [[milter]] table');
  }
  return {
    rules,
    ...(scoreThreshold === undefined ? {} : { scoreThreshold }),
    scoreAction,
    maxBodySize: r.number('max_body_size', { integer: true, positive: true }) ?? RULES_DEFAULTS.maxBodySize,
    maxTextSize: r.number('max_text_size', { integer: true, positive: true }) ?? RULES_DEFAULTS.maxTextSize,
    matchTimeout: r.milliseconds('match_timeout') ?? RULES_DEFAULTS.matchTimeout,
  };
}

function readScoreAction(r: TableReader, kind: ScoreActionName): ScoreAction {
  const reply = r.string('score_reply', 'an SMTP reply like "550 5.7.1 text"');
  const header = r.string('score_header', 'a header name');
  if (reply !== undefined && kind !== 'reject' && kind !== 'tempfail') {
    throw r.error('score_reply', `score_reply is used only with score_action = "reject" or "tempfail" (score_action is "${kind}")`);
  }
  if (header !== undefined && kind !== 'add_header') {
    throw r.error('score_header', `score_header is used only with score_action = "add_header" (score_action is "${kind}")`);
  }
  switch (kind) {
    case 'reject':
    case 'tempfail': {
      const text = reply ?? (kind === 'reject' ? RULES_DEFAULTS.rejectReply : RULES_DEFAULTS.tempfailReply);
      const parsed = parseReply(text, kind, NO_GROUPS);
      if (typeof parsed === 'string') throw r.error('score_reply', parsed);
      return { kind, reply: parsed };
    }
    case 'add_header': {
      const name = header ?? RULES_DEFAULTS.scoreHeader;
      if (!isHeaderName(name)) throw r.error('score_header', `${JSON.stringify(name)} is not a header name`);
      return { kind, name };
    }
    default:
      return { kind };
  }
}

function readRule(r: TableReader): RuleConfig {
  r.checkKeys(RULE_KEYS);
  const field = r.oneOf('field', RULE_FIELDS);
  if (field === undefined) throw r.error(undefined, `a rule needs field (one of ${RULE_FIELDS.join(', ')})`);
  const header = r.optionalNonEmptyString('header', 'a header name or "*"');
  if (field === 'header' && header === undefined) throw r.error(undefined, 'a rule with field = "header" needs header (a header name, or "*" for every header)');
  if (field !== 'header' && header !== undefined) throw r.error('header', `header is used only with field = "header" (field is "${field}")`);
  if (header !== undefined && header !== '*' && !isHeaderName(header)) throw r.error('header', `${JSON.stringify(header)} is not a header name`);

  const pattern = readPattern(r);
  const groups = captureGroups(pattern);
  const action = readAction(r, groups);
  return { path: r.ctx.display(r.path), field, ...(header === undefined ? {} : { header }), pattern, action };
}

function readPattern(r: TableReader): RegExp {
  const text = r.string('pattern', 'a JavaScript regular expression');
  if (text === undefined) throw r.error(undefined, 'a rule needs pattern (a JavaScript regular expression)');
  const flagsKey = r.string('flags', 'regular expression flags like "i"');
  const parsed = parsePatternText(text, flagsKey);
  if (typeof parsed === 'string') throw r.error(parsed.startsWith('flags') ? 'flags' : 'pattern', parsed.replace(/^flags: /, ''));
  return parsed;
}

const SLASH_FORM = /^\/(.*)\/([A-Za-z]*)$/s;

/**
 * A pattern as written in a rule or on the command line: `/source/flags`, or a bare source with
 * `flags` given apart. Returns the compiled RegExp, or why it cannot be compiled (`flags: ...` when
 * the separate flags are at fault).
 */
export function parsePatternText(text: string, flags: string | undefined): RegExp | string {
  if (text.length === 0) return 'must not be empty';
  let source = text;
  let allFlags = flags ?? '';
  const slash = text.length >= 2 ? SLASH_FORM.exec(text) : null;
  if (slash !== null) {
    source = slash[1] ?? '';
    if (flags !== undefined && flags !== '' && (slash[2] ?? '') !== '') {
      return `flags: flags are given twice (${JSON.stringify(slash[2])} in the pattern and ${JSON.stringify(flags)}); keep one`;
    }
    allFlags = (slash[2] ?? '') + allFlags;
    if (source.length === 0) return `${JSON.stringify(text)}: empty regular expression`;
  }
  if (!validRegExpFlags(allFlags)) {
    return slash !== null && flags === undefined
      ? `${JSON.stringify(text)}: invalid regular expression flags "${allFlags}"`
      : `flags: ${JSON.stringify(allFlags)} is not a valid set of regular expression flags`;
  }
  return compileRegExp(source, allFlags);
}

function readAction(r: TableReader, groups: CaptureGroups): RuleAction {
  const kind = r.oneOf('action', RULE_ACTIONS);
  if (kind === undefined) throw r.error(undefined, `a rule needs action (one of ${RULE_ACTIONS.join(', ')})`);
  const usedBy: Record<string, readonly RuleActionName[]> = {
    reply: ['reject', 'tempfail'],
    header_name: ['add_header'],
    header_value: ['add_header'],
    score: ['score'],
    reason: ['quarantine'],
  };
  for (const [key, actions] of Object.entries(usedBy)) {
    if (r.has(key) && !actions.includes(kind)) {
      throw r.error(key, `${key} is used only with action = ${actions.map((a) => `"${a}"`).join(' or ')} (action is "${kind}")`);
    }
  }
  const template = (key: string, text: string): Template => {
    const parsed = parseTemplate(text, groups);
    if (typeof parsed === 'string') throw r.error(key, parsed);
    return parsed;
  };
  switch (kind) {
    case 'accept':
    case 'discard':
      return { kind };
    case 'reject':
    case 'tempfail': {
      const text = r.string('reply', 'an SMTP reply like "550 5.7.1 text"') ?? (kind === 'reject' ? RULES_DEFAULTS.rejectReply : RULES_DEFAULTS.tempfailReply);
      const reply = parseReply(text, kind, groups);
      if (typeof reply === 'string') throw r.error('reply', reply);
      return { kind, reply };
    }
    case 'quarantine':
      return { kind, reason: template('reason', r.string('reason') ?? 'matched by content rules: $0') };
    case 'add_header': {
      const name = r.string('header_name', 'a header name');
      if (name === undefined) throw r.error(undefined, 'a rule with action = "add_header" needs header_name and header_value');
      if (!isHeaderName(name)) throw r.error('header_name', `${JSON.stringify(name)} is not a header name`);
      const value = r.string('header_value', 'a header value (may use $1, $<name>)');
      if (value === undefined) throw r.error(undefined, 'a rule with action = "add_header" needs header_value');
      return { kind, name, value: template('header_value', value) };
    }
    case 'score': {
      const score = r.number('score');
      if (score === undefined) throw r.error(undefined, 'a rule with action = "score" needs score (a number, may be negative)');
      return { kind, score };
    }
  }
}

/** A header field name (RFC 5322: printable ASCII except the colon). */
export function isHeaderName(name: string): boolean {
  return /^[!-9;-~]+$/.test(name);
}

/** `550 5.7.1 text` (enhanced code optional); the code's class must agree with the action. */
export function parseReply(text: string, kind: 'reject' | 'tempfail', groups: CaptureGroups): RuleReply | string {
  const m = /^(\d{3})(?:[ \t]+(\d\.\d{1,3}\.\d{1,3}))?(?:[ \t]+(.*))?$/s.exec(text.trim());
  if (m === null) return `${JSON.stringify(text)} is not an SMTP reply like "550 5.7.1 text"`;
  const code = Number(m[1]);
  const klass = kind === 'reject' ? 5 : 4;
  if (Math.floor(code / 100) !== klass) return `a ${kind} reply needs a ${klass}xx code, got ${code}`;
  const enhancedCode = m[2] ?? `${klass}.7.1`;
  if (Number(enhancedCode[0]) !== klass) return `the enhanced code ${enhancedCode} does not match the reply code ${code}`;
  if (/[\r\n]/.test(m[3] ?? '')) return 'the reply text must be one line';
  const parsed = parseTemplate(m[3] ?? '', groups);
  if (typeof parsed === 'string') return parsed;
  return { code, enhancedCode, text: parsed };
}

/** How many numbered capture groups a pattern has, and the names of its named ones. */
export interface CaptureGroups {
  readonly count: number;
  readonly names: readonly string[];
}

const NO_GROUPS: CaptureGroups = { count: 0, names: [] };

export function captureGroups(re: RegExp): CaptureGroups {
  // An empty alternative always matches, so exec('') reports every group (unmatched).
  const m = new RegExp(`${re.source}|`, re.flags.replace(/[gy]/g, '')).exec('');
  return { count: m === null ? 0 : m.length - 1, names: Object.keys(m?.groups ?? {}) };
}

/**
 * Parses a replacement template the way String.prototype.replace reads one: `$0` and `$&` the whole
 * match, `$1`..`$99` numbered groups (two digits only when that group exists), `$<name>` a named
 * group, `$$` a dollar sign; any other `$` is literal. A reference to a group the pattern does not
 * have is an error (it would always be empty, so it is a mistake).
 */
export function parseTemplate(text: string, groups: CaptureGroups): Template | string {
  const parts: TemplatePart[] = [];
  let literal = '';
  const flush = (): void => {
    if (literal !== '') parts.push(literal);
    literal = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    const next = text[i + 1];
    if (c !== '$' || next === undefined) {
      literal += c;
      continue;
    }
    if (next === '$') {
      literal += '$';
      i++;
    } else if (next === '&') {
      flush();
      parts.push({ group: 0 });
      i++;
    } else if (next >= '0' && next <= '9') {
      const two = /^\d\d/.test(text.slice(i + 1, i + 3)) ? Number(text.slice(i + 1, i + 3)) : undefined;
      const useTwo = two !== undefined && two >= 1 && two <= groups.count;
      const n = useTwo ? two : Number(next);
      if (n > groups.count) return `$${n}: the pattern has ${groups.count === 0 ? 'no capture groups' : `only ${groups.count} capture group${groups.count === 1 ? '' : 's'}`}`;
      flush();
      parts.push({ group: n });
      i += useTwo ? 2 : 1;
    } else if (next === '<') {
      const close = text.indexOf('>', i + 2);
      if (close === -1) {
        literal += c;
        continue;
      }
      const name = text.slice(i + 2, close);
      if (!groups.names.includes(name)) {
        return `$<${name}>: the pattern has no group named ${JSON.stringify(name)}${groups.names.length > 0 ? ` (it has ${groups.names.join(', ')})` : ''}`;
      }
      flush();
      parts.push({ name });
      i = close;
    } else {
      literal += c;
    }
  }
  flush();
  return parts;
}
