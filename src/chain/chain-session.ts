/**
 * One SMTP session through the chain (milter-manager §7): envelope stages go to every live child at
 * once and their answers are merged; the message stages run through the children in chain order,
 * each seeing the changes of those before it (applied by the message editor of mail/); the MTA
 * receives the net difference. How the message stages overlap without changing that order is told
 * at runMessage.
 */
import { applyChanges } from '../mail/apply-changes.js';
import type { Change, EndOfMessageResult } from '../mail/changes.js';
import type { ConnectionInfo } from '../mail/connection.js';
import type { Action, Capabilities, FilterSession, SessionContext } from '../mail/filter.js';
import { emptyEnvelope } from '../mail/envelope.js';
import { HeaderList, type Header } from '../mail/header-list.js';
import { NO_MACROS, type Macros } from '../mail/macros.js';
import { MessageBody } from '../mail/message-body.js';
import { Message } from '../mail/message.js';
import { ACCEPT, CONTINUE, DISCARD, type Reply } from '../mail/reply.js';
import type { EventStage, MacroStage } from '../mail/stage.js';
import type { Chain } from './chain.js';
import { ChildRun, type ChildOutcome } from './child-run.js';
import type { ConditionContext, ConditionStage } from './condition.js';
import { mergeCapabilities } from './negotiation.js';
import { HIDDEN_ID, headerChanges, type BufferedHeader } from './net-changes.js';
import { fallbackReply, isFinal, stronger } from './merge.js';
import { END_OF_HEADERS, MessageFeed, type FeedStep } from './message-feed.js';
import { SessionStats } from './session-stats.js';

type EnvelopeStage = 'connect' | 'helo' | 'mail' | 'rcpt' | 'data' | 'unknown';

const MACRO_STAGE: Record<EnvelopeStage, MacroStage> = {
  connect: 'connect',
  helo: 'helo',
  mail: 'mail',
  rcpt: 'rcpt',
  data: 'data',
  unknown: 'unknown',
};

const REFUSED = new Set(['reject', 'tempfail', 'discard']);
/** At end of message, tell the MTA we are alive between children at most this often. */
const PROGRESS_EVERY_MS = 1000;
/**
 * Body bytes a streamed child may have queued once the message's own copy went to a temporary file:
 * beyond this the MTA's body packet is answered when the child has caught up, so a slow child does
 * not hold a large body in memory (four of the MTA's 64 KiB chunks).
 */
const FEED_QUEUE_LIMIT = 256 * 1024;
/** The outcome of a child whose part ended without a verdict or changes (accepted, stopped, aborted). */
const NO_CHANGES: ChildOutcome = Object.freeze({ changes: Object.freeze([]) as readonly Change[] });
/** The change kinds that alter what a later child sees, and the action each needs (SMFIF_ADDHDRS, CHGHDRS, CHGBODY). */
const MESSAGE_EDIT_ACTION: Partial<Record<Change['kind'], Action>> = {
  addHeader: 'addHeader',
  insertHeader: 'addHeader',
  changeHeader: 'changeHeader',
  deleteHeader: 'changeHeader',
  replaceBody: 'changeBody',
};

export class ChainSession implements FilterSession {
  private readonly runs: ChildRun[];
  private mtaMacros: Macros = NO_MACROS;
  private progressMta: () => Promise<void> = () => Promise.resolve();
  private mtaLeadingSpace = false;
  /** Children that failed to negotiate: their fallbacks are owed at the first stage. */
  private pendingFallbacks: Reply[] = [];
  /** A discard is owed (a dead child's fallback, or a DISCARD at connect/helo): every message gets it. */
  private discardMessages = false;
  private connection: ConnectionInfo | undefined;
  private heloName: string | undefined;
  private rcptSeen = false;
  /**
   * The message in flight: its envelope (the recipients the chain accepted), header fields with their
   * original positions (BufferedHeader ids), body.
   */
  private current: Message | undefined;
  /** MAIL was given for the message in flight: its sender may be '' (the null sender <>, as Postfix's non_smtpd_milters path sends it). */
  private senderGiven = false;
  /** Spill files of earlier messages being removed; close() waits for them. */
  private disposing: Promise<unknown> | undefined;
  private finalStatus: Reply['status'] = 'continue';
  private readonly started = process.hrtime.bigint();
  private readonly stats = new SessionStats();
  private closed = false;
  /** The children the message in flight is streamed to (startFeeds), once its first header, end of headers or body came. */
  private fedRuns: ChildRun[] | undefined;
  /** A verdict ended the message in flight: children still at work stop before their next command. */
  private halted = false;

