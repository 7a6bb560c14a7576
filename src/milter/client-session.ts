/**
 * One SMTP session relayed to a remote milter: the MTA side of the protocol behind the FilterSession
 * interface. Sends each stage's macros and event, honours what the milter negotiated (events left
 * out, no-reply events, SKIP), and collects its end-of-message changes.
 */
import type { Change, EndOfMessageResult } from '../mail/changes.js';
import type { ConnectionInfo } from '../mail/connection.js';
import type { Action, Capabilities, FilterSession, SessionContext } from '../mail/filter.js';
import type { Logger } from '../mail/logger.js';
import { canonicalMacroName } from '../mail/macros.js';
import { ACCEPT, CONTINUE, SKIP, type Reply } from '../mail/reply.js';
import type { EventStage, MacroStage } from '../mail/stage.js';
import { MilterClientError } from './client-errors.js';
import { ClientTransport, type Timeouts } from './client-transport.js';
import { encodeCommand, type MilterCommand } from './commands.js';
import { Command, ProtocolFlag } from './constants.js';
import { actionBits, capabilitiesFromBits, NO_BIT, NR_BIT } from './negotiation.js';
import type { Packet } from './packet.js';
import { replyFromText } from './reply-code.js';
import { decodeResponse, type MilterResponse } from './responses.js';
import type { ConnectionSpec } from './spec.js';
import { framedPacket, stagePacket } from './stage-packets.js';

const MACRO_STAGE_BYTE: Record<MacroStage, number> = {
  connect: Command.CONNECT,
  helo: Command.HELO,
  mail: Command.MAIL,
  rcpt: Command.RCPT,
  data: Command.DATA,
  endOfHeaders: Command.EOH,
  endOfMessage: Command.BODYEOB,
  unknown: Command.UNKNOWN,
};

/** Which macro list each event sends before it (headers and body carry none, as in Postfix's default). */
const MACROS_FOR: Partial<Record<EventStage, MacroStage>> = {
  connect: 'connect',
  helo: 'helo',
  mail: 'mail',
  rcpt: 'rcpt',
  data: 'data',
  endOfHeaders: 'endOfHeaders',
  endOfMessage: 'endOfMessage',
  unknown: 'unknown',
};

const MODIFICATION_ACTION: Partial<Record<MilterResponse['type'], Action>> = {
  addHeader: 'addHeader',
  insertHeader: 'addHeader',
  changeHeader: 'changeHeader',
  replaceBody: 'changeBody',
  addRecipient: 'addRecipient',
  addRecipientPar: 'addRecipientWithArgs',
  deleteRecipient: 'deleteRecipient',
  changeSender: 'changeSender',
  quarantine: 'quarantine',
};

/** Statuses that end the milter's part in the message (or the connection, at connect/helo). */
const FINAL_STATUSES = new Set(['accept', 'reject', 'tempfail', 'discard']);

/** The offer as protocol bits: every "No" bit for the events the MTA can leave out, plus the rest. */
export function offerProtocolBits(offer: Capabilities): number {
  let bits = 0;
  for (const s of offer.stages) bits |= NO_BIT[s] ?? 0;
  for (const s of offer.noReply) bits |= NR_BIT[s] ?? 0;
  if (offer.skip) bits |= ProtocolFlag.SKIP;
  if (offer.rejectedRecipients) bits |= ProtocolFlag.RCPT_REJ;
  if (offer.leadingSpace) bits |= ProtocolFlag.HDR_LEADSPC;
  if (offer.maxDataSize >= 1048575) bits |= ProtocolFlag.MDS_1M;
  else if (offer.maxDataSize >= 262143) bits |= ProtocolFlag.MDS_256K;
  return bits;
}

/** Encoded MACRO packets by the pairs array they came from (a stage's pairs map to one stage byte). */
const ENCODED_MACROS = new WeakMap<readonly (readonly [string, string])[], Buffer>();

/** An MTA passes the same offer object to every session: its bits are computed once. */
const OFFERED = new WeakMap<Capabilities, { version: number; actions: number; protocol: number }>();

export interface ClientSessionOptions {
  readonly name: string;
  readonly spec: ConnectionSpec;
  readonly timeouts: Timeouts;
  readonly logger: Logger;
}

