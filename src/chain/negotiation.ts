/** What the chain asks of the MTA, merged from its children's answers (milter-manager §7.1). */
import type { Action, Capabilities } from '../mail/filter.js';
import { canonicalMacroName, type MacroRequest } from '../mail/macros.js';
import type { EventStage } from '../mail/stage.js';

/**
 * `conditionStages`: stages the chain needs whatever its children ask, because conditions act at them;
 * `conditionMacros`: the macros those conditions read, per stage.
 */
export function mergeCapabilities(
  offer: Capabilities,
  children: readonly Capabilities[],
  conditionStages: ReadonlySet<EventStage>,
  conditionMacros: readonly MacroRequest[] = [],
): Capabilities {
  const actions = new Set<Action>();
  const stages = new Set<EventStage>();
  let noReply: Set<EventStage> | undefined;
  for (const c of children) {
    for (const a of c.actions) actions.add(a);
    for (const s of c.stages) stages.add(s);
    // A stage is answered by the chain unless every child left it unanswered.
    noReply = noReply === undefined ? new Set(c.noReply) : new Set([...noReply].filter((s) => c.noReply.has(s)));
  }
  for (const s of conditionStages) stages.add(s);
  // Later children must see the whole message as changed by earlier ones, so it is all buffered.
  // End of message alone does not count: every child gets it, and one that reads no header or body
  // and edits nothing (a libmilter filter without those callbacks) needs no message at all.
  const messageWanted = ['header', 'endOfHeaders', 'body'].some((s) => stages.has(s as EventStage));
  const edits = actions.has('addHeader') || actions.has('changeHeader') || actions.has('changeBody');
  if (messageWanted || edits) for (const s of ['header', 'endOfHeaders', 'body'] as const) stages.add(s);
  stages.add('endOfMessage');
  // Conditions and the chain's own logic may answer anything: never promise no-reply for them.
  for (const s of conditionStages) noReply?.delete(s);
  return {
    version: Math.min(6, offer.version),
    actions: new Set([...actions].filter((a) => offer.actions.has(a))),
    stages: new Set([...stages].filter((s) => offer.stages.has(s))),
    noReply: noReply ?? new Set(),
    skip: offer.skip,
    rejectedRecipients: false,
    // Exact header values (leading space kept): the chain converts for children that did not ask.
    leadingSpace: offer.leadingSpace,
    maxDataSize: 65535,
    macros: mergeMacros(children, conditionMacros),
  };
}

/** Stages whose `i` macro (the queue id) the chain's statistics line reads. */
const QUEUE_ID_STAGES = new Set(['mail', 'rcpt', 'data', 'endOfMessage']);

/**
 * Union of the children's macro lists per stage. A stage where some child relies on the MTA's
 * defaults gets no list, because a list replaces the MTA's defaults for every child (Postfix's
 * defaults carry what the built-in conditions read: {auth_type} and {auth_authen} at MAIL). A list
 * the chain does send also carries what the chain reads there itself: `i` where its statistics line
 * takes the queue id, and the macros its conditions read (Authenticated's auth macros, a
 * [[condition]]'s macro), which the MTA would otherwise stop sending.
 */
function mergeMacros(children: readonly Capabilities[], conditionMacros: readonly MacroRequest[]): MacroRequest {
  const out: Record<string, string[]> = {};
  const stages = ['connect', 'helo', 'mail', 'rcpt', 'data', 'endOfHeaders', 'endOfMessage'] as const;
  for (const stage of stages) {
    const lists = children.map((c) => (c.actions.has('setMacroLists') ? c.macros[stage] : undefined));
    if (lists.length === 0 || lists.some((l) => l === undefined)) continue;
    const names = new Map<string, string>();
    const add = (name: string) => {
      if (!names.has(canonicalMacroName(name))) names.set(canonicalMacroName(name), name);
    };
    for (const l of lists) l?.forEach(add);
    if (QUEUE_ID_STAGES.has(stage)) add('i');
    for (const m of conditionMacros) m[stage]?.forEach(add);
    out[stage] = [...names.values()];
  }
  return out;
}