  constructor(
    private readonly chain: Chain,
    private readonly onClose: () => void,
  ) {
    const base: Macros = {
      get: (n) => this.mtaMacros.get(n),
      all: () => this.mtaMacros.all(),
      forStage: (s) => this.mtaMacros.forStage(s),
    };
    this.runs = chain.children.map((def) => new ChildRun(def, base, () => this.progressMta()));
  }

  async negotiate(offer: Capabilities): Promise<Capabilities> {
    await Promise.all(
      this.runs.map(async (run) => {
        if (this.chain.isDown(run.def.name)) {
          run.dead = true;
          run.lastStatus = 'fallback';
          this.owe(run);
          return;
        }
        try {
          run.session = await run.def.filter.open();
          run.caps = await run.session.negotiate(offer);
        } catch (err) {
          this.childFailed(run, 'negotiate', err);
          this.owe(run);
        }
      }),
    );
    const conditionStages = new Set<EventStage>();
    for (const run of this.runs) for (const c of run.def.conditions) for (const s of c.stages) conditionStages.add(s);
    const conditionMacros = this.runs.flatMap((run) => run.def.conditions.flatMap((c) => (c.readsMacros ? [c.readsMacros] : [])));
    const live = this.runs.filter((r) => r.caps !== undefined && !r.dead).map((r) => r.caps!);
    // With no child left, or fallbacks owed, the chain must hear connect and MAIL to answer them
    // (a discard can only be given at a message stage).
    if (live.length === 0 || this.pendingFallbacks.length > 0 || this.discardMessages) {
      conditionStages.add('connect');
      conditionStages.add('mail');
    }
    const merged = mergeCapabilities(offer, live, conditionStages, conditionMacros);
    this.mtaLeadingSpace = merged.leadingSpace;
    return merged;
  }

  /**
   * A child that never negotiated: a fallback of accept just drops it; any other is owed at the
   * first stage. With no child alive at all, the manager's fallback answers (milter-manager §8).
   */
  private owe(run: ChildRun): void {
    if (run.def.fallbackStatus === 'discard') this.discardMessages = true;
    else if (run.def.fallbackStatus !== 'accept') this.pendingFallbacks.push(fallbackReply(run.def.fallbackStatus));
  }

  connect(info: ConnectionInfo, ctx: SessionContext): Promise<Reply> {
    this.bind(ctx);
    this.connection = info;
    return this.envelope('connect', (s, c) => s.connect?.(info, c));
  }

  helo(name: string, ctx: SessionContext): Promise<Reply> {
    this.bind(ctx);
    this.heloName = name;
    return this.envelope('helo', (s, c) => s.helo?.(name, c));
  }

  async mail(sender: string, args: readonly string[], ctx: SessionContext): Promise<Reply> {
    this.bind(ctx);
    // A MAIL without an abort after a streamed message: no child may get MAIL before its last answer.
    if (this.fedRuns) await this.stopFeeds();
    this.startMessage();
    this.message.envelope.sender = sender;
    this.message.envelope.senderArgs = args;
    this.stats.mail(sender, ctx.macros);
    this.senderGiven = true;
    for (const run of this.runs) if (run.live) run.inMessage = true;
    return this.envelope('mail', (s, c) => s.mail?.(sender, args, c));
  }

  async rcpt(recipient: string, args: readonly string[], ctx: SessionContext): Promise<Reply> {
    this.bind(ctx);
    this.rcptSeen = true;
    const reply = await this.envelope('rcpt', (s, c) => s.rcpt?.(recipient, args, c), recipient);
    if (reply.status !== 'reject' && reply.status !== 'tempfail') {
      this.message.envelope.recipients.push({ address: recipient, args });
      this.stats.recipient(recipient, ctx.macros);
    }
    return reply;
  }

  async data(ctx: SessionContext): Promise<Reply> {
    this.bind(ctx);
    this.stats.message(ctx.macros);
    // A child that accepted no recipient has no part in the message (milter-manager §7.3).
    if (this.rcptSeen) {
      for (const run of this.runs) {
        if (run.inPlay && run.caps?.stages.has('rcpt') && run.acceptedRecipients === 0) void this.abortChild(run);
      }
    }
    const reply = await this.envelope('data', (s, c) => s.data?.(c));
    // Anything but continue ends the message here: the MTA sends no end of message (an accept included).
    if (reply.status !== 'continue') this.stats.finish(reply.status);
    return reply;
  }