export class ClientSession implements FilterSession {
  private transport: ClientTransport | undefined;
  private caps: Capabilities | undefined;
  /** Set when the milter's answer at connect/helo ended its part in the connection. */
  private connectionVerdict: Reply | undefined;
  /** Set when its answer ended its part in the current message. */
  private messageVerdict: Reply | undefined;
  private inMessage = false;
  private skippingBody = false;
  private pendingQuarantine: Change[] = [];
  private closed = false;

  constructor(private readonly opts: ClientSessionOptions) {}

  /** What the milter answered at negotiation (after negotiate()). */
  get capabilities(): Capabilities | undefined {
    return this.caps;
  }

  async negotiate(offer: Capabilities): Promise<Capabilities> {
    const { spec, name, timeouts } = this.opts;
    this.transport = await ClientTransport.open(spec, name, timeouts.connection);
    let offered = OFFERED.get(offer);
    if (offered === undefined) {
      offered = { version: offer.version, actions: actionBits(offer.actions), protocol: offerProtocolBits(offer) };
      OFFERED.set(offer, offered);
    }
    await this.transport.write(encodeCommand({ type: 'optneg', ...offered }), timeouts.writing);
    const packet = await this.transport.read(timeouts.reading);
    const r = this.decode(packet);
    if (r.type !== 'optneg') throw this.protocolError(`expected OPTNEG, got ${r.type}`);
    if (r.version < 2 || r.version > offered.version) {
      throw this.protocolError(`milter answered version ${r.version}; offered ${offered.version}`);
    }
    const extraActions = r.actions & ~offered.actions;
    if (extraActions !== 0) throw this.protocolError(`milter wants actions 0x${extraActions.toString(16)} not offered`);
    const extraProtocol = r.protocol & ~offered.protocol;
    if (extraProtocol !== 0) {
      this.opts.logger.debug({ milter: name, bits: extraProtocol }, 'milter asked for protocol bits not offered');
    }
    this.caps = capabilitiesFromBits(r);
    this.transport.setMaxPayload(this.caps.maxDataSize);
    return this.caps;
  }

  connect(info: ConnectionInfo, ctx: SessionContext): Promise<Reply> {
    const family = info.family;
    const address = family === 'unix' ? (info.path ?? '') : (info.address ?? '');
    return this.event('connect', ctx, {
      type: 'connect',
      hostname: info.hostname,
      family,
      port: info.port ?? 0,
      address,
    });
  }

  helo(name: string, ctx: SessionContext): Promise<Reply> {
    return this.event('helo', ctx, { type: 'helo', name });
  }

  mail(sender: string, args: readonly string[], ctx: SessionContext): Promise<Reply> {
    this.startMessage();
    return this.event('mail', ctx, { type: 'mail', args: [sender, ...args] });
  }

  rcpt(recipient: string, args: readonly string[], ctx: SessionContext): Promise<Reply> {
    return this.event('rcpt', ctx, { type: 'rcpt', args: [recipient, ...args] });
  }

  data(ctx: SessionContext): Promise<Reply> {
    return this.event('data', ctx, { type: 'data' });
  }

  header(name: string, value: string, ctx: SessionContext): Promise<Reply> {
    return this.event('header', ctx, { type: 'header', name, value });
  }

  endOfHeaders(ctx: SessionContext): Promise<Reply> {
    return this.event('endOfHeaders', ctx, { type: 'eoh' });
  }

  async body(chunk: Buffer, ctx: SessionContext): Promise<Reply> {
    if (this.skippingBody) return CONTINUE;
    const max = this.caps?.maxDataSize ?? 65535;
    let reply: Reply = CONTINUE;
    for (let i = 0; i < chunk.length || i === 0; i += max) {
      reply = await this.event('body', ctx, { type: 'body', chunk: chunk.subarray(i, i + max) });
      if (reply.status !== 'continue') break;
      if (chunk.length === 0) break;
    }
    if (reply.status === 'skip') this.skippingBody = true;
    return reply;
  }

  unknown(command: string, ctx: SessionContext): Promise<Reply> {
    return this.event('unknown', ctx, { type: 'unknown', command });
  }

