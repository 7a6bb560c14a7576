/**
 * Test helpers: a FAKE rspamd (node:http on 127.0.0.1 or a unix socket) that records each request
 * and answers what the test says, and a driver that runs one message through a Filter.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { RSPAMD_DEFAULTS, type RspamdOptions } from '../../../src/config/builtins/rspamd.js';
import { FULL_OFFER } from '../../../src/mail/capabilities.js';
import type { EndOfMessageResult } from '../../../src/mail/changes.js';
import type { ConnectionInfo } from '../../../src/mail/connection.js';
import type { Filter } from '../../../src/mail/filter.js';
import type { Reply } from '../../../src/mail/reply.js';
import { Command } from '../../../src/milter/constants.js';
import { context } from '../../milter/helpers.js';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Raw header pairs, repeated names kept (Rcpt). */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

/** What the fake answers: JSON (object → 200 with that JSON), or full control. */
export type FakeBehaviour =
  | { readonly json: unknown; readonly status?: number }
  | { readonly raw: string | Buffer; readonly status?: number }
  | { readonly handle: (req: IncomingMessage, res: ServerResponse, socket: Socket) => void };

export class FakeRspamd {
  readonly requests: RecordedRequest[] = [];
  behaviour: FakeBehaviour = { json: { action: 'no action', score: 0, required_score: 15, symbols: {} } };
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(where: { socket?: string } = {}): Promise<FakeRspamd> {
    // The server exists before the FakeRspamd that owns it: its handlers look the owner up here.
    const owner: { fake?: FakeRspamd } = {};
    const server = createServer((req, res) => owner.fake!.onRequest(req, res));
    server.on('connection', (s: Socket) => {
      owner.fake?.sockets.add(s);
      s.on('close', () => owner.fake?.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (where.socket !== undefined) server.listen(where.socket, resolve);
      else server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    const url = typeof address === 'object' && address !== null ? `http://127.0.0.1:${address.port}` : 'http://localhost';
    owner.fake = new FakeRspamd(server, url);
    return owner.fake;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  get last(): RecordedRequest {
    const r = this.requests.at(-1);
    if (!r) throw new Error('the fake rspamd got no request');
    return r;
  }

  /** Values of a request header, repeated ones in order (case-insensitive name). */
  static values(req: RecordedRequest, name: string): string[] {
    const out: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i]!.toLowerCase() === name.toLowerCase()) out.push(req.rawHeaders[i + 1]!);
    }
    return out;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks) });
      const b = this.behaviour;
      if ('handle' in b) {
        b.handle(req, res, req.socket);
        return;
      }
      const body = 'json' in b ? JSON.stringify(b.json) : b.raw;
      res.writeHead(b.status ?? 200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function options(overrides: Partial<RspamdOptions> = {}): RspamdOptions {
  return {
    ...RSPAMD_DEFAULTS,
    timeoutSeconds: 2,
    skipAuthenticated: false,
    skipNetworks: [],
    milterBlock: true,
    passAll: false,
    ...overrides,
  };
}

export interface MessageRun {
  readonly connect?: ConnectionInfo;
  readonly helo?: string;
  readonly sender?: string;
  readonly recipients?: readonly string[];
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: string | Buffer;
  /** Macros per stage. */
  readonly macros?: { connect?: [string, string][]; mail?: [string, string][]; eom?: [string, string][] };
}

export interface RunResult {
  readonly replies: Record<string, Reply>;
  /** undefined when an earlier stage ended the message (accept). */
  readonly eom?: EndOfMessageResult;
}

export const CLIENT: ConnectionInfo = { hostname: 'mail.example.net', family: 'inet', address: '192.0.2.10', port: 40000 };

/** Runs one message through `filter` the way an MTA would; stops after an accept/reject before EOM. */
export async function runMessage(filter: Filter, m: MessageRun = {}): Promise<RunResult> {
  const s = await filter.open();
  const ctx = context();
  await s.negotiate(FULL_OFFER);
  const replies: Record<string, Reply> = {};
  const ended = (r: Reply): boolean => r.status !== 'continue';
  try {
    ctx.store.set(Command.CONNECT, m.macros?.connect ?? [['j', 'mx.example.org']]);
    replies.connect = (await s.connect?.(m.connect ?? CLIENT, ctx)) ?? { status: 'continue' };
    if (ended(replies.connect)) return { replies };
    replies.helo = (await s.helo?.(m.helo ?? 'mail.example.net', ctx)) ?? { status: 'continue' };
    ctx.store.set(Command.MAIL, m.macros?.mail ?? []);
    replies.mail = (await s.mail?.(m.sender ?? '<alice@example.net>', [], ctx)) ?? { status: 'continue' };
    if (ended(replies.mail)) return { replies };
    for (const [i, r] of (m.recipients ?? ['<bob@example.org>']).entries()) {
      replies[`rcpt${i}`] = (await s.rcpt?.(r, [], ctx)) ?? { status: 'continue' };
    }
    for (const [n, v] of m.headers ?? [['From', 'alice@example.net'], ['To', 'bob@example.org'], ['Subject', 'hello']]) {
      const r = (await s.header?.(n, v, ctx)) ?? { status: 'continue' };
      if (ended(r)) return { replies: { ...replies, header: r } };
    }
    await s.endOfHeaders?.(ctx);
    const body = m.body ?? 'Hi Bob,\r\nlunch tomorrow?\r\n';
    const r = (await s.body?.(Buffer.isBuffer(body) ? body : Buffer.from(body), ctx)) ?? { status: 'continue' };
    if (ended(r)) return { replies: { ...replies, body: r } };
    ctx.store.set(Command.BODYEOB, m.macros?.eom ?? [['i', 'QID123']]);
    const eom = await s.endOfMessage!(ctx);
    return { replies, eom };
  } finally {
    await s.close?.();
  }
}

/** A pino-shaped logger that records every line (to check "exactly one log line"). */
export function recordingLogger(): { logger: import('../../../src/mail/logger.js').Logger; lines: { level: string; msg: string; fields: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (a: unknown, b?: unknown): void => {
      if (typeof a === 'string') lines.push({ level, msg: a, fields: {} });
      else lines.push({ level, msg: String(b ?? ''), fields: (a ?? {}) as Record<string, unknown> });
    };
  const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return { logger: logger as unknown as import('../../../src/mail/logger.js').Logger, lines };
}

/** What createRspamdFilter needs besides the logger: nothing here may touch DNS. */
export function filterContext(logger: import('../../../src/mail/logger.js').Logger): import('../../../src/filters/context.js').FilterContext {
  return {
    logger,
    dataDir: '/nonexistent/mailgate-rspamd-test',
    now: Date.now,
    resolver: () => Promise.reject(new Error('no DNS in rspamd tests')),
    spf: () => Promise.reject(new Error('no SPF in rspamd tests')),
  };
}