  unknown(command: string, ctx: SessionContext): Promise<Reply> {
    this.bind(ctx);
    return this.envelope('unknown', (s, c) => s.unknown?.(command, c));
  }

  header(name: string, value: string, ctx: SessionContext): Reply {
    this.bind(ctx);
    // Kept as it follows the colon, leading space included, whatever the MTA negotiated.
    const v = this.mtaLeadingSpace ? value : ` ${value}`;
    const headers = this.message.headers;
    // Its id is its place among the fields the MTA sent (the hidden Received on top is not one).
    const h = { name, value: v, id: headers.length - 1 } as BufferedHeader;
    headers.append(h);
    const streamed = this.streamed;
    if (streamed.length > 0) {
      const step: FeedStep = { kind: 'header', header: h };
      for (const run of streamed) run.feed!.push(step);
    }
    return this.contentReply();
  }

  endOfHeaders(ctx: SessionContext): Reply {
    this.bind(ctx);
    for (const run of this.streamed) run.feed!.push(END_OF_HEADERS);
    return this.contentReply();
  }

  async body(chunk: Buffer, ctx: SessionContext): Promise<Reply> {
    this.bind(ctx);
    const body = this.message.body;
    await body.append(chunk);
    const streamed = this.streamed;
    if (streamed.length > 0) {
      const step: FeedStep = { kind: 'body', chunk };
      for (const run of streamed) run.feed!.push(step);
    }
    if (body.spilled) for (const run of streamed) await run.feed!.below(FEED_QUEUE_LIMIT);
    return this.contentReply();
  }

  async endOfMessage(ctx: SessionContext): Promise<EndOfMessageResult> {
    this.bind(ctx);
    this.stats.message(ctx.macros);
    try {
      const result = await this.runMessage();
      this.stats.finish(result.reply.status);
      return result;
    } finally {
      this.endMessage();
    }
  }

  async abort(): Promise<void> {
    await this.stopFeeds();
    await Promise.all(this.runs.filter((r) => r.inMessage && r.live).map((r) => this.abortChild(r)));
    this.endMessage();
    this.stats.abort();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Nothing more is streamed; a step in flight fails quietly when its child is closed (childFailed).
    for (const r of this.fedRuns ?? []) r.feed!.stop();
    await Promise.all(
      this.runs.map(async (r) => {
        if (!r.session || r.dead) return;
        try {
          await r.session.close?.();
        } catch {
          // closing a broken child is best effort
        }
      }),
    );
    await this.current?.dispose();
    await this.disposing;
    this.onClose();
    const children: Record<string, string> = {};
    for (const r of this.runs) children[r.def.name] = r.lastStatus ?? 'none';
    // A message still in flight (the MTA closed without an abort) is listed as aborted.
    this.stats.abort();
    this.chain.logger.info(
      {
        event: 'session',
        status: this.finalStatus,
        children,
        elapsed: Number(process.hrtime.bigint() - this.started) / 1e9,
        client: this.connection?.address ?? this.connection?.path,
        ...this.stats.fields(),
      },
      'session finished',
    );
  }

  /** The MTA side's context: macros and progress for this stage. */
  private bind(ctx: SessionContext): void {
    this.mtaMacros = ctx.macros;
    this.progressMta = () => ctx.progress();
  }

  /**
   * While the message comes: go on if a child will see it, or a streamed child's verdict waits for end
   * of message; else end the MTA's effort early (every child accepted or was stopped).
   */
  private contentReply(): Reply {
    if (this.runs.some((r) => (r.inPlay && r.inMessage) || r.feed?.outcome?.verdict)) return CONTINUE;
    const reply = this.noVote(true);
    // The MTA sends no end of message after this.
    if (reply.status !== 'continue') this.stats.finish(reply.status);
    return reply;
  }

  /** The children the message is streamed to, chosen at its first header, end of headers or body. */
  private get streamed(): readonly ChildRun[] {
    return (this.fedRuns ??= this.startFeeds());
  }

