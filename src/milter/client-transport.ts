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

const identity = (p: Packet): Packet => p;

/**
 * One read buffer for every client connection of the process: a read's callback runs to its end
 * (the decoder copies what it keeps) before the event loop reads the next socket into it.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

export class ClientTransport {
  /** Reads land in READ_BUFFER, reused: the decoder copies what outlives a read (borrowed mode). */
  private readonly decoder = new PacketDecoder(MAX_DATA_SIZE, true);
  private readonly packets: Packet[] = [];
  private waiter: { take: (p: Packet) => unknown; resolve: (v: unknown) => void; reject: (e: Error) => void } | undefined;
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
    socket.on('error', (err) => this.fail('closed', err.message));
    socket.on('close', () => {
      if (!this.ended) this.fail('closed', 'connection closed by the milter');
    });
  }

  static open(spec: ConnectionSpec, name: string, timeoutSeconds: number): Promise<ClientTransport> {
    return new Promise((resolve, reject) => {
      // `onread`: the socket reads into one reused buffer and hands each read straight to the
      // decoder, without a new Buffer, the Readable stream's queue and a 'data' event per read.
      // The transport exists before the first read: it is built in the 'connect' handler, and Node
      // starts reading only after emitting 'connect'.
      let transport: ClientTransport | undefined;
      const onread = {
        buffer: READ_BUFFER,
        callback: (n: number, buf: Buffer): boolean => {
          transport?.onData(buf.subarray(0, n));
          return true;
        },
      };
      const socket =
        spec.type === 'unix'
          ? connect({ path: spec.path, onread })
          : connect({ port: spec.port, host: spec.host, noDelay: true, lookup: milterLookup, onread });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new MilterClientError('timeout', name, 'connect', `no connection within ${timeoutSeconds} s`));
      }, timerDelay(timeoutSeconds * 1000));
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        transport = new ClientTransport(socket, name);
        resolve(transport);
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
    return this.expect(timeoutSeconds, identity);
  }

  /**
   * Feeds the milter's packets to `take`, synchronously as each arrives, until it returns a value;
   * resolves with that value (rejects with what it throws). One promise per reply awaited instead of
   * one per packet: progress, quarantine and end-of-message changes are handled in the same call
   * as the data that carried them. `timeoutSeconds` bounds the wait for each packet, as before.
   */
  expect<T>(timeoutSeconds: number, take: (p: Packet) => T | undefined): Promise<T> {
    if (this.failure || this.ended) return Promise.reject(this.closedError());
    while (this.packets.length > 0) {
      let done: T | undefined;
      try {
        done = take(this.packets.shift()!);
      } catch (err) {
        return Promise.reject(err as Error);
      }
      if (done !== undefined) return Promise.resolve(done);
    }
    return new Promise<T>((resolve, reject) => {
      this.waiter = { take: take as (p: Packet) => unknown, resolve: resolve as (v: unknown) => void, reject };
      this.arm(timeoutSeconds);
    });
  }

  /** One timer per connection, re-armed per wait: cheaper than a new timer every round trip. */
  private arm(timeoutSeconds: number): void {
    if (this.timer !== undefined && this.timerSeconds === timeoutSeconds) {
      this.timer.refresh();
    } else {
      clearTimeout(this.timer);
      this.timerSeconds = timeoutSeconds;
      this.timer = setTimeout(() => this.onTimeout(), timerDelay(timeoutSeconds * 1000)).unref();
    }
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
    for (let i = 0; i < got.length; i++) {
      const w = this.waiter;
      if (!w) {
        for (; i < got.length; i++) this.packets.push(got[i]!);
        return;
      }
      let done: unknown;
      try {
        done = w.take(got[i]!);
      } catch (err) {
        if (this.waiter === w) this.waiter = undefined;
        w.reject(err as Error);
        continue;
      }
      if (done === undefined) {
        // A packet that does not end the wait (progress, a change) gives the milter its time again.
        if (this.waiter === w) this.arm(this.timerSeconds);
        continue;
      }
      this.waiter = undefined;
      // The timer stays armed (onTimeout ignores it with no waiter) so the next wait can refresh() it.
      w.resolve(done);
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

  /**
   * Sends the last bytes and closes the connection. As Postfix closes a milter (QUIT, then close(2)):
   * once the bytes are in the kernel nothing more is read or owed, so no shutdown(2) and no wait for
   * the milter's end of the stream. Bytes still queued in Node (a full socket) go out with end().
   */
  end(last?: Buffer): void {
    if (this.failure || this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    // A reply still awaited (the session closed mid-stage) fails now: nothing else would settle it.
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(this.closedError());
    if (last) this.socket.write(last);
    if (this.socket.writableLength === 0) this.socket.destroy();
    else this.socket.end();
  }
}
