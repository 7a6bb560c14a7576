import { describe, expect, it } from 'vitest';
import { capabilitiesFor, FULL_OFFER } from '../../src/mail/capabilities.js';
import { ALL_ACTIONS, type Action, type Capabilities } from '../../src/mail/filter.js';
import { EVENT_STAGES, type EventStage } from '../../src/mail/stage.js';
import { offerProtocolBits } from '../../src/milter/client-session.js';
import { ACTIONS_ALL, ACTIONS_V1, PROTOCOL_ALL, PROTOCOL_V1, PROTOCOL_V2, ProtocolFlag } from '../../src/milter/constants.js';
import {
  actionBits,
  actionsFromBits,
  capabilitiesFromBits,
  macroListsFor,
  macroRequestFrom,
  negotiateAsFilter,
  NegotiationError,
  offerFromBits,
  protocolBits,
  stagesForVersion,
} from '../../src/milter/negotiation.js';
import { PayloadError } from '../../src/milter/text.js';

const POSTFIX = { version: 6, actions: 0x1ff, protocol: 0x1fffff };

function caps(over: Partial<Capabilities> = {}): Capabilities {
  return {
    version: 6,
    actions: new Set<Action>(),
    stages: new Set<EventStage>(EVENT_STAGES),
    noReply: new Set<EventStage>(),
    skip: false,
    rejectedRecipients: false,
    leadingSpace: false,
    maxDataSize: 65535,
    macros: {},
    ...over,
  };
}

const without = (...s: EventStage[]) => new Set(EVENT_STAGES.filter((x) => !s.includes(x)));

