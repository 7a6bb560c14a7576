/**
 * One MTA connection on the filter side: decodes commands, keeps the protocol state, drives a
 * FilterSession and writes its replies. Any protocol violation closes this connection only, with
 * one log line; a filter that throws gets a tempfail reply, never a crash.
 */
import type { Socket } from 'node:net';
import type { EndOfMessageResult } from '../mail/changes.js';
import type { ConnectionInfo } from '../mail/connection.js';
import type { Filter, FilterSession, SessionContext } from '../mail/filter.js';
import type { Logger } from '../mail/logger.js';
import { CONTINUE, type Reply } from '../mail/reply.js';
import type { EventStage } from '../mail/stage.js';
import { decodeCommandNoting, type MilterCommand } from './commands.js';
import { MAX_DATA_SIZE, MIN_PROTOCOL_VERSION, ProtocolFlag } from './constants.js';
import { MacroStore } from './macro-store.js';
import { actionsFromBits, negotiateAsFilter, offerFromBits, type FilterNegotiation } from './negotiation.js';
import { FrameError, PacketDecoder, type Packet } from './packet.js';
import { responseForReply } from './reply-code.js';
import { encodeResponse, type MilterResponse } from './responses.js';
import { responsesForChanges } from './server-changes.js';

type State = 'negotiate' | 'session' | 'envelope' | 'content' | 'closed';

export interface ServerConnectionOptions {
  readonly filter: Filter;
  readonly logger: Logger;
  /** Close the connection after this long without traffic between packets (libmilter: 7210 s). */
  readonly idleTimeoutMs: number;
  /** Close it sooner when the MTA stops in the middle of a packet (default: idleTimeoutMs). */
  readonly packetTimeoutMs?: number;
  /** Reply sent when the filter throws. */
  readonly errorReply: Reply;
}

/** Above this many queued packets the socket is paused: a flooding peer cannot exhaust memory. */
const HIGH_WATER = 256;

const CONTINUE_PACKET = encodeResponse({ type: 'continue' });