  /**
   * Every child in the message up to the first that may edit it (that one included) sees the message
   * exactly as the MTA sends it, so it gets it now, as it arrives (milter-manager does so for its first
   * child only). A child that reads no header, end of headers or body gets nothing to stream.
   */
  private startFeeds(): ChildRun[] {
    const fed: ChildRun[] = [];
    for (const run of this.runs) {
      if (!run.inPlay || !run.inMessage) continue;
      const wants = run.caps!.stages;
      if (wants.has('header') || wants.has('endOfHeaders') || wants.has('body')) {
        run.feed = new MessageFeed(
          (step) => this.feedStep(run, step),
          (err) => this.failedOutcome(run, 'message', err),
        );
        fed.push(run);
      }
      if (!this.readOnly(run)) break;
    }
    return fed;
  }

  /**
   * Stops streaming: queued steps are dropped and those in flight answered, so that a child never
   * gets ABORT (or the next MAIL) between a command and its reply.
   */
  private async stopFeeds(): Promise<void> {
    const fed = this.fedRuns;
    if (!fed || fed.length === 0) return;
    for (const r of fed) r.feed!.stop();
    await Promise.all(fed.map((r) => r.feed!.settled()));
  }

  private startMessage(): void {
    this.rcptSeen = false;
    // None normally (endMessage); a second MAIL without an abort starts over.
    this.dropMessage();
    for (const r of this.runs) r.resetMessage();
  }

  private endMessage(): void {
    for (const r of this.runs) r.resetMessage();
    this.dropMessage();
  }

  /** The message in flight, made when first needed. */
  private get message(): Message {
    // The MTA's own Received is never sent but counts for inserts (HeaderList): the children's edits
    // land where the MTA would put them, and later children see that order.
    return (this.current ??= new Message(
      emptyEnvelope(),
      new HeaderList([], { hiddenTop: { name: 'Received', value: '', id: HIDDEN_ID } as BufferedHeader }),
      new MessageBody({ memoryLimit: this.chain.options.bodyMemoryLimit }),
    ));
  }

  private dropMessage(): void {
    const old = this.current;
    this.current = undefined;
    this.senderGiven = false;
    this.fedRuns = undefined;
    this.halted = false;
    // Not awaited (the MTA's reply need not wait for an unlink), but close() does.
    if (old?.body.spilled) this.disposing = Promise.all([this.disposing, old.dispose().catch(() => undefined)]);
  }

  private conditionContext(recipient?: string, header?: Header): ConditionContext {
    const envelope = this.current?.envelope;
    return {
      ...(this.connection ? { connection: this.connection } : {}),
      ...(this.heloName !== undefined ? { helo: this.heloName } : {}),
      ...(envelope !== undefined && this.senderGiven ? { sender: envelope.sender } : {}),
      ...(recipient !== undefined ? { recipient } : {}),
      ...(header ? { header } : {}),
      // Made only for a condition that reads it.
      get recipients(): readonly string[] {
        return envelope?.recipients.map((r) => r.address) ?? [];
      },
      macros: this.mtaMacros,
      concurrentSessions: this.chain.concurrentSessions,
    };
  }

  /** Asks a child's conditions; true when the child must not be applied here. */
  private stopped(run: ChildRun, stage: ConditionStage, macroStage: MacroStage, recipient?: string, header?: Header): boolean {
    if (run.def.conditions.length === 0) return false;
    const ctx = this.conditionContext(recipient, header);
    let stop = false;
    for (const c of run.def.conditions) {
      if (!c.stages.has(stage)) continue;
      const v = c.check(stage, ctx);
      if (v.macros) run.macros.set(macroStage, v.macros);
      if (v.stop) stop = true;
    }
    return stop;
  }

