/**
 * One connection to clamd: connect within the connect timeout, write a request, read one
 * NUL-terminated reply. While clamd owes progress (taking more bytes, or its reply) it may not stay
 * silent longer than the read timeout. Outside a session clamd answers one command per connection,
 * so the socket ends with the reply; a session connection (zIDSESSION) takes one request after
 * another, each reply numbered, and stays open in between.
 */
import { connect, type Socket } from 'node:net';
import type { ConnectionSpec } from '../../config/connection-spec.js';
import { monotonicNow, unwatch, watch, type Expiring } from '../../mail/deadlines.js';
import { takeReply, ZEND, ZIDSESSION } from './protocol.js';

const TIMED_OUT = 'COMMAND READ TIMED OUT';

export interface ClamdTimeouts {
  readonly connectMs: number;
  /** Longest silence while clamd should take bytes or reply (clamav-milter's ReadTimeout). */
  readonly readMs: number;
}

/** Where a request failed: `connect` failures make the pool try the next address. */
export type ClamdPhase = 'connect' | 'exchange';

export class ClamdError extends Error {
  override readonly name = 'ClamdError';
  constructor(
    readonly phase: ClamdPhase,
    readonly address: string,
    /** What went wrong, without the address. */
    readonly reason: string,
    /**
     * clamd took none of the request: it closed the connection while it was idle, or said its
     * ReadTimeout ran out waiting for a command. The request may be sent again. A connection that
     * ends while a request is on it is not `dropped`: clamd may have died of that very message.
     */
    readonly dropped = false,
  ) {
    super(`clamd ${address}: ${reason}`);
  }
}

export function describeAddress(spec: ConnectionSpec): string {
  if (spec.type === 'unix') return `unix:${spec.path}`;
  return spec.family === 6 ? `inet6:${spec.port}@[${spec.host}]` : `inet:${spec.port}@${spec.host}`;
}

/**
 * One connection to clamd, opened before it is needed: clamav-milter connects when the message
 * starts, so connecting overlaps the MTA's round trips instead of delaying end of message. A request
 * may be written in parts as it becomes known (a message streamed as the MTA hands it over); bytes
 * written before the connection is up wait in the socket until it is.
 */
export class ClamdConnection implements Expiring {
  readonly address: string;
  /** Why the connection failed or ended, once it has; `phase` tells whether clamd ever saw a byte. */
  failure: ClamdError | undefined;
  /** When it last finished a request (for the pool's idle sweep). */
  idleSince = 0;
  /** When the wait under way (connect, or clamd owing progress) times out; see armReadTimer. */
  deadline = 0;
  private readonly socket: Socket;
  private isConnected = false;
  private closed = false;
  /** A request is being written or answered. */
  private busy = false;
  /** Requests answered so far (a session numbers its replies from 1). */
  private answered = 0;
  private received: Buffer = Buffer.alloc(0);
  /** The reply to the current request, once complete (it may come before the request is: "size limit exceeded"). */
  private replyText: string | undefined;
  private replyWaiter: { resolve(reply: string): void; reject(err: ClamdError): void } | undefined;
  private drainWaiter: (() => void) | undefined;
  /** Waiting for the connection to come up or fail (whenSettled). */
  private settleWaiters: Array<() => void> = [];

