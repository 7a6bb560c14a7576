/**
 * Helpers for tests that talk to a live MilterServer byte by byte: a raw MTA-side socket, a logger
 * that captures its lines, a recording filter and a Postfix-like session.
 */
import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { defineFilter, type StageHandlers } from '../../src/mail/define-filter.js';
import type { Wants } from '../../src/mail/capabilities.js';
import type { Filter } from '../../src/mail/filter.js';
import { EVENT_STAGES } from '../../src/mail/stage.js';
import type { Logger } from '../../src/mail/logger.js';
import { encodeCommand, type MilterCommand } from '../../src/milter/commands.js';
import { Command } from '../../src/milter/constants.js';
import { PacketDecoder, type Packet } from '../../src/milter/packet.js';
import { decodeResponse, type MilterResponse } from '../../src/milter/responses.js';
import { MilterServer, type MilterServerOptions } from '../../src/milter/server.js';

export interface LogLine {
  readonly level: number;
  readonly msg?: string;
  readonly conn?: number;
  readonly [key: string]: unknown;
}

/** A pino logger writing parsed JSON lines into an array (synchronously). */
export function captureLogger(): { logger: Logger; lines: LogLine[]; warns(): LogLine[]; errors(): LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return {
    logger,
    lines,
    warns: () => lines.filter((l) => l.level === 40),
    errors: () => lines.filter((l) => l.level === 50),
  };
}

export async function startServer(
  filter: Filter,
  options: MilterServerOptions = {},
): Promise<{ server: MilterServer; port: number; close(): Promise<void> }> {
  const server = new MilterServer(filter, { drainTimeout: 1, ...options });
  const spec = await server.listen('inet:0@127.0.0.1');
  if (spec.type !== 'inet') throw new Error('expected an inet spec');
  return { server, port: spec.port, close: () => server.close() };
}

/** Raw MTA side: writes bytes, collects the server's packets, notices when the server closes. */
export class RawPeer {
  readonly received: Packet[] = [];
  readonly closed: Promise<void>;
  isClosed = false;
  private readonly decoder = new PacketDecoder(16 * 1024 * 1024);
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      for (const p of this.decoder.push(d)) this.received.push(p);
      this.wake();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      }),
    );
  }

  static open(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1', noDelay: true });
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new RawPeer(s));
      });
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(...items: (MilterCommand | Buffer)[]): void {
    this.socket.write(Buffer.concat(items.map((c) => (Buffer.isBuffer(c) ? c : encodeCommand(c)))));
  }

  /** The next packet from the server; rejects on close or after `ms`. */
  async next(ms = 2000): Promise<Packet> {
    const deadline = Date.now() + ms;
    for (;;) {
      const p = this.received.shift();
      if (p) return p;
      if (this.isClosed) throw new Error('connection closed while waiting for a packet');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no packet within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async response(ms = 2000): Promise<MilterResponse> {
    return decodeResponse(await this.next(ms));
  }

  /** Response types until (and including) the first final one (for end of message). */
  async responsesUntilFinal(ms = 2000): Promise<MilterResponse[]> {
    const out: MilterResponse[] = [];
    for (;;) {
      const r = await this.response(ms);
      out.push(r);
      if (!['progress', 'quarantine', 'addHeader', 'insertHeader', 'changeHeader', 'replaceBody', 'addRecipient', 'addRecipientPar', 'deleteRecipient', 'changeSender'].includes(r.type)) {
        return out;
      }
    }
  }

  /** Waits `ms` and asserts nothing arrived meanwhile. */
  async nothingFor(ms = 60): Promise<Packet[]> {
    await new Promise((r) => setTimeout(r, ms));
    return this.received.splice(0);
  }

  /** Resolves true when the server closed the connection within `ms`. */
  async closedWithin(ms: number): Promise<boolean> {
    if (this.isClosed) return true;
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      this.closed.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]);
    clearTimeout(timer);
    return r;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Postfix's offer. */
export const POSTFIX_OPTNEG: MilterCommand = { type: 'optneg', version: 6, actions: 0x1ff, protocol: 0x1fffff };

/** A Postfix-like session after OPTNEG: macros, connect .. end of message, ABORT, QUIT. */
export function postfixSession(): MilterCommand[] {
  return [
    { type: 'macro', stage: Command.CONNECT, macros: [['j', 'mx.example.net'], ['{daemon_name}', 'mx'], ['v', 'Postfix 3.7.11']] },
    { type: 'connect', hostname: 'client.example.com', family: 'inet', port: 54321, address: '192.0.2.7' },
    { type: 'macro', stage: Command.HELO, macros: [] },
    { type: 'helo', name: 'client.example.com' },
    { type: 'macro', stage: Command.MAIL, macros: [['{mail_addr}', 'a@example.com']] },
    { type: 'mail', args: ['<a@example.com>', 'SIZE=100', 'BODY=8BITMIME'] },
    { type: 'macro', stage: Command.RCPT, macros: [['{rcpt_addr}', 'b@example.org']] },
    { type: 'rcpt', args: ['<b@example.org>'] },
    { type: 'macro', stage: Command.DATA, macros: [['i', '4XYZ']] },
    { type: 'data' },
    { type: 'header', name: 'Subject', value: 'hello' },
    { type: 'header', name: 'X-Empty', value: '' },
    { type: 'eoh' },
    { type: 'body', chunk: Buffer.from('line one\r\nline two\r\n') },
    { type: 'macro', stage: Command.BODYEOB, macros: [['i', '4XYZ']] },
    { type: 'bodyeob', chunk: Buffer.alloc(0) },
    { type: 'abort' },
    { type: 'quit' },
  ];
}

/** Commands of a session that are answered (given no NR flags and every event wanted). */
export const ANSWERED: ReadonlySet<MilterCommand['type']> = new Set([
  'connect',
  'helo',
  'mail',
  'rcpt',
  'data',
  'header',
  'eoh',
  'body',
  'bodyeob',
  'unknown',
]);

export interface Recorder {
  opens: number;
  closes: number;
  aborts: number;
  events: string[];
}

/** A defineFilter whose sessions record open/close/abort and the events they see. */
export function recordingFilter(
  wants: Wants,
  handlers: (rec: Recorder) => StageHandlers = () => ({}),
): { filter: Filter; rec: Recorder } {
  const rec: Recorder = { opens: 0, closes: 0, aborts: 0, events: [] };
  // Every stage unless the test says otherwise: these tests look at what the MTA sends.
  const filter = defineFilter('recording', { stages: EVENT_STAGES, ...wants }, () => {
    rec.opens++;
    const h = handlers(rec);
    return {
      ...h,
      abort: (ctx) => {
        rec.aborts++;
        return h.abort?.(ctx);
      },
      close: () => {
        rec.closes++;
        return h.close?.();
      },
    };
  });
  return { filter, rec };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until `cond` holds or `ms` pass. */
export async function until(cond: () => boolean, ms = 2000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}