  private async envelope(
    stage: EnvelopeStage,
    call: (s: FilterSession, ctx: SessionContext) => Reply | Promise<Reply> | undefined,
    recipient?: string,
  ): Promise<Reply> {
    const messageStage = stage !== 'connect' && stage !== 'helo' && stage !== 'unknown';
    let merged: Reply | undefined;
    for (const f of this.pendingFallbacks.splice(0)) merged = stronger(merged, f);
    if (stage === 'mail' && this.discardMessages) merged = DISCARD;
    const voters: ChildRun[] = [];
    for (const run of this.runs) {
      if (!(messageStage ? run.inPlay : run.live)) continue;
      if (stage !== 'unknown' && this.stopped(run, stage, MACRO_STAGE[stage], recipient)) {
        run.lastStatus = 'stopped';
        if (stage === 'connect' || stage === 'helo') {
          run.sessionDone = true;
          await this.closeChild(run);
        } else if (stage === 'mail') {
          run.messageDone = true;
          await this.abortChild(run);
        } else if (stage === 'data') {
          await this.abortChild(run);
        }
        // At rcpt the child only misses this recipient.
        continue;
      }
      // A child that left this event out takes part without a vote.
      if (run.caps?.stages.has(stage)) voters.push(run);
    }
    const replies = await Promise.all(voters.map((run) => this.ask(run, stage, () => call(run.session!, run.ctx))));
    voters.forEach((run, i) => {
      const reply = replies[i]!;
      this.track(run, stage, reply);
      merged = stronger(merged, this.counted(run, reply));
    });
    merged ??= this.noVote(messageStage);
    if (!messageStage && merged.status === 'discard') {
      // MTAs ignore DISCARD at connect and HELO: it applies to the messages instead.
      this.discardMessages = true;
      merged = CONTINUE;
    }
    if (merged.status === 'discard' || ((stage === 'mail' || stage === 'data') && REFUSED.has(merged.status))) {
      await Promise.all(this.runs.filter((r) => r.inPlay && r.inMessage).map((r) => this.abortChild(r)));
    }
    this.finalStatus = merged.status;
    return merged;
  }

  /**
   * The answer when no child voted: continue while a child still takes part, accept when every
   * child is done, the manager's fallback when none is alive.
   */
  private noVote(messageStage: boolean): Reply {
    if (this.runs.some((r) => (messageStage ? r.inPlay : r.live))) return CONTINUE;
    if (this.runs.some((r) => !r.dead)) return ACCEPT;
    return fallbackReply(this.chain.options.fallbackStatus);
  }

  /** Calls one child; a failure gives its fallback and drops it for the session. */
  private async ask(run: ChildRun, stage: string, call: () => Reply | Promise<Reply> | undefined): Promise<Reply> {
    try {
      return (await call()) ?? CONTINUE;
    } catch (err) {
      this.childFailed(run, stage, err);
      return fallbackReply(run.def.fallbackStatus);
    }
  }

  /** What a child's reply counts as in the merge: in evaluation mode a refusal counts as accept. */
  private counted(run: ChildRun, reply: Reply): Reply {
    if (run.def.evaluationMode && REFUSED.has(reply.status)) {
      this.chain.logger.info({ child: run.def.name, status: reply.status }, 'evaluation mode: refusal counted as accept');
      return ACCEPT;
    }
    return reply;
  }

  /** Updates a child's part after its answer at an envelope stage. */
  private track(run: ChildRun, stage: EnvelopeStage, reply: Reply): void {
    if (run.lastStatus !== 'fallback') run.lastStatus = reply.status;
    if (run.dead) return;
    const final = isFinal(reply.status);
    if (stage === 'connect' || stage === 'helo') {
      if (final) run.sessionDone = true;
    } else if (stage === 'rcpt') {
      if (reply.status === 'continue' || reply.status === 'accept') run.acceptedRecipients++;
      if (reply.status === 'accept' || reply.status === 'discard') run.messageDone = true;
    } else if (stage === 'mail' || stage === 'data') {
      if (final) run.messageDone = true;
    }
  }

  private childFailed(run: ChildRun, stage: string, err: unknown): void {
    run.dead = true;
    // A streamed step cut short by the session's own close is no failure of the child.
    if (this.closed) return;
    const message = (err as Error)?.message ?? String(err);
    run.lastStatus = 'fallback';
    this.chain.logger.warn(
      { child: run.def.name, stage, fallback: run.def.fallbackStatus, err: message },
      `child ${run.def.name} failed at ${stage}; its fallback ${run.def.fallbackStatus} applies`,
    );
    if ((err as { failure?: string })?.failure === 'connect') this.chain.markDown(run.def.name, message);
    void this.closeChild(run);
  }

  private async abortChild(run: ChildRun): Promise<void> {
    run.messageDone = true;
    if (!run.inMessage || !run.session || run.dead) return;
    run.inMessage = false;
    try {
      await run.session.abort?.(run.ctx);
    } catch (err) {
      this.childFailed(run, 'abort', err);
    }
  }

  private async closeChild(run: ChildRun): Promise<void> {
    try {
      await run.session?.close?.();
    } catch {
      // best effort
    }
  }

