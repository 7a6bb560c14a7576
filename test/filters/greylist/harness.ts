// Drives the greylist filter stage by stage, as the chain would, with an injected clock, a fake SPF
// checker and an in-memory store.
import { silentLogger } from '../../../src/mail/logger.js';
import { FULL_OFFER } from '../../../src/mail/capabilities.js';
import type { EndOfMessageResult } from '../../../src/mail/changes.js';
import type { ConnectionInfo } from '../../../src/mail/connection.js';
import type { Filter, FilterSession, SessionContext } from '../../../src/mail/filter.js';
import { canonicalMacroName, type Macros } from '../../../src/mail/macros.js';
import type { Reply } from '../../../src/mail/reply.js';
import type { SpfChecker, SpfQuery, SpfResult } from '../../../src/filters/shared/spf.js';
import { createGreylistFilter } from '../../../src/filters/greylist/index.js';
import { MemoryGreylistStore } from '../../../src/store/greylist/memory.js';
import type { GreylistOptions } from '../../../src/config/builtins/greylist.js';

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export class Clock {
  t = T0;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** SPF answers from a table: `spfTable['sender domain'] = result`, per (ip, domain). */
export function fakeSpf(table: Record<string, SpfResult>, asked: SpfQuery[] = []): SpfChecker {
  return async (q) => {
    asked.push(q);
    const domain = q.sender.split('@')[1] ?? q.helo;
    return { result: table[`${q.ip} ${domain}`] ?? table[domain] ?? 'none', receivedSpf: '', domain };
  };
}

export function macros(values: Record<string, string>): Macros {
  const m = new Map(Object.entries(values).map(([k, v]) => [canonicalMacroName(k), v]));
  return { get: (n) => m.get(canonicalMacroName(n)), all: () => Object.fromEntries(m), forStage: () => [] };
}

export interface Setup {
  readonly filter: Filter;
  readonly store: MemoryGreylistStore;
  readonly clock: Clock;
  readonly spfAsked: SpfQuery[];
}

export function setup(confText: string, spf: Record<string, SpfResult> = {}, clock = new Clock()): Setup {
  const store = new MemoryGreylistStore();
  const spfAsked: SpfQuery[] = [];
  const options: GreylistOptions = {
    conf: { text: confText, file: 'greylist.conf', lineOffset: 0 },
    store: 'memory',
    redisUrl: 'redis://127.0.0.1:6379/0',
    redisPrefix: 'mailgate:greylist:',
  };
  const filter = createGreylistFilter('greylist', options, {
    logger: silentLogger,
    dataDir: '/nonexistent',
    now: clock.now,
    resolver: async () => {
      throw new Error('no DNS in unit tests');
    },
    spf: fakeSpf(spf, spfAsked),
  }, { store });
  return { filter, store, clock, spfAsked };
}

export interface Delivery {
  client?: string;
  hostname?: string;
  helo?: string;
  from: string;
  to: string | string[];
  macros?: Record<string, string>;
  headers?: [string, string][];
  body?: string;
}

export interface Outcome {
  /** Reply per recipient, in order. */
  rcpt: Reply[];
  mail: Reply;
  /** The answer at DATA, when at least one recipient passed. */
  data: Reply | undefined;
  /** End of message, when at least one recipient passed. */
  eom: EndOfMessageResult | undefined;
  /** The X-Greylist value added, if any. */
  header: string | undefined;
}

/** One SMTP transaction on a new connection. */
export async function deliver(filter: Filter, d: Delivery): Promise<Outcome> {
  const session: FilterSession = await filter.open();
  await session.negotiate(FULL_OFFER);
  const ctx: SessionContext = { macros: macros(d.macros ?? {}), progress: async () => undefined };
  const client = d.client ?? '192.0.2.10';
  const info: ConnectionInfo =
    client === 'local'
      ? { hostname: 'localhost', family: 'unix', path: '/tmp/s' }
      : { hostname: d.hostname ?? `[${client}]`, family: client.includes(':') ? 'inet6' : 'inet', address: client, port: 4242 };
  await session.connect?.(info, ctx);
  await session.helo?.(d.helo ?? 'mx.example.net', ctx);
  const mail = (await session.mail?.(d.from === '' ? '<>' : `<${d.from}>`, [], ctx)) ?? { status: 'continue' };
  const rcpt: Reply[] = [];
  for (const to of typeof d.to === 'string' ? [d.to] : d.to) {
    rcpt.push((await session.rcpt?.(`<${to}>`, [], ctx)) ?? { status: 'continue' });
  }
  let eom: EndOfMessageResult | undefined;
  let data: Reply | undefined;
  if (rcpt.some((r) => r.status === 'continue' || r.status === 'accept')) {
    data = await session.data?.(ctx);
    for (const [n, v] of d.headers ?? [['Subject', 'test']]) await session.header?.(n, v, ctx);
    await session.endOfHeaders?.(ctx);
    await session.body?.(Buffer.from(d.body ?? 'hello\r\n'), ctx);
    eom = await session.endOfMessage?.(ctx);
  }
  await session.close?.();
  const header = eom?.changes.find((c) => c.kind === 'addHeader' && c.name === 'X-Greylist');
  return { rcpt, mail, data, eom, header: header?.kind === 'addHeader' ? header.value : undefined };
}

/** "451 4.7.1 text" of a reply. */
export function smtp(r: Reply | undefined): string {
  if (r === undefined) return '(none)';
  if (r.code === undefined) return r.status;
  return `${r.code} ${r.enhancedCode ?? ''} ${typeof r.text === 'string' ? r.text : (r.text ?? []).join(' / ')}`.trim();
}

export const SAMPLE_CONF = `subnetmatch /24
greylist 10m
autowhite 1w
sm_macro "trusted_domain" "{trusted_domain}" "yes"
racl whitelist sm_macro "trusted_domain" spf pass
racl greylist sm_macro "trusted_domain" not spf pass
racl greylist default
`;
