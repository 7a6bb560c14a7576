/** Drives one message through a Filter the way an MTA would, and builds clamav filters for tests. */
import { parseConfig } from '../../../src/config/load.js';
import type { ClamavOptions } from '../../../src/config/builtins/clamav.js';
import { FULL_OFFER } from '../../../src/mail/capabilities.js';
import type { Capabilities, EndOfMessageResult, Filter } from '../../../src/mail/filter.js';
import type { ConnectionInfo } from '../../../src/mail/connection.js';
import type { Logger } from '../../../src/mail/logger.js';
import type { Reply } from '../../../src/mail/reply.js';
import { Command } from '../../../src/milter/constants.js';
import { createClamavFilter } from '../../../src/filters/clamav/index.js';
import { context } from '../../milter/helpers.js';
import { pino } from 'pino';

/** Options as the config reader makes them from `toml` (the keys of one [[milter]] builtin = "clamav"). */
export function clamavOptions(toml: string): ClamavOptions {
  const { config } = parseConfig(`[[milter]]\nname = "clamav"\nbuiltin = "clamav"\n${toml}\n`, 'mailgate.toml');
  const m = config.milters[0]!;
  if (m.builtin !== 'clamav') throw new Error('not a clamav milter');
  return m.options;
}

/** A logger whose records are kept (message text and fields). */
export function recordingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

export function clamavFilter(toml: string, logger: Logger, now: () => number = Date.now): Filter {
  const ctx = { logger, dataDir: '/nonexistent', now, resolver: undefined as never, spf: undefined as never };
  return createClamavFilter('clamav', clamavOptions(toml), ctx);
}

export interface Message {
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: string | Buffer;
  readonly client?: ConnectionInfo;
  readonly authenticated?: string;
  readonly offer?: Capabilities;
}

export interface Outcome {
  readonly caps: Capabilities;
  readonly connect?: Reply;
  readonly mail?: Reply;
  /** Undefined when an earlier stage accepted (the MTA stops sending this filter the message). */
  readonly eom?: EndOfMessageResult;
}

export const CLIENT: ConnectionInfo = { hostname: 'client.example.com', family: 'inet', address: '192.0.2.1', port: 40000 };

export function plainHeaders(subject = 'hello'): Array<[string, string]> {
  return [
    ['From', 'Sender <sender@example.com>'],
    ['To', 'Recipient <rcpt@example.org>'],
    ['Subject', subject],
    ['Message-ID', `<${Math.random().toString(36).slice(2)}@example.com>`],
  ];
}

/** Runs connect → MAIL → headers → body (64 KiB chunks) → end of message on the stages the filter negotiated. */
export async function drive(filter: Filter, m: Message = {}): Promise<Outcome> {
  const s = await filter.open();
  const ctx = context();
  try {
    const caps = await s.negotiate(m.offer ?? FULL_OFFER);
    const wants = caps.stages;
    ctx.store.set(Command.CONNECT, [['j', 'mx.example.org']]);
    const connect = wants.has('connect') ? await s.connect?.(m.client ?? CLIENT, ctx) : undefined;
    if (connect?.status === 'accept') return { caps, connect };
    ctx.store.set(Command.MAIL, m.authenticated === undefined ? [] : [['{auth_authen}', m.authenticated]]);
    const mail = wants.has('mail') ? await s.mail?.('<sender@example.com>', [], ctx) : undefined;
    if (mail?.status === 'accept') return { caps, ...(connect ? { connect } : {}), mail };
    ctx.store.set(Command.BODYEOB, [['i', 'QUEUE1']]);
    if (wants.has('header')) for (const [n, v] of m.headers ?? plainHeaders()) await s.header?.(n, v, ctx);
    const body = typeof m.body === 'string' ? Buffer.from(m.body) : (m.body ?? Buffer.from('Hello,\r\nsee you at lunch.\r\n'));
    if (wants.has('body')) for (let at = 0; at < body.length; at += 65535) await s.body?.(body.subarray(at, at + 65535), ctx);
    const eom = await s.endOfMessage!(ctx);
    return { caps, ...(connect ? { connect } : {}), ...(mail ? { mail } : {}), eom };
  } finally {
    await s.close?.();
  }
}

/** The log records' messages, for assertions. */
export function messages(lines: ReadonlyArray<Record<string, unknown>>, minLevel = 30): string[] {
  return lines.filter((l) => Number(l['level']) >= minLevel).map((l) => String(l['msg']));
}
