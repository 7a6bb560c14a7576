/** Option negotiation: milter bits ↔ Capabilities, and libmilter's filter-side rules. */
import type { Action, Capabilities, MaxDataSize } from '../mail/filter.js';
import { ALL_ACTIONS } from '../mail/filter.js';
import type { MacroRequest } from '../mail/macros.js';
import type { EventStage } from '../mail/stage.js';
import { EVENT_STAGES } from '../mail/stage.js';
import {
  ACTIONS_V1,
  ActionFlag,
  MacroListStage,
  MAX_DATA_SIZE,
  MAX_DATA_SIZE_1M,
  MAX_DATA_SIZE_256K,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_V1,
  PROTOCOL_VERSION,
  ProtocolFlag,
} from './constants.js';
import { PayloadError } from './text.js';

const ACTION_BIT: Record<Action, number> = {
  addHeader: ActionFlag.ADDHDRS,
  changeBody: ActionFlag.CHGBODY,
  addRecipient: ActionFlag.ADDRCPT,
  deleteRecipient: ActionFlag.DELRCPT,
  changeHeader: ActionFlag.CHGHDRS,
  quarantine: ActionFlag.QUARANTINE,
  changeSender: ActionFlag.CHGFROM,
  addRecipientWithArgs: ActionFlag.ADDRCPT_PAR,
  setMacroLists: ActionFlag.SETSYMLIST,
};

/** The "No" bit that leaves an event out; end of message cannot be left out. */
export const NO_BIT: Partial<Record<EventStage, number>> = {
  connect: ProtocolFlag.NOCONNECT,
  helo: ProtocolFlag.NOHELO,
  mail: ProtocolFlag.NOMAIL,
  rcpt: ProtocolFlag.NORCPT,
  body: ProtocolFlag.NOBODY,
  header: ProtocolFlag.NOHDRS,
  endOfHeaders: ProtocolFlag.NOEOH,
  unknown: ProtocolFlag.NOUNKNOWN,
  data: ProtocolFlag.NODATA,
};

/** The NR bit: the filter never replies to that event. */
export const NR_BIT: Partial<Record<EventStage, number>> = {
  connect: ProtocolFlag.NR_CONN,
  helo: ProtocolFlag.NR_HELO,
  mail: ProtocolFlag.NR_MAIL,
  rcpt: ProtocolFlag.NR_RCPT,
  data: ProtocolFlag.NR_DATA,
  unknown: ProtocolFlag.NR_UNKN,
  endOfHeaders: ProtocolFlag.NR_EOH,
  body: ProtocolFlag.NR_BODY,
  header: ProtocolFlag.NR_HDR,
};

const MACRO_STAGE_ID: Record<keyof MacroRequest, number> = {
  connect: MacroListStage.CONNECT,
  helo: MacroListStage.HELO,
  mail: MacroListStage.ENVFROM,
  rcpt: MacroListStage.ENVRCPT,
  data: MacroListStage.DATA,
  endOfMessage: MacroListStage.EOM,
  endOfHeaders: MacroListStage.EOH,
};

/** The raw negotiation values as they travel in an OPTNEG packet. */
export interface OptionBits {
  readonly version: number;
  readonly actions: number;
  readonly protocol: number;
  readonly macroLists: ReadonlyMap<number, string>;
}

export function actionBits(actions: ReadonlySet<Action>): number {
  let bits = 0;
  for (const a of actions) bits |= ACTION_BIT[a];
  return bits;
}

export function actionsFromBits(bits: number): Set<Action> {
  return new Set(ALL_ACTIONS.filter((a) => (bits & ACTION_BIT[a]) !== 0));
}

/**
 * Negotiation results depend only on the bits (and the filter's wanted object), and every session
 * of a deployment sends the same ones: compute once, share the (read-only) result. Bounded.
 */
function memo<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let v = cache.get(key);
  if (v === undefined) {
    v = make();
    if (cache.size < 256) cache.set(key, v);
  }
  return v;
}
const OFFER_CACHE = new Map<string, Capabilities>();
const CAPS_CACHE = new Map<string, Capabilities>();
const NEG_CACHE = new WeakMap<Capabilities, Map<string, FilterNegotiation>>();

