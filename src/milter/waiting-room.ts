/**
 * MTA connections waiting for a slot under max_connections. A paused socket is not read, so a peer's
 * hang-up went unnoticed: a waiting connection whose MTA had already given up was later handed a whole
 * filter session (every child connected and negotiated) for no one. So a waiting socket is read, up to
 * a small cap that its OPTNEG and macros fit in many times, and held: EOF is seen at once and the
 * connection dropped from the queue; what was read is put back (unshift) for the session that takes it.
 * A connection waits at most `timeoutMs` (Postfix stops waiting for the OPTNEG reply after its
 * milter_command_timeout, 30 s by default) and at most `capacity` wait at once: the rest are closed,
 * which the MTA takes as an unavailable milter (Postfix's milter_default_action).
 */
import type { Socket } from 'node:net';
import type { Logger } from '../mail/logger.js';

/** Bytes read and held from one waiting connection; beyond it the socket is paused. */
const HOLD_BYTES = 64 * 1024;

interface Waiter {
  readonly socket: Socket;
  readonly since: number;
  readonly chunks: Buffer[];
  held: number;
  readonly onData: (d: Buffer) => void;
  readonly onEnd: () => void;
  readonly onClose: () => void;
}

export interface WaitingRoomOptions {
  readonly timeoutMs: number;
  readonly capacity: number;
  readonly logger: Logger;
}

const ignore = (): void => undefined;

export class WaitingRoom {
  /** In arrival order (a Map keeps insertion order). */
  private readonly queue = new Map<Socket, Waiter>();
  private overflowLogged = false;

  constructor(private readonly opts: WaitingRoomOptions) {}

  get timeoutMs(): number {
    return this.opts.timeoutMs;
  }

  get size(): number {
    return this.queue.size;
  }

  add(socket: Socket): void {
    if (this.queue.size >= this.opts.capacity) {
      // One line per overflow, not one per refused connection: a flood must not flood the log.
      if (!this.overflowLogged) {
        this.opts.logger.warn({ waiting: this.queue.size }, `${this.queue.size} MTA connections already wait for a free slot (max_connections); closing further ones until the queue shrinks`);
        this.overflowLogged = true;
      }
      socket.on('error', ignore);
      socket.destroy();
      return;
    }
    const w: Waiter = {
      socket,
      since: performance.now(),
      chunks: [],
      held: 0,
      onData: (d) => {
        w.chunks.push(d);
        w.held += d.length;
        if (w.held >= HOLD_BYTES) socket.pause();
      },
      onEnd: () => {
        this.opts.logger.debug('MTA closed a connection that was waiting for a free slot');
        this.drop(w);
        socket.destroy();
      },
      onClose: () => this.drop(w),
    };
    socket.on('data', w.onData);
    socket.on('end', w.onEnd);
    socket.on('close', w.onClose);
    socket.on('error', ignore);
    this.queue.set(socket, w);
  }

  /** The longest-waiting connection, paused, with what was read from it put back. */
  next(): Socket | undefined {
    const first = this.queue.values().next();
    if (first.done === true) return undefined;
    const w = first.value;
    this.drop(w);
    w.socket.pause();
    if (w.chunks.length > 0) w.socket.unshift(Buffer.concat(w.chunks));
    return w.socket;
  }

  /** Closes connections that waited longer than the timeout (`now`: performance.now()). */
  sweep(now: number): void {
    for (const w of this.queue.values()) {
      if (now - w.since < this.opts.timeoutMs) break; // the rest arrived later
      this.opts.logger.warn(`MTA connection waited ${this.opts.timeoutMs / 1000} s for a free slot (max_connections); closing it`);
      this.drop(w);
      w.socket.destroy();
    }
  }

  closeAll(): void {
    for (const w of [...this.queue.values()]) {
      this.drop(w);
      w.socket.destroy();
    }
  }

  private drop(w: Waiter): void {
    if (!this.queue.delete(w.socket)) return;
    w.socket.off('data', w.onData);
    w.socket.off('end', w.onEnd);
    w.socket.off('close', w.onClose);
    // The 'error' listener stays: a socket destroyed here may still report one.
    if (this.queue.size < this.opts.capacity / 2) this.overflowLogged = false;
  }
}
