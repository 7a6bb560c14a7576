/** Shared by the spamassassin tests: a message driver for any Filter, fake spamd servers, a log catcher. */
import { createServer, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { FULL_OFFER } from '../../../src/mail/capabilities.js';
import type { EndOfMessageResult } from '../../../src/mail/changes.js';
import type { ConnectionInfo } from '../../../src/mail/connection.js';
import type { Capabilities, Filter } from '../../../src/mail/filter.js';
import type { Logger } from '../../../src/mail/logger.js';
import type { Reply } from '../../../src/mail/reply.js';
import { Command } from '../../../src/milter/constants.js';
import { SPAMASSASSIN_DEFAULTS, type SpamAssassinOptions } from '../../../src/config/builtins/spamassassin.js';
import type { FilterContext } from '../../../src/filters/context.js';
import { context } from '../../milter/helpers.js';

export interface Message {
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string | Buffer;
}

export interface Driven {
  readonly caps: Capabilities;
  readonly connect: Reply;
  readonly mail: Reply;
  /** Undefined when the session ended before end of message (accept at connect or MAIL). */
  readonly eom: EndOfMessageResult | undefined;
}

export interface DriveOptions {
  readonly client?: ConnectionInfo;
  /** Macros sent with MAIL, e.g. {auth_authen}. */
  readonly mailMacros?: readonly [string, string][];
  readonly sender?: string;
  readonly recipients?: readonly string[];
}

export const LOOPBACK_CLIENT: ConnectionInfo = { hostname: 'client.example.net', family: 'inet', address: '192.0.2.10', port: 40000 };

/** Runs one message through `filter` as an MTA would, honouring the stages it negotiated and accept replies. */
export async function drive(filter: Filter, message: Message, opts: DriveOptions = {}): Promise<Driven> {
  const s = await filter.open();
  const ctx = context();
  const caps = await s.negotiate(FULL_OFFER);
  const wants = (st: Parameters<typeof caps.stages.has>[0]) => caps.stages.has(st);
  ctx.store.set(Command.CONNECT, [['j', 'mx.example.org']]);
  try {
    const connect = (wants('connect') && (await s.connect?.(opts.client ?? LOOPBACK_CLIENT, ctx))) || { status: 'continue' as const };
    if (connect.status === 'accept') return { caps, connect, mail: connect, eom: undefined };
    await s.helo?.('client.example.net', ctx);
    ctx.store.set(Command.MAIL, [...(opts.mailMacros ?? [])]);
    const mail = (wants('mail') && (await s.mail?.(opts.sender ?? '<sender@example.net>', [], ctx))) || { status: 'continue' as const };
    if (mail.status === 'accept') return { caps, connect, mail, eom: undefined };
    for (const r of opts.recipients ?? ['<rcpt@example.org>']) if (wants('rcpt')) await s.rcpt?.(r, [], ctx);
    if (wants('data')) await s.data?.(ctx);
    for (const [n, v] of message.headers) if (wants('header')) await s.header?.(n, v, ctx);
    if (wants('endOfHeaders')) await s.endOfHeaders?.(ctx);
    const body = typeof message.body === 'string' ? Buffer.from(message.body, 'utf8') : message.body;
    // Chunks of at most 64 KiB, as the milter protocol delivers them.
    for (let i = 0; i < body.length; i += 65535) if (wants('body')) await s.body?.(body.subarray(i, i + 65535), ctx);
    const eom = await s.endOfMessage?.(ctx);
    await s.abort?.(ctx);
    return { caps, connect, mail, eom };
  } finally {
    await s.close?.();
  }
}

/** The message as RFC 5322 text (for a direct spamd call). */
export function messageBytes(m: Message): Buffer {
  const head = m.headers.map(([n, v]) => `${n}: ${v.replace(/\r?\n/g, '\r\n')}\r\n`).join('');
  return Buffer.concat([Buffer.from(`${head}\r\n`), typeof m.body === 'string' ? Buffer.from(m.body) : m.body]);
}

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** A pino logger that keeps its records (warn = 40, info = 30). */
export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

export interface FakeSpamd {
  readonly port: number;
  readonly spec: string;
  /** Requests received so far (head + body, as read until the client's half-close or our answer). */
  readonly requests: Buffer[];
  close(): Promise<void>;
}

/**
 * A spamd stand-in on 127.0.0.1: `behave` gets each connection once the request is read (on the
 * client's half-close), or at once when `immediate`.
 */
export async function fakeSpamd(behave: (socket: Socket, request: Buffer) => void, immediate = false): Promise<FakeSpamd> {
  const requests: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const chunks: Buffer[] = [];
    if (immediate) {
      behave(socket, Buffer.alloc(0));
      return;
    }
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => {
      const request = Buffer.concat(chunks);
      requests.push(request);
      behave(socket, request);
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    spec: `inet:${port}@127.0.0.1`,
    requests,
    close: () =>
      new Promise<void>((res) => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
}

/** A port nothing listens on: bound once, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((res) => server.close(() => res()));
  return port;
}

/** A filter context for tests: the given logger; DNS and SPF are never used by this filter. */
export function testContext(logger: Logger): FilterContext {
  const unused = (): never => {
    throw new Error('the spamassassin filter must not use DNS or SPF');
  };
  return { logger, dataDir: '/nonexistent', now: Date.now, resolver: unused as unknown as FilterContext['resolver'], spf: unused as unknown as FilterContext['spf'] };
}

/** Options as the config reader would give them, with `overrides`. */
export function spamOptions(overrides: Partial<SpamAssassinOptions> = {}): SpamAssassinOptions {
  return { ...SPAMASSASSIN_DEFAULTS, skipNetworks: [], ...overrides };
}