/** Events a given protocol version can carry: DATA needs v4, UNKNOWN v3. */
export function stagesForVersion(version: number): EventStage[] {
  return EVENT_STAGES.filter((s) => !(s === 'data' && version < 4) && !(s === 'unknown' && version < 3));
}

function maxDataSizeFromBits(protocol: number): MaxDataSize {
  if (protocol & ProtocolFlag.MDS_1M) return MAX_DATA_SIZE_1M;
  if (protocol & ProtocolFlag.MDS_256K) return MAX_DATA_SIZE_256K;
  return MAX_DATA_SIZE;
}

function mdsBits(size: MaxDataSize): number {
  if (size === MAX_DATA_SIZE_1M) return ProtocolFlag.MDS_1M;
  if (size === MAX_DATA_SIZE_256K) return ProtocolFlag.MDS_256K;
  return 0;
}

/** Protocol bits that say what a filter wants (events left out, no-reply events, capabilities). */
export function protocolBits(caps: Capabilities): number {
  let bits = 0;
  for (const s of EVENT_STAGES) {
    if (!caps.stages.has(s)) bits |= NO_BIT[s] ?? 0;
    if (caps.noReply.has(s)) bits |= NR_BIT[s] ?? 0;
  }
  if (caps.skip) bits |= ProtocolFlag.SKIP;
  if (caps.rejectedRecipients) bits |= ProtocolFlag.RCPT_REJ;
  if (caps.leadingSpace) bits |= ProtocolFlag.HDR_LEADSPC;
  return bits | mdsBits(caps.maxDataSize);
}

export function macroListsFor(macros: MacroRequest): Map<number, string> {
  const lists = new Map<number, string>();
  for (const [stage, names] of Object.entries(macros) as [keyof MacroRequest, readonly string[]][]) {
    if (names.length > 0) lists.set(MACRO_STAGE_ID[stage], names.join(' '));
  }
  return lists;
}

export function macroRequestFrom(lists: ReadonlyMap<number, string>): MacroRequest {
  const req: Record<string, string[]> = {};
  for (const [stage, id] of Object.entries(MACRO_STAGE_ID)) {
    const names = lists.get(id);
    if (names !== undefined) req[stage] = names.split(/\s+/).filter((n) => n.length > 0);
  }
  return req as MacroRequest;
}

/** What the MTA offers, read from its OPTNEG (0 means the V1 defaults, as in libmilter). */
export function offerFromBits(version: number, actions: number, protocol: number): Capabilities {
  return memo(OFFER_CACHE, `${version}:${actions}:${protocol}`, () => computeOfferFromBits(version, actions, protocol));
}

function computeOfferFromBits(version: number, actions: number, protocol: number): Capabilities {
  const a = actions === 0 ? ACTIONS_V1 : actions;
  const p = protocol === 0 ? PROTOCOL_V1 : protocol;
  return {
    version,
    actions: actionsFromBits(a),
    stages: new Set(stagesForVersion(version)),
    noReply: new Set(EVENT_STAGES.filter((s) => (p & (NR_BIT[s] ?? 0)) !== 0)),
    skip: (p & ProtocolFlag.SKIP) !== 0,
    rejectedRecipients: (p & ProtocolFlag.RCPT_REJ) !== 0,
    leadingSpace: (p & ProtocolFlag.HDR_LEADSPC) !== 0,
    maxDataSize: maxDataSizeFromBits(p),
    macros: {},
  };
}

/** What a filter asked for, read from its OPTNEG reply. */
export function capabilitiesFromBits(bits: OptionBits): Capabilities {
  const key = `${bits.version}:${bits.actions}:${bits.protocol}:${[...bits.macroLists].join(';')}`;
  return memo(CAPS_CACHE, key, () => computeCapabilitiesFromBits(bits));
}