  /**
   * The message stages, in chain order. Each child sees the message as the children before it left
   * it, and its verdict and changes take effect in chain order, as milter-manager runs them one after
   * another; what overlaps does not change that:
   *
   * - Streamed: every child up to the first that may edit the message, that one included, got the
   *   header, end of headers and body as the MTA sent them (startFeeds); here only what remains (end of
   *   headers if the MTA sent none, then end of message) is left for them. The MTA's header and body
   *   packets are answered at once, so a verdict a streamed child gives mid-message is held until end
   *   of message (milter-manager passes its first child's at once): an earlier child's verdict at end
   *   of message must be able to come first. Once the body is in its temporary file, the MTA's body
   *   packet waits while a streamed child lags more than FEED_QUEUE_LIMIT behind.
   * - Side by side: a child that cannot change what later children see (it negotiated none of add
   *   header, change header, replace body, or it is in evaluation mode, whose changes are dropped) does
   *   not hold up the next one: the next starts on the same message at once. A child that may edit it
   *   is started only when every child before it has ended and their changes are applied, and the
   *   children after it wait for it in turn. Envelope changes (recipients, sender) and quarantine do
   *   not count: later children never see them (milter-manager §7.4).
   * - End of message goes to a child only after every child before it has answered its own end of
   *   message without a verdict, so a child never gets end of message for a message an earlier child
   *   refused. The first verdict in chain order (reject, tempfail, discard; a dead child's fallback)
   *   answers the MTA; every other child still in the message then gets ABORT, as milter-manager aborts
   *   the children of a message that ends early, even those that had already been sent some or all of
   *   it, side by side or streamed, and those that had refused it themselves (Sendmail too aborts
   *   every filter after a refusal). Children still sending stop before their next command.
   * - A child's conditions are asked before each of its stages as before, when that stage is sent to
   *   it (for a streamed child, while the MTA is sending the message); a condition that stops it sends
   *   it ABORT and the other children go on.
   * - A failure (a dead child, a stage timeout, a protocol error) anywhere in the message is that
   *   child's outcome: its fallback, which counts where the child stands in the chain.
   * - Changes a child did not negotiate (add, change, delete header, replace body) are a protocol
   *   error, as from a remote milter: its fallback applies, so a child run side by side cannot change
   *   what a later one saw.
   */
  private async runMessage(): Promise<EndOfMessageResult> {
    // Owed fallbacks the MTA gave no earlier stage for are answered now.
    let owed = this.pendingFallbacks.splice(0).reduce<Reply | undefined>((m, f) => stronger(m, f), undefined);
    if (this.discardMessages) owed = DISCARD;
    if (owed && owed.status !== 'continue' && owed.status !== 'accept') {
      this.finalStatus = owed.status;
      await this.stopFeeds();
      await Promise.all(this.runs.filter((r) => r.inPlay && r.inMessage).map((r) => this.abortChild(r)));
      return { reply: owed, changes: [] };
    }
    const message = this.message;
    const original: readonly Header[] = message.headers.visible.slice();
    // The envelope edits go to the MTA as the children made them, not as a difference: the chain may
    // not have heard every recipient (no child asked for RCPT), the MTA has.
    const envelopeChanges: Change[] = [];
    let sender: Change | undefined;
    let quarantine: Change | undefined;
    let bodyReplaced = false;
    const apply = async (run: ChildRun, changes: readonly Change[]): Promise<void> => {
      if (run.def.evaluationMode) {
        if (changes.length > 0) {
          this.chain.logger.info({ child: run.def.name, changes: changes.map((c) => c.kind) }, 'evaluation mode: changes not applied');
        }
        return;
      }
      if (changes.length > 0) await applyChanges(message, changes, { leadingSpace: run.caps!.leadingSpace });
      for (const c of changes) {
        switch (c.kind) {
          case 'replaceBody':
            bodyReplaced = true;
            break;
          case 'addRecipient':
          case 'deleteRecipient':
            envelopeChanges.push(c);
            break;
          case 'changeSender':
            sender = c;
            break;
          case 'quarantine':
            quarantine = c;
            break;
          default:
            break;
        }
      }
    };
    /** Children started and not yet settled, in chain order. */
    let started: { run: ChildRun; outcome: Promise<ChildOutcome> }[] = [];
    /** Resolves true once every child started so far has ended its part without a verdict. */
    let passed: Promise<boolean> = Promise.resolve(true);
    // Children's own progress is relayed (ClientSession); between children only when one took long.
    let since = performance.now();
    /** Waits for the children started so far, in chain order, applying their changes; the first verdict ends the message. */
    const settle = async (): Promise<Reply | undefined> => {
      const batch = started;
      started = [];
      for (const [i, { run, outcome }] of batch.entries()) {
        if (performance.now() - since >= PROGRESS_EVERY_MS) {
          await this.progressMta();
          since = performance.now();
        }
        const o = await outcome;
        if (o.verdict) {
          this.halted = true;
          await this.stopFeeds();
          // The later ones stop at their next step or before their end of message (`passed`).
          await Promise.all(batch.slice(i + 1).map((b) => b.outcome));
          this.finalStatus = o.verdict.status;
          await Promise.all(this.runs.filter((r) => r !== run && r.inPlay && r.inMessage).map((r) => this.abortChild(r)));
          return o.verdict;
        }
        await apply(run, o.changes);
      }
      return undefined;
    };
    for (const run of this.runs) {
      // A streamed child's part may have ended during the stream (a verdict, or its death): it counts here.
      if (!run.feed && (!run.inPlay || !run.inMessage)) continue;
      const before = passed;
      const outcome = run.feed ? this.finishStreamed(run, before) : this.runChild(run, message, before);
      passed = before.then((ok) => ok && outcome.then((o) => o.verdict === undefined, () => false));
      // Handled now: settle() awaits it only after the children before it, and a rejection meanwhile
      // would be unhandled (fatal on Node); settle() still sees it when it gets there.
      outcome.catch(() => undefined);
      started.push({ run, outcome });
      if (!this.readOnly(run)) {
        const verdict = await settle();
        if (verdict) return { reply: verdict, changes: [] };
      }
    }
    const verdict = await settle();
    if (verdict) return { reply: verdict, changes: [] };
    const changes: Change[] = headerChanges(original, message.headers.all as BufferedHeader[]).map((c) =>
      c.kind === 'addHeader' || c.kind === 'insertHeader' || c.kind === 'changeHeader' ? { ...c, value: this.toMta(c.value) } : c,
    );
    if (bodyReplaced) changes.push({ kind: 'replaceBody', body: await message.body.toBuffer() });
    changes.push(...envelopeChanges);
    if (sender) changes.push(sender);
    if (quarantine) changes.push(quarantine);
    this.finalStatus = 'continue';
    return { reply: CONTINUE, changes };
  }