  endOfMessage(ctx: SessionContext): Promise<EndOfMessageResult> {
    const quarantined = this.pendingQuarantine;
    this.pendingQuarantine = [];
    const sticky = this.connectionVerdict ?? this.messageVerdict;
    this.endMessage();
    if (sticky) return Promise.resolve({ reply: sticky, changes: quarantined });
    let t: ClientTransport;
    let w: Promise<void> | undefined;
    try {
      t = this.live('endOfMessage');
      w = t.write(this.withMacros('endOfMessage', ctx, EMPTY_BODYEOB), this.opts.timeouts.writing);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const changes: Change[] = [...quarantined];
    let body: Buffer[] | undefined;
    const take = (p: Packet): EndOfMessageResult | undefined => {
      const r = this.decode(p);
      if (r.type === 'progress') {
        // Relayed: a manager's MTA must not time out while this milter is still at work. The MTA
        // side writes it at once; its promise is not waited for (nothing here depends on it).
        ctx.progress().catch(ignore);
        return undefined;
      }
      const needs = MODIFICATION_ACTION[r.type];
      if (needs !== undefined) {
        if (!this.caps!.actions.has(needs)) throw this.protocolError(`${r.type} without negotiating ${needs}`);
        if (r.type === 'replaceBody') (body ??= []).push(r.chunk);
        else changes.push(changeFor(r));
        return undefined;
      }
      const reply = this.finalReply(r, 'endOfMessage');
      if (body) changes.push({ kind: 'replaceBody', body: Buffer.concat(body) });
      return { reply, changes };
    };
    const timeout = this.opts.timeouts.endOfMessage;
    return w ? w.then(() => t.expect(timeout, take)) : t.expect(timeout, take);
  }

  async abort(): Promise<void> {
    const wasInMessage = this.inMessage;
    this.endMessage();
    if (!wasInMessage || this.connectionVerdict || !this.transport || this.transport.failed) return;
    await this.transport.write(encodeCommand({ type: 'abort' }), this.opts.timeouts.writing);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.transport?.end(QUIT);
  }

  private startMessage(): void {
    this.endMessage();
    this.inMessage = true;
  }

  private endMessage(): void {
    this.inMessage = false;
    this.messageVerdict = undefined;
    this.skippingBody = false;
  }

  private live(stage: string): ClientTransport {
    const t = this.transport;
    if (!t || !this.caps) throw new MilterClientError('protocol', this.opts.name, stage, 'stage before negotiation');
    if (t.failed) throw t.failed;
    t.stage = stage;
    return t;
  }

  /** The event's packet, preceded by its stage's macros when there are any. */
  private withMacros(stage: EventStage, ctx: SessionContext, cmd: MilterCommand): Buffer {
    const event = stagePacket(cmd);
    const macros = this.macroPacket(stage, ctx);
    return macros ? framedPacket(macros, event) : event;
  }

  /** The macros for an event, limited to the names the milter asked for. */
  private macroPacket(stage: EventStage, ctx: SessionContext): Buffer | undefined {
    const macroStage = MACROS_FOR[stage];
    if (macroStage === undefined) return undefined;
    let pairs = ctx.macros.forStage(macroStage);
    if (pairs.length === 0) return undefined;
    const wanted = macroStage === 'unknown' ? undefined : this.caps!.macros[macroStage];
    if (wanted !== undefined) {
      const names = new Set(wanted.map(canonicalMacroName));
      pairs = pairs.filter(([n]) => names.has(canonicalMacroName(n)));
      return encodeCommand({ type: 'macro', stage: MACRO_STAGE_BYTE[macroStage], macros: pairs });
    }
    // The same pairs go to every child of a manager: encode them once (packets are never mutated).
    const stageByte = MACRO_STAGE_BYTE[macroStage];
    let packet = ENCODED_MACROS.get(pairs);
    if (packet === undefined || packet[5] !== stageByte) {
      packet = encodeCommand({ type: 'macro', stage: stageByte, macros: pairs });
      ENCODED_MACROS.set(pairs, packet);
    }
    return packet;
  }

  /** Sends one event and waits for its reply: one promise per event, none per packet. */
  private event(stage: EventStage, ctx: SessionContext, cmd: MilterCommand): Promise<Reply> {
    const sticky = this.connectionVerdict ?? this.messageVerdict;
    if (sticky) return Promise.resolve(sticky);
    try {
      const t = this.live(stage);
      const caps = this.caps!;
      if (!caps.stages.has(stage)) {
        // Postfix still sends the macros of an event the milter left out.
        const macros = this.macroPacket(stage, ctx);
        const w = macros && t.write(macros, this.opts.timeouts.writing);
        return w ? w.then(() => CONTINUE) : Promise.resolve(CONTINUE);
      }
      const w = t.write(this.withMacros(stage, ctx, cmd), this.opts.timeouts.writing);
      if (caps.noReply.has(stage)) return w ? w.then(() => CONTINUE) : Promise.resolve(CONTINUE);
      const take = (p: Packet): Reply | undefined => this.stageReply(stage, p);
      const timeout = this.opts.timeouts.reading;
      return w ? w.then(() => t.expect(timeout, take)) : t.expect(timeout, take);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** One packet answering a stage: its reply, or undefined for what does not end the stage. */
  private stageReply(stage: EventStage, p: Packet): Reply | undefined {
    const r = this.decode(p);
    if (r.type === 'progress') return undefined;
    if (r.type === 'quarantine') {
      // Postfix accepts QUARANTINE at any stage; it takes effect with the message.
      if (!this.caps!.actions.has('quarantine')) throw this.protocolError('quarantine without negotiating it');
      this.pendingQuarantine.push({ kind: 'quarantine', reason: r.reason });
      return undefined;
    }
    if (MODIFICATION_ACTION[r.type] !== undefined) {
      throw this.protocolError(`${r.type} sent at ${stage}; changes are only allowed at end of message`);
    }
    return this.finalReply(r, stage);
  }

  private finalReply(r: MilterResponse, stage: EventStage): Reply {
    let reply: Reply;
    switch (r.type) {
      case 'continue':
        return CONTINUE;
      case 'accept':
        reply = ACCEPT;
        break;
      case 'reject':
      case 'tempfail':
      case 'discard':
        reply = { status: r.type };
        break;
      case 'skip':
        if (stage !== 'body') throw this.protocolError(`skip sent at ${stage}`);
        return SKIP;
      case 'replycode':
        reply = replyFromText(r.text);
        break;
      case 'shutdown':
        reply = { status: 'tempfail', code: 421, enhancedCode: '4.7.0', text: 'milter requested shutdown' };
        break;
      case 'connFail':
        reply = { status: 'tempfail' };
        break;
      default:
        throw this.protocolError(`unexpected ${r.type} at ${stage}`);
    }
    this.remember(stage, reply);
    return reply;
  }

  /** An accept/reject/tempfail/discard ends the milter's part: no more events for it (as in Postfix). */
  private remember(stage: EventStage, reply: Reply): void {
    if (!FINAL_STATUSES.has(reply.status)) return;
    if (stage === 'connect' || stage === 'helo') {
      this.connectionVerdict = reply;
      // Postfix closes the milter's socket once it has no more part in the connection.
      this.close();
    } else if (stage === 'rcpt') {
      if (reply.status === 'accept' || reply.status === 'discard') this.messageVerdict = reply;
    } else if (stage !== 'endOfMessage' && stage !== 'unknown') {
      this.messageVerdict = reply;
    }
  }

  private decode(packet: Packet): MilterResponse {
    try {
      return decodeResponse(packet);
    } catch (err) {
      throw this.protocolError((err as Error).message);
    }
  }

  private protocolError(detail: string): MilterClientError {
    const t = this.transport;
    if (t) return t.fail('protocol', detail);
    return new MilterClientError('protocol', this.opts.name, 'negotiate', detail);
  }
}

const QUIT = encodeCommand({ type: 'quit' });
const EMPTY_BODYEOB: MilterCommand = { type: 'bodyeob', chunk: Buffer.alloc(0) };
const ignore = (): void => undefined;

function changeFor(r: MilterResponse): Change {
  switch (r.type) {
    case 'addHeader':
      return { kind: 'addHeader', name: r.name, value: r.value };
    case 'insertHeader':
      return { kind: 'insertHeader', index: r.index, name: r.name, value: r.value };
    case 'changeHeader':
      return r.value === ''
        ? { kind: 'deleteHeader', index: r.index, name: r.name }
        : { kind: 'changeHeader', index: r.index, name: r.name, value: r.value };
    case 'addRecipient':
      return { kind: 'addRecipient', recipient: r.recipient };
    case 'addRecipientPar':
      return r.args ? { kind: 'addRecipient', recipient: r.recipient, args: r.args } : { kind: 'addRecipient', recipient: r.recipient };
    case 'deleteRecipient':
      return { kind: 'deleteRecipient', recipient: r.recipient };
    case 'changeSender':
      return r.args ? { kind: 'changeSender', sender: r.sender, args: r.args } : { kind: 'changeSender', sender: r.sender };
    case 'quarantine':
      return { kind: 'quarantine', reason: r.reason };
    default:
      throw new Error(`not a change: ${r.type}`);
  }
}