describe('negotiateAsFilter (libmilter rules)', () => {
  it('answers min(own version 6, MTA, filter)', () => {
    expect(negotiateAsFilter(POSTFIX, caps()).reply.version).toBe(6);
    expect(negotiateAsFilter({ ...POSTFIX, version: 2 }, caps()).reply.version).toBe(2);
    expect(negotiateAsFilter({ ...POSTFIX, version: 4 }, caps()).reply.version).toBe(4);
    expect(negotiateAsFilter({ ...POSTFIX, version: 7 }, caps()).reply.version).toBe(6);
    expect(negotiateAsFilter(POSTFIX, caps({ version: 3 })).reply.version).toBe(3);
  });

  it.each([0, 1])('refuses an MTA at version %i', (version) => {
    const err = (() => {
      try {
        negotiateAsFilter({ ...POSTFIX, version }, caps());
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(NegotiationError);
    expect(err).toBeInstanceOf(PayloadError);
    expect((err as Error).message).toMatch(/version/);
  });

  it('refuses actions the MTA did not offer, naming them', () => {
    const wanted = caps({ actions: new Set<Action>(['addHeader', 'quarantine', 'changeSender']) });
    expect(() => negotiateAsFilter({ ...POSTFIX, actions: 0x01 }, wanted)).toThrow(/actions 0x60 /);
    expect(() => negotiateAsFilter({ ...POSTFIX, actions: 0x61 }, wanted)).not.toThrow();
  });

  it('an offer of 0 actions / 0 protocol means the V1 defaults (0x0F, 0x3F)', () => {
    const mta = { version: 6, actions: 0, protocol: 0 };
    expect(negotiateAsFilter(mta, caps({ actions: new Set<Action>(['addHeader', 'changeBody', 'addRecipient', 'deleteRecipient']) })).reply.actions).toBe(ACTIONS_V1);
    expect(() => negotiateAsFilter(mta, caps({ actions: new Set<Action>(['changeHeader']) }))).toThrow(NegotiationError);
    // protocol: only the V1 bits can be requested; skip/leadspc silently not negotiated
    const n = negotiateAsFilter(mta, caps({ stages: without('helo'), skip: true, leadingSpace: true }));
    expect(n.reply.protocol).toBe(ProtocolFlag.NOHELO);
    expect(n.skip).toBe(false);
    expect(n.leadingSpace).toBe(false);
    expect([...n.unwanted]).toEqual([]);
    // leaving out DATA and UNKNOWN (0x300, not in V1) is emulated: those events are answered locally
    const m = negotiateAsFilter(mta, caps({ stages: without('data', 'unknown') }));
    expect(m.reply.protocol).toBe(0);
    expect([...m.unwanted].sort()).toEqual(['data', 'unknown']);
  });

  it('requests only offered protocol bits', () => {
    const wanted = caps({
      stages: without('helo', 'data', 'unknown'),
      noReply: new Set<EventStage>(['connect', 'header']),
      skip: true,
      rejectedRecipients: true,
      leadingSpace: true,
    });
    const n = negotiateAsFilter(POSTFIX, wanted);
    expect(n.reply.protocol).toBe(
      ProtocolFlag.NOHELO |
        ProtocolFlag.NODATA |
        ProtocolFlag.NOUNKNOWN |
        ProtocolFlag.NR_CONN |
        ProtocolFlag.NR_HDR |
        ProtocolFlag.SKIP |
        ProtocolFlag.RCPT_REJ |
        ProtocolFlag.HDR_LEADSPC,
    );
    expect(n.reply.protocol & ~POSTFIX.protocol).toBe(0);
    expect([...n.unwanted]).toEqual([]);
    expect([...n.fakeNoReply]).toEqual([]);
    expect([...n.noReply].sort()).toEqual(['connect', 'header']);
    expect(n.skip).toBe(true);
    expect(n.leadingSpace).toBe(true);
    expect(n.maxDataSize).toBe(65535);
  });

  it('"No" bits the MTA did not offer are emulated: the events go to `unwanted`', () => {
    // Postfix with milter_protocol=2 offers 0x7F: no NODATA (v4) or NOUNKNOWN (v3)
    const n = negotiateAsFilter({ version: 2, actions: 0x1ff, protocol: PROTOCOL_V2 }, caps({ stages: without('data', 'unknown', 'helo') }));
    expect(n.reply.protocol).toBe(ProtocolFlag.NOHELO);
    expect([...n.unwanted].sort()).toEqual(['data', 'unknown']);
    // an MTA that cannot leave out HELO at all
    const m = negotiateAsFilter({ version: 6, actions: 0x1ff, protocol: PROTOCOL_ALL & ~ProtocolFlag.NOHELO }, caps({ stages: without('helo') }));
    expect(m.reply.protocol & ProtocolFlag.NOHELO).toBe(0);
    expect([...m.unwanted]).toEqual(['helo']);
  });

  it('NR bits the MTA did not offer are faked: `fakeNoReply`, not on the wire', () => {
    const wanted = caps({ noReply: new Set<EventStage>(['header', 'rcpt', 'body']) });
    // Postfix with milter_protocol=2,no_header_reply offers 0x7F | NR_HDR
    const n = negotiateAsFilter({ version: 2, actions: 0x1ff, protocol: PROTOCOL_V2 | ProtocolFlag.NR_HDR }, wanted);
    expect(n.reply.protocol & ProtocolFlag.NR_HDR).toBe(ProtocolFlag.NR_HDR);
    expect(n.reply.protocol & (ProtocolFlag.NR_RCPT | ProtocolFlag.NR_BODY)).toBe(0);
    expect([...n.noReply]).toEqual(['header']);
    expect([...n.fakeNoReply].sort()).toEqual(['body', 'rcpt']);
  });

  it('maximum data size: only when offered', () => {
    expect(negotiateAsFilter({ ...POSTFIX, protocol: PROTOCOL_ALL | ProtocolFlag.MDS_1M }, caps({ maxDataSize: 1048575 })).maxDataSize).toBe(1048575);
    expect(negotiateAsFilter({ ...POSTFIX, protocol: PROTOCOL_ALL | ProtocolFlag.MDS_256K }, caps({ maxDataSize: 262143 })).maxDataSize).toBe(262143);
    expect(negotiateAsFilter(POSTFIX, caps({ maxDataSize: 1048575 })).maxDataSize).toBe(65535);
    expect(negotiateAsFilter(POSTFIX, caps({ maxDataSize: 1048575 })).reply.protocol & 0x30000000).toBe(0);
  });

  it('macro lists only go out with setMacroLists', () => {
    const macros = { connect: ['j', '{client_addr}'], endOfMessage: ['i'], endOfHeaders: ['{msg_id}'] };
    const withAction = negotiateAsFilter(POSTFIX, caps({ actions: new Set<Action>(['setMacroLists']), macros }));
    expect([...withAction.reply.macroLists]).toEqual([
      [0, 'j {client_addr}'],
      [5, 'i'],
      [6, '{msg_id}'],
    ]);
    expect(withAction.reply.actions).toBe(0x100);
    expect(negotiateAsFilter(POSTFIX, caps({ macros })).reply.macroLists.size).toBe(0);
  });

  it("reproduces pymilter's reply 6, 0x1FF, 0x1742", () => {
    const wanted = caps({
      actions: new Set(ALL_ACTIONS),
      stages: without('helo', 'endOfHeaders', 'data', 'unknown'),
      noReply: new Set<EventStage>(['connect']),
      skip: true,
    });
    const n = negotiateAsFilter(POSTFIX, wanted);
    expect(n.reply).toEqual({ version: 6, actions: 0x1ff, protocol: 0x1742, macroLists: new Map() });
  });

  it("reproduces OpenDKIM's reply 6, 0x111, 0x100702 from its own bits", () => {
    const c = capabilitiesFromBits({ version: 6, actions: 0x111, protocol: 0x100702, macroLists: new Map() });
    expect([...c.actions]).toEqual(['addHeader', 'changeHeader', 'setMacroLists']);
    expect(c.leadingSpace).toBe(true);
    expect(c.skip).toBe(true);
    expect([...c.stages]).toEqual(EVENT_STAGES.filter((s) => !['helo', 'data', 'unknown'].includes(s)));
    const n = negotiateAsFilter(POSTFIX, c);
    expect(n.reply).toEqual({ version: 6, actions: 0x111, protocol: 0x100702, macroLists: new Map() });
  });
});

describe('bits ↔ Capabilities', () => {
  it('actionBits / actionsFromBits', () => {
    expect(actionBits(new Set(ALL_ACTIONS))).toBe(ACTIONS_ALL);
    expect(actionBits(new Set())).toBe(0);
    expect(actionBits(new Set<Action>(['addHeader', 'changeHeader', 'setMacroLists']))).toBe(0x111);
    expect([...actionsFromBits(0x1ff)]).toEqual(ALL_ACTIONS);
    expect([...actionsFromBits(0x0f)]).toEqual(['addHeader', 'changeBody', 'addRecipient', 'deleteRecipient']);
    expect([...actionsFromBits(0xfffffe00)]).toEqual([]);
  });

  it('stagesForVersion: DATA needs v4, UNKNOWN v3', () => {
    expect(stagesForVersion(2)).toEqual(EVENT_STAGES.filter((s) => s !== 'data' && s !== 'unknown'));
    expect(stagesForVersion(3)).toEqual(EVENT_STAGES.filter((s) => s !== 'data'));
    expect(stagesForVersion(4)).toEqual(EVENT_STAGES);
    expect(stagesForVersion(6)).toEqual(EVENT_STAGES);
  });

  it("offerFromBits: Postfix's offer is FULL_OFFER", () => {
    const o = offerFromBits(6, 0x1ff, 0x1fffff);
    expect(o).toEqual({ ...FULL_OFFER });
  });

  it('offerFromBits: 0 means the V1 defaults', () => {
    const o = offerFromBits(2, 0, 0);
    expect([...o.actions]).toEqual(['addHeader', 'changeBody', 'addRecipient', 'deleteRecipient']);
    expect(o.noReply.size).toBe(0);
    expect(o.skip).toBe(false);
    expect(o.leadingSpace).toBe(false);
    expect(o.rejectedRecipients).toBe(false);
    expect([...o.stages]).toEqual(stagesForVersion(2));
    // V1 (0x3F) and V2 (0x7F) have no NR bits; no_header_reply adds NR_HDR (0x80)
    expect(offerFromBits(2, 0, PROTOCOL_V2).noReply.size).toBe(0);
    expect([...offerFromBits(2, 0, PROTOCOL_V2 | ProtocolFlag.NR_HDR).noReply]).toEqual(['header']);
    expect(offerFromBits(2, 0, PROTOCOL_V1).noReply.size).toBe(0);
  });

  it('offerFromBits: MDS bits', () => {
    expect(offerFromBits(6, 0x1ff, 0x1fffff | ProtocolFlag.MDS_256K).maxDataSize).toBe(262143);
    expect(offerFromBits(6, 0x1ff, 0x1fffff | ProtocolFlag.MDS_1M | ProtocolFlag.MDS_256K).maxDataSize).toBe(1048575);
  });

  it('offerProtocolBits(FULL_OFFER) is 0x1FFFFF, and inverts offerFromBits for Postfix', () => {
    expect(offerProtocolBits(FULL_OFFER)).toBe(0x1fffff);
    expect(offerProtocolBits(offerFromBits(6, 0x1ff, 0x1fffff))).toBe(0x1fffff);
    expect(actionBits(FULL_OFFER.actions)).toBe(0x1ff);
    expect(offerProtocolBits({ ...FULL_OFFER, maxDataSize: 1048575 })).toBe(0x1fffff | ProtocolFlag.MDS_1M);
    expect(offerProtocolBits({ ...FULL_OFFER, maxDataSize: 262143 })).toBe(0x1fffff | ProtocolFlag.MDS_256K);
  });

  it('capabilitiesFromBits ∘ protocolBits round trip for the real replies', () => {
    for (const protocol of [0x1742, 0x100702, 0, 0x7f, 0xff, 0x1fffff & ~0x70000000]) {
      const c = capabilitiesFromBits({ version: 6, actions: 0x1ff, protocol, macroLists: new Map() });
      expect(protocolBits(c)).toBe(protocol);
    }
  });

  it('protocolBits ∘ capabilitiesFromBits round trip for a Capabilities value', () => {
    const c = caps({
      actions: new Set<Action>(['addHeader', 'setMacroLists']),
      stages: without('helo', 'body'),
      noReply: new Set<EventStage>(['rcpt', 'data']),
      skip: true,
      rejectedRecipients: true,
      maxDataSize: 262143,
      macros: { helo: ['{tls_version}'], rcpt: ['{rcpt_addr}', 'i'] },
    });
    const back = capabilitiesFromBits({
      version: c.version,
      actions: actionBits(c.actions),
      protocol: protocolBits(c),
      macroLists: macroListsFor(c.macros),
    });
    expect(back).toEqual(c);
  });

  it('capabilitiesFromBits at version 2: data and unknown are not events of that version', () => {
    const c = capabilitiesFromBits({ version: 2, actions: 0, protocol: 0, macroLists: new Map() });
    expect(c.stages.has('data')).toBe(false);
    expect(c.stages.has('unknown')).toBe(false);
    expect(c.stages.has('helo')).toBe(true);
  });

  it('macroListsFor / macroRequestFrom: SMFIM ids, EOM (5) before EOH (6), empty lists dropped', () => {
    const lists = macroListsFor({
      connect: ['j', '{client_addr}'],
      helo: [],
      mail: ['i'],
      rcpt: ['{rcpt_addr}'],
      data: ['i'],
      endOfMessage: ['{msg_id}'],
      endOfHeaders: ['i'],
    });
    expect([...lists].sort((a, b) => a[0] - b[0])).toEqual([
      [0, 'j {client_addr}'],
      [2, 'i'],
      [3, '{rcpt_addr}'],
      [4, 'i'],
      [5, '{msg_id}'],
      [6, 'i'],
    ]);
    expect(macroRequestFrom(new Map([[5, ' i  {msg_id} '], [6, 'x'], [9, 'ignored']]))).toEqual({
      endOfMessage: ['i', '{msg_id}'],
      endOfHeaders: ['x'],
    });
  });
});

describe('capabilitiesFor (what defineFilter negotiates)', () => {
  it('never asks for more than offered, version min(6, offer)', () => {
    const offer = offerFromBits(2, 0x0f, PROTOCOL_V2 | ProtocolFlag.NR_HDR);
    const c = capabilitiesFor(offer, { actions: ['addHeader', 'quarantine'], skip: true, noReply: ['header', 'rcpt'] });
    expect(c.version).toBe(2);
    expect([...c.actions]).toEqual(['addHeader']);
    expect(c.skip).toBe(false);
    // no-reply is kept as declared; what the MTA cannot honour is emulated (continue sent locally)
    expect([...c.noReply]).toEqual(['header', 'rcpt']);
    expect(c.stages.has('data')).toBe(false);
    const n = negotiateAsFilter({ version: 2, actions: 0x0f, protocol: PROTOCOL_V2 | ProtocolFlag.NR_HDR }, c);
    expect(n.reply).toEqual({ version: 2, actions: 0x01, protocol: ProtocolFlag.NR_HDR, macroLists: new Map() });
    expect([...n.fakeNoReply]).toEqual(['rcpt']);
    // the MTA does not send DATA or UNKNOWN at v2 anyway: no NODATA/NOUNKNOWN asked, nothing emulated
    expect([...n.unwanted].sort()).toEqual(['data', 'unknown']);
  });

  it('adds setMacroLists when macros are wanted and it is offered', () => {
    const c = capabilitiesFor(FULL_OFFER, { macros: { connect: ['j'] } });
    expect(c.actions.has('setMacroLists')).toBe(true);
    expect(c.macros).toEqual({ connect: ['j'] });
    const none = capabilitiesFor(offerFromBits(6, 0x0f, 0x1fffff), { macros: { connect: ['j'] } });
    expect(none.actions.has('setMacroLists')).toBe(false);
    expect(none.macros).toEqual({});
  });
});