export class ServerConnection {
  private readonly decoder = new PacketDecoder(MAX_DATA_SIZE);
  private readonly macros = new MacroStore();
  private readonly ctx: SessionContext;
  private readonly queue: Packet[] = [];
  private running = false;
  private state: State = 'negotiate';
  private session: FilterSession | undefined;
  private neg: FilterNegotiation | undefined;
  private offer: { version: number; actions: number; protocol: number } | undefined;
  private allowedActions: ReadonlySet<import('../mail/filter.js').Action> = new Set();
  private connectSeen = false;
  /** The filter left MAIL out: a message begins with whatever message event comes first. */
  private mailMasked = false;
  private finishing: Promise<void> | undefined;
  private owesReply = false;
  private sessionClosed = true;
  /** Resolves when the connection has fully ended (filter session closed). */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    private readonly socket: Socket,
    private readonly opts: ServerConnectionOptions,
    private readonly log: Logger,
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
    this.ctx = { macros: this.macros, progress: () => this.progress() };
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
    socket.on('close', () => this.onClose());
  }

  private oddityLogged = false;

  /** Tolerated malformed input: one line per connection (the first), so a broken MTA cannot flood the log. */
  private readonly noteOddity = (what: string): void => {
    if (this.oddityLogged) return;
    this.oddityLogged = true;
    this.log.warn({ oddity: what }, `malformed input from the MTA tolerated: ${what} (further ones on this connection are not logged)`);
  };

  /** Traffic seen since the last idle sweep (MilterServer checks every connection periodically). */
  private active = true;
  private idleSince = 0;

  /**
   * Called by the server's sweep timer (`now`: the monotonic performance.now()): closes the
   * connection once the peer was silent too long. A stall inside a packet has its own, shorter limit:
   * an MTA waits for a command's reply only so long (Postfix: milter_command_timeout, 30 s), while
   * silence between commands is an SMTP client taking its time.
   */
  checkIdle(now: number): void {
    // Only time spent waiting for the MTA counts: a filter at work is not an idle peer.
    if (this.active || this.running) {
      this.active = false;
      this.idleSince = now;
      return;
    }
    const mid = this.decoder.pending > 0;
    const limit = mid ? Math.min(this.opts.packetTimeoutMs ?? Infinity, this.opts.idleTimeoutMs) : this.opts.idleTimeoutMs;
    if (now - this.idleSince < limit) return;
    this.fail(`peer silent for ${Math.round(limit / 1000)} s${mid ? ' in the middle of a packet' : ''}; closing`);
  }

  private onData(data: Buffer): void {
    this.active = true;
    let packets: Packet[];
    try {
      packets = this.decoder.push(data);
    } catch (err) {
      this.fail(err instanceof FrameError ? err.message : String(err));
      return;
    }
    for (const p of packets) this.queue.push(p);
    if (this.queue.length > HIGH_WATER) this.socket.pause();
    if (!this.running) this.pump();
  }

  /**
   * Handles the queued packets in order, synchronously while none has to wait (macros, a filter
   * answering at once); a packet that waits resumes the pump from its promise. No async function
   * per chunk: the per-packet path costs one promise only where the filter itself returns one.
   */
  private pump(): void {
    this.running = true;
    try {
      while (this.queue.length > 0 && this.state !== 'closed') {
        const pending = this.handle(this.queue.shift()!);
        if (pending !== undefined) {
          pending.then(this.afterWait, this.crashed);
          return;
        }
        this.resumeIfDrained();
      }
    } catch (err) {
      this.crashed(err);
      return;
    }
    this.running = false;
  }

  private readonly afterWait = (): void => {
    this.resumeIfDrained();
    this.pump();
  };

  private readonly crashed = (err: unknown): void => {
    this.running = false;
    this.fail(`internal error: ${(err as Error)?.stack ?? String(err)}`);
  };

  private resumeIfDrained(): void {
    if (this.queue.length < HIGH_WATER / 2 && this.socket.isPaused()) this.socket.resume();
  }

  /** Handles one packet; returns a promise only when it has to wait (keeps the hot path synchronous). */
  private handle(packet: Packet): Promise<void> | undefined {
    let cmd: MilterCommand;
    try {
      cmd = decodeCommandNoting(packet, this.noteOddity);
    } catch (err) {
      this.fail(`bad command from MTA: ${(err as Error).message}`);
      return undefined;
    }
    if (this.state === 'negotiate' && cmd.type !== 'optneg' && cmd.type !== 'macro') {
      if (cmd.type === 'quit' || cmd.type === 'abort') return this.handleQuiet(cmd);
      return this.outOfOrder(cmd.type);
    }
    switch (cmd.type) {
      case 'optneg':
        if (this.state !== 'negotiate') return this.outOfOrder(cmd.type);
        return this.negotiate(cmd);
      case 'macro':
        if (!this.macros.set(cmd.stage, cmd.macros)) {
          this.log.debug({ stage: cmd.stage }, 'macros for an unknown stage ignored');
        }
        return undefined;
      case 'connect': {
        if (this.state !== 'session' || this.connectSeen) return this.outOfOrder(cmd.type);
        this.connectSeen = true;
        const info = connectionInfo(cmd);
        return this.event('connect', (s) => s.connect?.(info, this.ctx));
      }
      case 'helo':
        return this.afterAbort(() => this.event('helo', (s) => s.helo?.(cmd.name, this.ctx)));
      case 'mail':
        return this.afterAbort(() => {
          if (this.state === 'closed') return undefined;
          this.state = 'envelope';
          return this.event('mail', (s) => s.mail?.(cmd.args[0]!, cmd.args.slice(1), this.ctx));
        });
      case 'rcpt':
        if (!this.envelopeOpen()) return this.outOfOrder(cmd.type);
        return this.event('rcpt', (s) => s.rcpt?.(cmd.args[0]!, cmd.args.slice(1), this.ctx));
      case 'data':
        if (!this.envelopeOpen()) return this.outOfOrder(cmd.type);
        this.state = 'content';
        return this.event('data', (s) => s.data?.(this.ctx));
      case 'header':
        if (!this.messageOpen()) return this.outOfOrder(cmd.type);
        this.state = 'content';
        return this.event('header', (s) => s.header?.(cmd.name, cmd.value, this.ctx));
      case 'eoh':
        if (!this.messageOpen()) return this.outOfOrder(cmd.type);
        this.state = 'content';
        return this.event('endOfHeaders', (s) => s.endOfHeaders?.(this.ctx));
      case 'body':
        if (!this.messageOpen()) return this.outOfOrder(cmd.type);
        this.state = 'content';
        return this.event('body', (s) => s.body?.(cmd.chunk, this.ctx));
      case 'bodyeob':
        if (!this.messageOpen()) return this.outOfOrder(cmd.type);
        return this.endOfMessage(cmd.chunk);
      case 'unknown':
        return this.event('unknown', (s) => s.unknown?.(cmd.command, this.ctx));
      case 'abort':
      case 'quit':
      case 'quitNc':
        return this.handleQuiet(cmd);
    }
  }

  /** A method, not a property test, so TypeScript does not narrow it away across awaits. */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private inMessage(): boolean {
    return this.state === 'envelope' || this.state === 'content';
  }

  /**
   * A message has begun, or may begin here because the MTA was told not to send MAIL (a filter
   * that left MAIL out gets RCPT, or only headers, without it).
   */
  private messageOpen(): boolean {
    if (this.inMessage()) return true;
    if (this.state === 'session' && this.mailMasked) {
      this.state = 'envelope';
      return true;
    }
    return false;
  }

  private envelopeOpen(): boolean {
    return this.state === 'envelope' || (this.state === 'session' && this.messageOpen());
  }

  /** HELO and MAIL inside a message end that message first (the MTA skipped ABORT). */
  private afterAbort(next: () => Promise<void> | undefined): Promise<void> | undefined {
    if (!this.inMessage()) return next();
    return this.abortMessage().then(next);
  }

  private async abortMessage(): Promise<void> {
    const wasIn = this.inMessage();
    if (this.state !== 'closed') this.state = 'session';
    this.macros.clearMessage();
    if (wasIn && this.session?.abort) {
      try {
        await this.session.abort(this.ctx);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'filter abort failed');
      }
    }
  }

  private handleQuiet(cmd: MilterCommand): Promise<void> | undefined {
    switch (cmd.type) {
      case 'abort':
        // ABORT outside a message (Postfix sends it after every transaction and before QUIT) is a no-op.
        return this.inMessage() ? this.abortMessage() : undefined;
      case 'quit': {
        const inMessage = this.inMessage();
        this.state = 'closed';
        // libmilter closes on QUIT: nothing is owed, so no shutdown(2) and no wait for the MTA's
        // end of the stream, unless replies are still queued in Node (a full socket).
        if (this.socket.writableLength === 0) this.socket.destroy();
        else this.socket.end();
        return this.finish(inMessage);
      }
      case 'quitNc':
        return this.restartSession();
      default:
        return undefined;
    }
  }

  /** QUIT_NC: the SMTP connection is over but the milter connection stays for the next one. */
  private async restartSession(): Promise<void> {
    await this.abortMessage();
    await this.closeSession();
    this.macros.clearAll();
    this.connectSeen = false;
    if (this.state === 'closed') return;
    this.session = await this.opts.filter.open();
    this.sessionClosed = false;
    if (this.isClosed()) {
      await this.closeSession();
      return;
    }
    // The wire negotiation stays; the new session learns the offer and its answer is not sent.
    await this.session.negotiate(offerFromBits(this.offer!.version, this.offer!.actions, this.offer!.protocol));
  }

  private async negotiate(cmd: Extract<MilterCommand, { type: 'optneg' }>): Promise<void> {
    // Refused before the filter opens: a chain would otherwise offer it to every child, and each
    // healthy child's refusal would be logged as that child failing (libmilter closes here too).
    if (cmd.version < MIN_PROTOCOL_VERSION) {
      this.fail(`MTA offered milter protocol version ${cmd.version}; versions below ${MIN_PROTOCOL_VERSION} are not spoken; closing this connection`);
      return;
    }
    try {
      this.session = await this.opts.filter.open();
      this.sessionClosed = false;
      if (this.isClosed()) {
        // The MTA hung up while the filter was opening: the session still gets its close().
        await this.closeSession();
        return;
      }
      const offer = offerFromBits(cmd.version, cmd.actions, cmd.protocol);
      const wanted = await this.session.negotiate(offer);
      this.neg = negotiateAsFilter(cmd, wanted);
    } catch (err) {
      this.fail(`negotiation failed: ${(err as Error).message}`);
      return;
    }
    if (this.isClosed()) {
      await this.closeSession();
      return;
    }
    this.offer = cmd;
    this.mailMasked = (this.neg.reply.protocol & ProtocolFlag.NOMAIL) !== 0;
    this.allowedActions = actionsFromBits(this.neg.reply.actions);
    this.decoder.setMaxPayload(this.neg.maxDataSize);
    this.state = 'session';
    this.write(encodeResponse({ type: 'optneg', ...this.neg.reply }));
  }

  /** Runs one envelope or content event and answers it as negotiated. */
  private event(
    stage: EventStage,
    call: (s: FilterSession) => Reply | Promise<Reply> | undefined,
  ): Promise<void> | undefined {
    const neg = this.neg!;
    const silent = neg.noReply.has(stage);
    const fake = neg.fakeNoReply.has(stage);
    if (neg.unwanted.has(stage)) {
      if (!silent) this.write(CONTINUE_PACKET);
      return undefined;
    }
    let result: Reply | Promise<Reply> | undefined;
    this.owesReply = !silent;
    try {
      result = call(this.session!);
    } catch (err) {
      result = this.filterError(stage, err);
    }
    if (result instanceof Promise) {
      return result.then(
        (reply) => this.answer(stage, fake ? CONTINUE : reply, silent),
        (err: unknown) => this.answer(stage, fake ? CONTINUE : this.filterError(stage, err), silent),
      );
    }
    // A filter that declared no reply for an event the MTA must hear about gets libmilter's continue.
    this.answer(stage, fake ? CONTINUE : (result ?? CONTINUE), silent);
    return undefined;
  }

  private answer(stage: EventStage, reply: Reply | undefined, silent: boolean): void {
    this.owesReply = false;
    const r = reply ?? CONTINUE;
    if (silent) {
      if (r.status !== 'continue') this.log.debug({ stage, status: r.status }, 'reply to a no-reply event suppressed');
      return;
    }
    if (r === CONTINUE || r.status === 'continue') {
      this.write(CONTINUE_PACKET);
      return;
    }
    if (r.status === 'skip' && !(stage === 'body' && this.neg!.skip)) {
      this.write(CONTINUE_PACKET);
      return;
    }
    this.write(encodeResponse(responseForReply(r)));
  }

  private filterError(stage: EventStage, err: unknown): Reply {
    this.log.error({ stage, err: (err as Error)?.message ?? String(err) }, `filter failed at ${stage}`);
    return this.opts.errorReply;
  }

  private async endOfMessage(lastChunk: Buffer): Promise<void> {
    const s = this.session!;
    if (lastChunk.length > 0 && s.body) {
      // Very old MTAs attach the last body chunk to BODYEOB: libmilter treats it as BODY, then EOM.
      let reply: Reply;
      try {
        reply = (await s.body(lastChunk, this.ctx)) ?? CONTINUE;
      } catch (err) {
        reply = this.filterError('body', err);
      }
      if (reply.status !== 'continue' && reply.status !== 'skip') {
        this.finishMessage();
        this.write(encodeResponse(responseForReply(reply)));
        return;
      }
    }
    let result: EndOfMessageResult;
    this.owesReply = true;
    try {
      result = (await s.endOfMessage?.(this.ctx)) ?? { reply: CONTINUE, changes: [] };
    } catch (err) {
      result = { reply: this.filterError('endOfMessage', err), changes: [] };
    }
    this.owesReply = false;
    this.finishMessage();
    const responses: MilterResponse[] = responsesForChanges(
      result.changes,
      this.allowedActions,
      this.neg!.maxDataSize,
      this.log,
    );
    const final = result.reply.status === 'skip' ? CONTINUE : result.reply;
    responses.push(final === CONTINUE ? { type: 'continue' } : responseForReply(final));
    this.write(responses.length === 1 ? encodeResponse(responses[0]!) : Buffer.concat(responses.map(encodeResponse)));
  }

  private finishMessage(): void {
    if (this.state !== 'closed') this.state = 'session';
    this.macros.clearMessage();
  }

  private progress(): Promise<void> {
    if (this.owesReply && this.state !== 'closed') this.write(encodeResponse({ type: 'progress' }));
    return Promise.resolve();
  }

  private outOfOrder(what: string): undefined {
    this.fail(`command ${what} out of order (state ${this.state}); closing this connection`);
    return undefined;
  }

  private write(buf: Buffer): void {
    if (this.state !== 'closed' && this.socket.writable) this.socket.write(buf);
  }

  /** Closes this connection with one log line; the server and other connections go on. */
  fail(reason: string): void {
    if (this.state === 'closed') return;
    this.log.warn(reason);
    const inMessage = this.inMessage();
    this.state = 'closed';
    this.queue.length = 0;
    this.socket.destroy();
    void this.finish(inMessage);
  }

  /** The socket closed: say so once when the MTA left mid-packet or mid-message. */
  private onClose(): void {
    if (this.state === 'closed') {
      void this.finish(false);
      return;
    }
    const inMessage = this.inMessage();
    if (this.decoder.pending > 0) this.log.warn(`MTA closed the connection in the middle of a packet`);
    else if (inMessage) this.log.warn('MTA closed the connection in the middle of a message');
    this.state = 'closed';
    this.queue.length = 0;
    void this.finish(inMessage);
  }

  /** Asks the MTA side politely to go: used on server shutdown once no reply is owed. */
  get idle(): boolean {
    return !this.running && this.queue.length === 0 && !this.inMessage();
  }

  destroy(): void {
    const inMessage = this.inMessage();
    this.state = 'closed';
    this.socket.destroy();
    void this.finish(inMessage);
  }

  /** Ends the filter session once: abort() first when a message was open, then close(). */
  private finish(inMessage: boolean): Promise<void> {
    this.finishing ??= this.doFinish(inMessage);
    return this.finishing;
  }

  private async doFinish(inMessage: boolean): Promise<void> {
    this.state = 'closed';
    if (inMessage && this.session?.abort && !this.sessionClosed) {
      try {
        await this.session.abort(this.ctx);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'filter abort failed');
      }
    }
    await this.closeSession();
    this.resolveDone();
  }

  private async closeSession(): Promise<void> {
    if (this.sessionClosed || this.session === undefined) return;
    this.sessionClosed = true;
    try {
      await this.session.close?.();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'filter close failed');
    }
  }
}

function connectionInfo(cmd: Extract<MilterCommand, { type: 'connect' }>): ConnectionInfo {
  switch (cmd.family) {
    case 'inet':
    case 'inet6':
      return { hostname: cmd.hostname, family: cmd.family, address: cmd.address, port: cmd.port };
    case 'unix':
      return { hostname: cmd.hostname, family: 'unix', path: cmd.address, port: 0 };
    case 'unknown':
      return { hostname: cmd.hostname, family: 'unknown' };
  }
}