  constructor(
    spec: ConnectionSpec,
    private readonly timeouts: ClamdTimeouts,
    /** Open a clamd session (zIDSESSION), so the connection can take request after request. */
    readonly session = false,
  ) {
    this.address = describeAddress(spec);
    this.socket = spec.type === 'unix' ? connect({ path: spec.path }) : connect({ host: spec.host, port: spec.port, noDelay: true });
    // One deadline serves both waits: for the connection, then for clamd (armReadTimer).
    this.deadline = monotonicNow() + timeouts.connectMs;
    watch(this);
    this.socket.once('connect', () => {
      this.isConnected = true;
      if (this.replyWaiter !== undefined || this.drainWaiter !== undefined) this.armReadTimer();
      else unwatch(this);
      this.settled();
    });
    this.socket.on('data', (data: Buffer) => this.onData(data));
    this.socket.on('drain', () => this.onDrain());
    this.socket.on('error', (err: NodeJS.ErrnoException) => {
      const text = err.code && !err.message.includes(err.code) ? `${err.code} (${err.message})` : err.message;
      // clamd answers "INSTREAM size limit exceeded" and closes; a write still under way can fail before that reply is read.
      const reset = this.isConnected && (err.code === 'EPIPE' || err.code === 'ECONNRESET');
      const hint = reset && this.busy ? ' while sending; clamd does this when a stream exceeds its StreamMaxLength' : '';
      this.fail(`${text}${hint}`, reset && this.tookNothing());
    });
    // clamd ending a kept session while it is idle: not to be taken for the next message.
    this.socket.on('end', () => {
      if (!this.busy) this.fail('closed the connection while idle', true);
    });
    this.socket.on('close', () => {
      if (this.received.length === 0 || this.timedOut()) this.fail('closed the connection without a reply', this.tookNothing());
      else this.fail(`closed the connection in the middle of its reply (${JSON.stringify(this.received.toString('latin1', 0, 80))})`);
    });
    if (session) this.socket.write(ZIDSESSION);
  }

  /** Still connecting. */
  get connecting(): boolean {
    return !this.isConnected && !this.closed;
  }

  /** Ready for a request: none under way, and not failed or closed (clamd may close an idle connection). */
  usable(): boolean {
    return !this.busy && !this.closed;
  }

  /** Resolves once the connection is up, or has failed or closed; never rejects. */
  whenSettled(): Promise<void> {
    if (this.isConnected || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => this.settleWaiters.push(resolve));
  }

  /**
   * Writes the next bytes of the request (several buffers go out in one vectored write). False when
   * the socket's buffer is full: wait for `drained()` before writing more. Once the connection has
   * ended (failed, or clamd already replied), bytes are dropped and true is returned.
   */
  write(parts: readonly Buffer[]): boolean {
    if (this.closed) return true;
    if (!this.busy) {
      this.busy = true;
      this.replyText = undefined;
    }
    if (parts.length === 1) return this.socket.write(parts[0]!);
    this.socket.cork();
    let room = true;
    for (const b of parts) room = this.socket.write(b);
    this.socket.uncork();
    return room;
  }

  /**
   * Resolves when the socket can take more, or the connection has ended; never rejects (a failure
   * shows in `reply()`). clamd not reading for the read timeout ends the connection.
   */
  drained(): Promise<void> {
    if (this.closed || !this.socket.writableNeedDrain) return Promise.resolve();
    this.armReadTimer();
    return new Promise<void>((resolve) => {
      this.drainWaiter = resolve;
    });
  }

