/** Builds the rules filter from TOML and drives one session through it the way an MTA would. */
import { pino } from 'pino';
import type { RulesOptions } from '../../../src/config/builtins/rules.js';
import { parseConfig } from '../../../src/config/load.js';
import { createRulesFilter } from '../../../src/filters/rules/index.js';
import { FULL_OFFER } from '../../../src/mail/capabilities.js';
import type { EndOfMessageResult } from '../../../src/mail/changes.js';
import type { ConnectionInfo } from '../../../src/mail/connection.js';
import type { Capabilities, Filter } from '../../../src/mail/filter.js';
import type { Logger } from '../../../src/mail/logger.js';
import type { Reply } from '../../../src/mail/reply.js';
import { context } from '../../milter/helpers.js';

/** The options of a rules child whose [[milter]] table has `body` after the common keys. */
export function rulesOptions(body: string): RulesOptions {
  const loaded = parseConfig(`[[milter]]\nname = "rules"\nbuiltin = "rules"\n${body}`, 'mailgate.toml');
  return (loaded.config.milters[0] as { options: RulesOptions }).options;
}

export interface LogRecord {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export function capturingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void records.push(JSON.parse(line) as LogRecord) });
  return { logger, records };
}

export function rulesFilter(body: string, logger: Logger = capturingLogger().logger): Filter {
  return createRulesFilter('rules', rulesOptions(body), {
    logger,
    dataDir: '/nonexistent',
    now: () => 0,
    resolver: () => Promise.reject(new Error('no DNS in this test')),
    spf: () => Promise.reject(new Error('no SPF in this test')),
  });
}

export interface Envelope {
  readonly connect?: ConnectionInfo;
  readonly helo?: string;
  readonly sender?: string;
  readonly recipients?: readonly string[];
  /** Header fields as the MTA sends them (values without the leading space). */
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: string | Buffer;
}

export interface SessionTrace {
  readonly caps: Capabilities;
  readonly replies: Record<string, Reply>;
  /** Stages the session was asked, in order. */
  readonly called: string[];
  readonly eom: EndOfMessageResult | undefined;
}

export const CLIENT: ConnectionInfo = { hostname: 'mail.example.com', family: 'inet', address: '192.0.2.10', port: 2525 };

/**
 * One message through one session: only the negotiated stages are called, and a stage's refusal
 * ends the session (an accept or discard ends this filter's part) as the chain would.
 */
export async function runMessage(filter: Filter, env: Envelope = {}): Promise<SessionTrace> {
  const session = await filter.open();
  const caps = await session.negotiate(FULL_OFFER);
  const ctx = context();
  const replies: Record<string, Reply> = {};
  const called: string[] = [];
  let eom: EndOfMessageResult | undefined;
  const wanted = (stage: Parameters<typeof caps.stages.has>[0]) => caps.stages.has(stage);
  const ends = (r: Reply) => r.status === 'reject' || r.status === 'tempfail' || r.status === 'accept' || r.status === 'discard';
  const step = async (name: string, stage: Parameters<typeof caps.stages.has>[0], call: () => Reply | Promise<Reply> | undefined) => {
    if (!wanted(stage)) return false;
    called.push(name);
    const reply = await call();
    if (reply !== undefined) replies[name] = reply;
    return reply !== undefined && ends(reply);
  };
  run: {
    if (await step('connect', 'connect', () => session.connect?.(env.connect ?? CLIENT, ctx))) break run;
    if (await step('helo', 'helo', () => session.helo?.(env.helo ?? 'mail.example.com', ctx))) break run;
    if (await step('mail', 'mail', () => session.mail?.(env.sender ?? '<sender@example.com>', [], ctx))) break run;
    let accepted = 0;
    for (const [i, r] of (env.recipients ?? ['<rcpt@example.org>']).entries()) {
      if (!wanted('rcpt')) {
        accepted++;
        continue;
      }
      called.push(`rcpt${i}`);
      const reply = (await session.rcpt?.(r, [], ctx)) ?? { status: 'continue' };
      replies[`rcpt${i}`] = reply;
      if (reply.status === 'accept' || reply.status === 'discard') break run;
      if (reply.status === 'continue') accepted++;
    }
    if (accepted === 0) break run;
    for (const [n, v] of env.headers ?? [['Subject', 'hello']]) {
      if (await step(`header:${n}`, 'header', () => session.header?.(n, v, ctx))) break run;
    }
    if (await step('endOfHeaders', 'endOfHeaders', () => session.endOfHeaders?.(ctx))) break run;
    const body = env.body ?? 'body\r\n';
    if (await step('body', 'body', () => session.body?.(Buffer.isBuffer(body) ? body : Buffer.from(body), ctx))) break run;
    if (wanted('endOfMessage') && session.endOfMessage) {
      called.push('endOfMessage');
      eom = await session.endOfMessage(ctx);
    }
  }
  await session.close?.();
  return { caps, replies, called, eom };
}