  /**
   * Its changes cannot alter what later children see: it negotiated no header or body edit, or it is
   * in evaluation mode (its changes are only logged).
   */
  private readOnly(run: ChildRun): boolean {
    const a = run.caps!.actions;
    return run.def.evaluationMode || !(a.has('addHeader') || a.has('changeHeader') || a.has('changeBody'));
  }

  /** One streamed step (MessageFeed); an outcome when it ended the child's part. */
  private feedStep(run: ChildRun, step: FeedStep): Promise<ChildOutcome | undefined> {
    switch (step.kind) {
      case 'header':
        return this.headerStep(run, step.header);
      case 'endOfHeaders':
        return this.endOfHeadersStep(run);
      case 'body':
        return this.bodyStep(run, step.chunk);
    }
  }

  /** A streamed child at end of message: its outcome if its part ended during the stream, else what remains. */
  private async finishStreamed(run: ChildRun, earlierPassed: Promise<boolean>): Promise<ChildOutcome> {
    const ended = await run.feed!.settled();
    return ended ?? this.finishChild(run, earlierPassed);
  }

  /** Sends the buffered message (as the children before it left it) to a child that was not streamed to. */
  private async runChild(run: ChildRun, message: Message, earlierPassed: Promise<boolean>): Promise<ChildOutcome> {
    if (run.caps!.stages.has('header')) {
      for (const h of message.headers.visible) {
        const ended = await this.headerStep(run, h);
        if (ended) return ended;
      }
    }
    const ended = await this.endOfHeadersStep(run);
    if (ended) return ended;
    if (run.caps!.stages.has('body')) {
      for await (const chunk of message.body.read(65535)) {
        const ended = await this.bodyStep(run, chunk);
        if (ended) return ended;
        if (run.bodySkipped) break;
      }
    }
    return this.finishChild(run, earlierPassed);
  }

  private async headerStep(run: ChildRun, h: Header): Promise<ChildOutcome | undefined> {
    if (this.halted) return NO_CHANGES;
    if (!run.caps!.stages.has('header')) return undefined;
    if (this.stopped(run, 'header', 'endOfHeaders', undefined, h)) return this.stopInMessage(run);
    const s = run.session!;
    return this.settleReply(run, await this.ask(run, 'header', () => s.header?.(h.name, this.forChild(run, h.value), run.ctx)));
  }

