/**
 * Child process of bench:manager, in one of two roles, so that each tier has its own event loop
 * like Postfix → milter manager → milters:
 *   children KIND PATH...            pass-through MilterServers, one per unix socket path; KIND is
 *                                    `libmilter` (no callbacks: every stage negotiated away but end of
 *                                    message, as a libmilter or pymilter filter without callbacks does)
 *                                    or `all-stages` (asks for and answers every stage); a PATH written
 *                                    raw:PATH is a raw ping-pong server instead (pingpong.ts)
 *   manager  LISTEN=CHILD[,CHILD]...[@LOG]
 *                                    one manager per LISTEN path, serving a Chain of remote
 *                                    children (MilterClient to each CHILD socket path), built as
 *                                    `mailgate manager` builds it; with @LOG its chain and server log
 *                                    at info, so the statistics line of each session is written, to
 *                                    the file LOG (without, they log nothing: the line is off);
 *                                    relay:LISTEN=CHILD[,CHILD]... is the raw relay (pingpong.ts) instead
 * IPC as server-proc.ts (servers.ts types): sends {type:'ready'}; answers {type:'cpu'};
 * {type:'profileStart'} / {type:'profileStop', file}; {type:'stop'} closes and lets the process exit.
 */
import type { Server } from 'node:net';
import { pino } from 'pino';
import { Chain, type ChildDefinition } from '../src/chain/chain.js';
import { ReloadableChain } from '../src/chain/reloadable.js';
import { defineFilter } from '../src/mail/define-filter.js';
import type { Filter } from '../src/mail/filter.js';
import { silentLogger, type Logger } from '../src/mail/logger.js';
import { EVENT_STAGES } from '../src/mail/stage.js';
import { MilterClient } from '../src/milter/client.js';
import { MilterServer } from '../src/milter/server.js';
import { listenPingPong, listenRelay } from './pingpong.js';
import { serveBenchIpc } from './process.js';

export type ChildKind = 'libmilter' | 'all-stages';

/** A child milter that changes nothing: asking for no stage (libmilter) or answering continue to every one. */
function passThroughFilter(kind: ChildKind): Filter {
  return defineFilter('pass-through', kind === 'all-stages' ? { stages: EVENT_STAGES } : {}, () => ({}));
}

/** The manager's filter, exactly as `mailgate manager` serves it (fallback accept, no conditions). */
function managerFilter(childSockets: readonly string[], logger: Logger): ReloadableChain {
  const children: ChildDefinition[] = childSockets.map((path, i) => ({
    name: `pass-${i}`,
    filter: new MilterClient({ spec: `unix:${path}`, name: `pass-${i}` }),
    fallbackStatus: 'accept',
    evaluationMode: false,
    conditions: [],
  }));
  return new ReloadableChain(new Chain(children, { fallbackStatus: 'accept', logger }));
}

/** Time spent in the statistics loggers' info() (the session line and its write), and lines written. */
const statsLines = { lineUs: 0, lines: 0 };

/**
 * `mailgate manager`'s logger (createLogger: pino at info, a synchronous destination) writing to `file`
 * instead of stderr, which the bench's terminal shares. Its info() is timed: the statistics line's own
 * cost, which the noise of a shared machine hides in the CPU figures of whole phases.
 */
function statsLogger(file: string): Logger {
  const logger = pino({ level: 'info', name: 'mailgate' }, pino.destination({ dest: file, sync: true }));
  const info = logger.info.bind(logger);
  // An own property of this instance; pino's child loggers inherit it (they are made with Object.create).
  logger.info = ((...args: Parameters<typeof info>) => {
    const t = performance.now();
    info(...args);
    statsLines.lineUs += (performance.now() - t) * 1000;
    statsLines.lines++;
  }) as typeof logger.info;
  return logger;
}

async function serve(filter: Filter, path: string, logger: Logger = silentLogger): Promise<MilterServer> {
  const server = new MilterServer(filter, { logger, drainTimeout: 1 });
  await server.listen(`unix:${path}`);
  return server;
}

async function main(): Promise<void> {
  const [role, ...args] = process.argv.slice(2);
  const kind = role === 'children' ? args.shift() : undefined;
  const specs = args;
  if (
    (role !== 'children' && role !== 'manager') ||
    (role === 'children' && kind !== 'libmilter' && kind !== 'all-stages') ||
    specs.length === 0 ||
    process.send === undefined
  ) {
    throw new Error('usage: forked by bench/manager.js with <children libmilter|all-stages PATH...|manager LISTEN=CHILD[,CHILD]...[@LOG]>');
  }
  const servers: { close(): Promise<void> }[] = [];
  const chains: ReloadableChain[] = [];
  const rawServer = (server: Server) => ({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  for (const spec of specs) {
    if (role === 'children' && spec.startsWith('raw:')) {
      servers.push(rawServer(await listenPingPong(spec.slice('raw:'.length))));
      continue;
    }
    if (role === 'children') {
      servers.push(await serve(passThroughFilter(kind as ChildKind), spec));
      continue;
    }
    const [listen, rest] = spec.split('=');
    if (listen === undefined || rest === undefined) throw new Error(`bench: bad manager spec ${spec}`);
    if (listen.startsWith('relay:')) {
      servers.push(rawServer(await listenRelay(listen.slice('relay:'.length), rest.split(','))));
      continue;
    }
    const [children = '', log] = rest.split('@');
    const logger = log === undefined ? silentLogger : statsLogger(log);
    const chain = managerFilter(children.split(','), logger);
    chains.push(chain);
    servers.push(await serve(chain, listen, logger));
  }
  serveBenchIpc(
    async () => {
      await Promise.all(servers.map((s) => s.close()));
      for (const c of chains) c.chain.dispose();
    },
    () => ({ ...statsLines }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
