/**
 * A socket to a remote milter with milter-manager's four timeouts: connecting, writing a packet,
 * reading a reply, and the whole end of message. Every failure becomes one MilterClientError.
 */
import { connect, type Socket } from 'node:net';
import { MilterClientError } from './client-errors.js';
import { MAX_DATA_SIZE } from './constants.js';
import { milterLookup } from './lookup-cache.js';
import { FrameError, PacketDecoder, type Packet } from './packet.js';
import type { ConnectionSpec } from './spec.js';

import { DEFAULT_TIMEOUTS, type Timeouts } from '../config/timeouts.js';
import { timerDelay } from '../config/timer-limit.js';

export { DEFAULT_TIMEOUTS, type Timeouts };

export class ClientTransport {
  private readonly decoder = new PacketDecoder(MAX_DATA_SIZE);
  private readonly packets: Packet[] = [];
  private waiter: { resolve: (p: Packet) => void; reject: (e: Error) => void } | undefined;
  private failure: MilterClientError | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerSeconds = 0;
  /** end() was called: no MilterClientError is built unless someone still reads or writes. */
  private ended = false;
  stage = 'negotiate';

  private constructor(
    private readonly socket: Socket,
    private readonly name: string,
  ) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (err) => this.fail('closed', err.message));
    socket.on('close', () => {
      if (!this.ended) this.fail('closed', 'connection closed by the milter');
    });
  }

  static open(spec: ConnectionSpec, name: string, timeoutSeconds: number): Promise<ClientTransport> {
    return new Promise((resolve, reject) => {
      const socket =
        spec.type === 'unix' ? connect(spec.path) : connect({ port: spec.port, host: spec.host, noDelay: true, lookup: milterLookup });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new MilterClientError('timeout', name, 'connect', `no connection within ${timeoutSeconds} s`));
      }, timerDelay(timeoutSeconds * 1000));
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new ClientTransport(socket, name));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new MilterClientError('connect', name, 'connect', err.message));
      });
    });
  }

  setMaxPayload(max: number): void {
    this.decoder.setMaxPayload(max);
  }

  /** Writes, waiting for the socket to drain within the writing timeout when its buffer is full. */
  write(buf: Buffer, timeoutSeconds: number): Promise<void> | undefined {
    if (this.failure || this.ended) throw this.closedError();
    // Nothing is owed to us between commands: a packet waiting here answers something we never
    // asked (e.g. a reply to a no-reply event) and would be taken as the next reply.
    if (this.packets.length > 0) throw this.fail('protocol', `unsolicited packet 0x${this.packets[0]!.code.toString(16)} from the milter`);
    if (this.socket.write(buf)) return undefined;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = this.fail('timeout', `write not accepted within ${timeoutSeconds} s`);
        reject(err);
      }, timerDelay(timeoutSeconds * 1000));
      this.socket.once('drain', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The next packet from the milter, within `timeoutSeconds`. */
  read(timeoutSeconds: number): Promise<Packet> {
    if (this.failure || this.ended) return Promise.reject(this.closedError());
    const ready = this.packets.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      // One timer per connection, re-armed per read: cheaper than a new timer every round trip.
      if (this.timer !== undefined && this.timerSeconds === timeoutSeconds) {
        this.timer.refresh();
      } else {
        clearTimeout(this.timer);
        this.timerSeconds = timeoutSeconds;
        this.timer = setTimeout(() => this.onTimeout(), timerDelay(timeoutSeconds * 1000)).unref();
      }
    });
  }

  private onTimeout(): void {
    if (this.waiter) this.fail('timeout', `no reply within ${this.timerSeconds} s`);
  }

  private onData(data: Buffer): void {
    let got: Packet[];
    try {
      got = this.decoder.push(data);
    } catch (err) {
      this.fail('protocol', err instanceof FrameError ? err.message : String(err));
      return;
    }
    for (const p of got) {
      const w = this.waiter;
      if (w) {
        this.waiter = undefined;
        // The timer stays armed (onTimeout ignores it with no waiter) so read() can refresh() it.
        w.resolve(p);
      } else {
        this.packets.push(p);
      }
    }
  }

  /** Records the first failure, rejects the pending read, closes the socket; returns the error. */
  fail(kind: MilterClientError['failure'], detail: string): MilterClientError {
    if (!this.failure) {
      this.failure = new MilterClientError(kind, this.name, this.stage, detail);
      this.socket.destroy();
    }
    clearTimeout(this.timer);
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(this.failure);
    return this.failure;
  }

  get failed(): MilterClientError | undefined {
    return this.failure ?? (this.ended ? this.closedError() : undefined);
  }

  private closedError(): MilterClientError {
    return (this.failure ??= new MilterClientError('closed', this.name, this.stage, 'session closed'));
  }

  /** Sends the last bytes and closes our side. */
  end(last?: Buffer): void {
    if (this.failure || this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    if (last) this.socket.end(last);
    else this.socket.end();
  }
}