  /** clamd's one reply to what was written (a session's number taken off); the read timeout runs from now. */
  reply(): Promise<string> {
    if (this.replyText !== undefined) return Promise.resolve(this.replyText);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new ClamdError('exchange', this.address, 'connection closed before the reply'));
    this.armReadTimer();
    return new Promise<string>((resolve, reject) => {
      this.replyWaiter = { resolve, reject };
    });
  }

  /** Sends a whole request and resolves with clamd's one reply. */
  send(request: readonly Buffer[]): Promise<string> {
    if (!this.usable()) return Promise.reject(new ClamdError(this.isConnected ? 'exchange' : 'connect', this.address, 'connection already used or closed'));
    this.write(request);
    return this.reply();
  }

  /** Ends the connection (a session politely, with zEND, when no request is under way). */
  close(): void {
    if (this.closed) return;
    if (this.session && this.isConnected && !this.busy) {
      this.closed = true;
      unwatch(this);
      this.socket.end(ZEND, () => this.socket.destroy());
      return;
    }
    this.finish();
  }

  /** clamd took none of the request: none was on the connection, or clamd says it timed out waiting for one. */
  private tookNothing(): boolean {
    return !this.busy || this.timedOut();
  }

  /**
   * An idle session past clamd's ReadTimeout gets "COMMAND READ TIMED OUT" (newline-ended, unasked)
   * before clamd closes it: a request written just then was not taken.
   */
  private timedOut(): boolean {
    return this.session && this.received.toString('latin1', 0, TIMED_OUT.length) === TIMED_OUT;
  }

  /** The wait under way timed out (called by the shared deadline check). */
  expire(): void {
    this.fail(this.isConnected ? `no answer within ${this.timeouts.readMs / 1000} s` : `no connection within ${this.timeouts.connectMs / 1000} s`);
  }

  /** Before the connection is up, the connect timeout runs; the read timeout starts once it is. */
  private armReadTimer(): void {
    if (!this.isConnected) return;
    this.deadline = monotonicNow() + this.timeouts.readMs;
    watch(this);
  }

  private onDrain(): void {
    const waiter = this.drainWaiter;
    if (waiter === undefined) return;
    this.drainWaiter = undefined;
    if (this.replyWaiter === undefined) unwatch(this); // the MTA may be slow to send more: not clamd's silence
    waiter();
  }

  private onData(data: Buffer): void {
    // Any byte from clamd is progress: the silence it may keep runs from here.
    if (this.replyWaiter !== undefined) this.deadline = monotonicNow() + this.timeouts.readMs;
    this.received = this.received.length === 0 ? data : Buffer.concat([this.received, data]);
    if (!this.busy) {
      // Nothing of ours was taken (an idle session past clamd's ReadTimeout says so, then closes).
      this.fail('spoke before it was asked anything', true);
      return;
    }
    let reply: string | undefined;
    try {
      reply = takeReply(this.received);
    } catch (err) {
      this.fail(`garbage reply: ${(err as Error).message}`);
      return;
    }
    if (reply === undefined) return;
    const waiter = this.replyWaiter;
    this.replyWaiter = undefined;
    this.answered++;
    const id = this.session ? `${this.answered}: ` : '';
    if (this.session && reply.startsWith(id)) {
      const extra = this.received.length > Buffer.byteLength(reply, 'latin1') + 1;
      reply = reply.slice(id.length);
      // The connection takes the next request only after a normal answer to a whole request: clamd
      // closes it after an ERROR, and one that answers early (size limit) gave up on the rest. Only
      // such an early answer is kept for reply(): a kept connection carries no verdict to the next message.
      if (waiter === undefined || extra || reply.endsWith(' ERROR')) {
        this.replyText = reply;
        this.finish();
      } else {
        this.busy = false;
        this.received = Buffer.alloc(0);
        unwatch(this);
      }
    } else {
      // Outside a session; or a session reply without its number, from something that is not clamd
      // as we know it: the text is still the answer (to be reported), but the connection is done.
      this.replyText = reply;
      this.finish();
    }
    waiter?.resolve(reply);
  }

  /** Ends the connection; a request in flight fails with `message`. */
  private fail(message: string, dropped = false): void {
    if (this.closed) return;
    const err = new ClamdError(this.isConnected ? 'exchange' : 'connect', this.address, message, dropped);
    this.failure = err;
    this.finish(err);
  }

  /** Ends the connection; a reply still awaited fails with `err` (never left hanging). */
  private finish(err?: ClamdError): void {
    if (this.closed) return;
    this.closed = true;
    const waiter = this.replyWaiter;
    this.replyWaiter = undefined;
    waiter?.reject(err ?? new ClamdError('exchange', this.address, 'connection closed before the reply'));
    unwatch(this);
    this.socket.destroy();
    const drain = this.drainWaiter;
    this.drainWaiter = undefined;
    drain?.();
    this.settled();
  }

  private settled(): void {
    const waiters = this.settleWaiters;
    if (waiters.length === 0) return;
    this.settleWaiters = [];
    for (const w of waiters) w();
  }
}
