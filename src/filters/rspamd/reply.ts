/**
 * rspamd's `/checkv2` JSON reply, parsed defensively: only `action` is required (rspamd's own milter
 * tempfails without it); every other field of the wrong type is ignored, as rspamd's C milter does
 * with its ucl type checks. Pure: bytes in, a typed result out, never a throw.
 */

export interface RspamdSymbol {
  readonly name: string;
  readonly score: number;
  readonly options: readonly string[];
}

/** One header to add: appended, or inserted at `order` (0-based; negative counts from the end). */
export interface MilterHeaderAddition {
  readonly name: string;
  readonly value: string;
  readonly order?: number;
}

/** The reply's `milter` object (set by rspamd's milter_headers module or Lua rules). */
export interface MilterBlock {
  readonly removeHeaders: readonly { readonly name: string; readonly index: number }[];
  readonly addHeaders: readonly MilterHeaderAddition[];
  readonly changeFrom?: string;
  readonly addRcpt: readonly string[];
  readonly delRcpt: readonly string[];
  /** `reject = "discard" | "quarantine"` turns a reject into that; anything else: a plain reject. */
  readonly rejectAs?: 'discard' | 'quarantine' | 'reject';
  /** `no_action = true`: do not apply the action, only report it in X-Rspamd-Action. */
  readonly noAction?: boolean;
  /** `spam_header`: a value for the spam header, or name → value pairs (add header action only). */
  readonly spamHeader?: string | readonly { readonly name: string; readonly value: string }[];
}

export interface CheckReply {
  readonly action: string;
  readonly score?: number;
  readonly requiredScore?: number;
  readonly isSkipped: boolean;
  readonly symbols: readonly RspamdSymbol[];
  /** New subject for `rewrite subject`. */
  readonly subject?: string;
  /** `messages.smtp_message`: the SMTP reply text rspamd wants. */
  readonly smtpMessage?: string;
  /** `dkim-signature`: signature header values to insert. */
  readonly dkimSignatures: readonly string[];
  readonly milter?: MilterBlock;
}

export type ReplyErrorReason = 'not-json' | 'not-an-object' | 'no-action' | 'server-error';

/** Why a reply cannot be used; `detail` is short and safe to log. */
export class RspamdReplyError extends Error {
  override readonly name = 'RspamdReplyError';
  constructor(
    readonly reason: ReplyErrorReason,
    readonly detail: string,
  ) {
    super(`rspamd reply: ${detail}`);
  }
}

export type ParsedReply = { readonly ok: true; readonly reply: CheckReply } | { readonly ok: false; readonly error: RspamdReplyError };

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** ucl_object_toint: numbers truncate toward zero; anything else is not an integer here. */
function int(v: unknown): number | undefined {
  const n = num(v);
  return n === undefined ? undefined : Math.trunc(n);
}

/** Own enumerable entries only: a key named `__proto__` in the JSON stays a plain key. */
function entries(o: Json): [string, unknown][] {
  return Object.keys(o).map((k) => [k, o[k]]);
}

function clip(s: string, max = 80): string {
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

export function parseCheckReply(body: Buffer | string): ParsedReply {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail('not-json', `not JSON: ${JSON.stringify(clip(text.trim()))}`);
  }
  if (!isObject(json)) return fail('not-an-object', `expected a JSON object, got ${Array.isArray(json) ? 'an array' : typeof json}`);
  const action = str(json['action']);
  if (action === undefined) {
    const error = str(json['error']);
    if (error !== undefined) return fail('server-error', `rspamd error: ${clip(error)}`);
    return fail('no-action', 'no "action" in the reply');
  }
  const messages = json['messages'];
  const smtpMessage = isObject(messages) ? str(messages['smtp_message']) : undefined;
  const subject = str(json['subject']);
  const score = num(json['score']);
  const requiredScore = num(json['required_score']);
  const milter = isObject(json['milter']) ? parseMilterBlock(json['milter']) : undefined;
  return {
    ok: true,
    reply: {
      action,
      ...(score === undefined ? {} : { score }),
      ...(requiredScore === undefined ? {} : { requiredScore }),
      isSkipped: json['is_skipped'] === true,
      symbols: parseSymbols(json['symbols']),
      ...(subject === undefined ? {} : { subject }),
      ...(smtpMessage === undefined ? {} : { smtpMessage }),
      dkimSignatures: parseDkim(json['dkim-signature']),
      ...(milter === undefined ? {} : { milter }),
    },
  };
}

function fail(reason: ReplyErrorReason, detail: string): ParsedReply {
  return { ok: false, error: new RspamdReplyError(reason, detail) };
}

function parseSymbols(v: unknown): RspamdSymbol[] {
  if (!isObject(v)) return [];
  const out: RspamdSymbol[] = [];
  for (const [key, sym] of entries(v)) {
    if (!isObject(sym)) continue;
    const options = Array.isArray(sym['options']) ? sym['options'].filter((o): o is string => typeof o === 'string') : [];
    out.push({ name: str(sym['name']) ?? key, score: num(sym['score']) ?? 0, options });
  }
  return out;
}

/** A string, or an array of strings (several signing domains). */
function parseDkim(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((s): s is string => typeof s === 'string');
  return [];
}

function parseMilterBlock(m: Json): MilterBlock {
  const removeHeaders: { name: string; index: number }[] = [];
  if (isObject(m['remove_headers'])) {
    for (const [name, index] of entries(m['remove_headers'])) {
      // rspamd only honours integers here (UCL_INT).
      if (typeof index === 'number' && Number.isInteger(index)) removeHeaders.push({ name, index });
    }
  }
  const addHeaders: MilterHeaderAddition[] = [];
  if (isObject(m['add_headers'])) {
    for (const [name, spec] of entries(m['add_headers'])) addHeaders.push(...headerAdditions(name, spec));
  }
  const changeFrom = str(m['change_from']);
  const rejectText = str(m['reject']);
  const noAction = typeof m['no_action'] === 'boolean' ? m['no_action'] : undefined;
  const spamHeader = parseSpamHeader(m['spam_header']);
  return {
    removeHeaders,
    addHeaders,
    ...(changeFrom === undefined ? {} : { changeFrom }),
    addRcpt: stringArray(m['add_rcpt']),
    delRcpt: stringArray(m['del_rcpt']),
    ...(rejectText === undefined ? {} : { rejectAs: rejectText === 'discard' || rejectText === 'quarantine' ? rejectText : 'reject' }),
    ...(noAction === undefined ? {} : { noAction }),
    ...(spamHeader === undefined ? {} : { spamHeader }),
  };
}

/** `"value"`, `{value, order|index}`, or an array of either (several headers of one name). */
function headerAdditions(name: string, spec: unknown): MilterHeaderAddition[] {
  if (typeof spec === 'string') return [{ name, value: spec }];
  if (Array.isArray(spec)) return spec.flatMap((el) => (isObject(el) ? headerAdditions(name, el) : typeof el === 'string' ? [{ name, value: el }] : []));
  if (!isObject(spec)) return [];
  const value = str(spec['value']);
  if (value === undefined) return [];
  const order = int(spec['order'] ?? spec['index']);
  return [order === undefined ? { name, value } : { name, value, order }];
}

function stringArray(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

function parseSpamHeader(v: unknown): MilterBlock['spamHeader'] {
  if (typeof v === 'string') return v;
  if (!isObject(v)) return undefined;
  return entries(v).flatMap(([name, value]) => (typeof value === 'string' ? [{ name, value }] : []));
}