function computeCapabilitiesFromBits(bits: OptionBits): Capabilities {
  const p = bits.protocol;
  const stages = stagesForVersion(bits.version).filter((s) => (p & (NO_BIT[s] ?? 0)) === 0);
  return {
    version: bits.version,
    actions: actionsFromBits(bits.actions),
    stages: new Set(stages),
    noReply: new Set(EVENT_STAGES.filter((s) => (p & (NR_BIT[s] ?? 0)) !== 0)),
    skip: (p & ProtocolFlag.SKIP) !== 0,
    rejectedRecipients: (p & ProtocolFlag.RCPT_REJ) !== 0,
    leadingSpace: (p & ProtocolFlag.HDR_LEADSPC) !== 0,
    maxDataSize: maxDataSizeFromBits(p),
    macros: macroRequestFrom(bits.macroLists),
  };
}

export class NegotiationError extends PayloadError {
  override readonly name: string = 'NegotiationError';
}

/** The outcome of filter-side negotiation: what goes on the wire and what the server does itself. */
export interface FilterNegotiation {
  readonly reply: OptionBits;
  /** Events the MTA still sends although the filter did not want them: answered locally with continue. */
  readonly unwanted: ReadonlySet<EventStage>;
  /** Events the filter declared no-reply but the MTA could not: the server sends continue itself. */
  readonly fakeNoReply: ReadonlySet<EventStage>;
  /** Events on which the MTA will not wait for a reply. */
  readonly noReply: ReadonlySet<EventStage>;
  readonly maxDataSize: MaxDataSize;
  readonly leadingSpace: boolean;
  readonly skip: boolean;
}

/**
 * libmilter's filter-side rules: version = min(ours, MTA's), refuse < 2; request only offered bits,
 * except that a "No" bit or NR bit the MTA did not offer is emulated locally.
 */
export function negotiateAsFilter(
  mta: { version: number; actions: number; protocol: number },
  wanted: Capabilities,
): FilterNegotiation {
  let byBits = NEG_CACHE.get(wanted);
  if (byBits === undefined) NEG_CACHE.set(wanted, (byBits = new Map()));
  return memo(byBits, `${mta.version}:${mta.actions}:${mta.protocol}`, () => computeNegotiateAsFilter(mta, wanted));
}

function computeNegotiateAsFilter(
  mta: { version: number; actions: number; protocol: number },
  wanted: Capabilities,
): FilterNegotiation {
  if (mta.version < MIN_PROTOCOL_VERSION) {
    throw new NegotiationError(`MTA offers milter protocol version ${mta.version}; need ${MIN_PROTOCOL_VERSION} or later`);
  }
  const offeredActions = mta.actions === 0 ? ACTIONS_V1 : mta.actions;
  const offeredProtocol = mta.protocol === 0 ? PROTOCOL_V1 : mta.protocol;
  const version = Math.min(PROTOCOL_VERSION, mta.version, wanted.version);
  const wantedActions = actionBits(wanted.actions);
  const missing = wantedActions & ~offeredActions;
  if (missing !== 0) {
    throw new NegotiationError(`filter needs actions 0x${missing.toString(16)} the MTA does not offer`);
  }
  const wantBits = protocolBits(wanted);
  const protocol = wantBits & offeredProtocol;
  const unwanted = new Set<EventStage>();
  const fakeNoReply = new Set<EventStage>();
  const noReply = new Set<EventStage>();
  for (const s of EVENT_STAGES) {
    const no = NO_BIT[s] ?? 0;
    if (no !== 0 && (wantBits & no) !== 0 && (protocol & no) === 0) unwanted.add(s);
    const nr = NR_BIT[s] ?? 0;
    if (nr !== 0 && (wantBits & nr) !== 0) {
      if ((protocol & nr) !== 0) noReply.add(s);
      else fakeNoReply.add(s);
    }
  }
  const lists = wanted.actions.has('setMacroLists') ? macroListsFor(wanted.macros) : new Map<number, string>();
  return {
    reply: { version, actions: wantedActions, protocol, macroLists: lists },
    unwanted,
    fakeNoReply,
    noReply,
    maxDataSize: maxDataSizeFromBits(protocol),
    leadingSpace: (protocol & ProtocolFlag.HDR_LEADSPC) !== 0,
    skip: (protocol & ProtocolFlag.SKIP) !== 0,
  };
}