  /** End of headers, then the conditions asked before the body. */
  private async endOfHeadersStep(run: ChildRun): Promise<ChildOutcome | undefined> {
    if (this.halted) return NO_CHANGES;
    run.headersDone = true;
    if (this.stopped(run, 'endOfHeaders', 'endOfHeaders')) return this.stopInMessage(run);
    if (run.caps!.stages.has('endOfHeaders')) {
      const s = run.session!;
      const ended = this.settleReply(run, await this.ask(run, 'endOfHeaders', () => s.endOfHeaders?.(run.ctx)));
      if (ended) return ended;
    }
    if (this.stopped(run, 'body', 'endOfMessage')) return this.stopInMessage(run);
    return undefined;
  }

  private async bodyStep(run: ChildRun, chunk: Buffer): Promise<ChildOutcome | undefined> {
    if (!run.headersDone) {
      // The MTA sent no end of headers (it was not negotiated): passed here, before the first chunk.
      const ended = await this.endOfHeadersStep(run);
      if (ended) return ended;
    }
    if (this.halted) return NO_CHANGES;
    if (run.bodySkipped || !run.caps!.stages.has('body')) return undefined;
    const s = run.session!;
    const reply = await this.ask(run, 'body', () => s.body?.(chunk, run.ctx));
    if (reply.status === 'skip') {
      run.bodySkipped = true;
      return undefined;
    }
    return this.settleReply(run, reply);
  }

  /** End of message for one child, once every child before it has passed the message. */
  private async finishChild(run: ChildRun, earlierPassed: Promise<boolean>): Promise<ChildOutcome> {
    if (!run.headersDone) {
      const ended = await this.endOfHeadersStep(run);
      if (ended) return ended;
    }
    if (this.halted) return NO_CHANGES;
    if (this.stopped(run, 'endOfMessage', 'endOfMessage')) return this.stopInMessage(run);
    // An earlier child ended the message: this one is aborted instead (settle).
    if (!(await earlierPassed)) return NO_CHANGES;
    let result: EndOfMessageResult;
    try {
      result = (await run.session!.endOfMessage?.(run.ctx)) ?? { reply: CONTINUE, changes: [] };
      const unasked = result.changes.find((c) => {
        const needs = MESSAGE_EDIT_ACTION[c.kind];
        return needs !== undefined && !run.caps!.actions.has(needs);
      });
      if (unasked) throw new Error(`${unasked.kind} without negotiating ${MESSAGE_EDIT_ACTION[unasked.kind]}`);
    } catch (err) {
      this.childFailed(run, 'endOfMessage', err);
      result = { reply: fallbackReply(run.def.fallbackStatus), changes: [] };
    }
    run.inMessage = false;
    const ended = this.settleReply(run, result.reply);
    if (ended?.verdict) return ended;
    return { changes: result.changes };
  }

  /** A reply ends a child's part: accept passes the message on, a refusal ends the message. */
  private settleReply(run: ChildRun, reply: Reply): ChildOutcome | undefined {
    const counted = this.counted(run, reply);
    if (run.lastStatus !== 'fallback') run.lastStatus = reply.status;
    if (REFUSED.has(counted.status)) return { verdict: counted, changes: [] };
    if (counted.status === 'accept') {
      run.messageDone = true;
      return NO_CHANGES;
    }
    return undefined;
  }

  /** A failure thrown out of a streamed step: the child's fallback, as for a failed command. */
  private failedOutcome(run: ChildRun, stage: string, err: unknown): ChildOutcome {
    this.childFailed(run, stage, err);
    return this.settleReply(run, fallbackReply(run.def.fallbackStatus)) ?? NO_CHANGES;
  }

  private async stopInMessage(run: ChildRun): Promise<ChildOutcome> {
    run.lastStatus = 'stopped';
    await this.abortChild(run);
    return NO_CHANGES;
  }

  /** A stored value as a child sees it: without the leading space unless it negotiated HDR_LEADSPC. */
  private forChild(run: ChildRun, value: string): string {
    return run.caps!.leadingSpace || !value.startsWith(' ') ? value : value.slice(1);
  }

  private toMta(value: string): string {
    return this.mtaLeadingSpace || !value.startsWith(' ') ? value : value.slice(1);
  }
}
