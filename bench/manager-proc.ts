/**
 * Child process of bench:manager, in one of two roles, so that each tier has its own event loop
 * like Postfix → milter manager → milters:
 *   children KIND PATH...            pass-through MilterServers, one per unix socket path; KIND is
 *                                    `libmilter` (no callbacks: every stage negotiated away but end of
 *                                    message, as a libmilter or pymilter filter without callbacks does)
 *                                    or `all-stages` (asks for and answers every stage)
 *   manager  LISTEN=CHILD[,CHILD]... one manager per LISTEN path, serving a Chain of remote
 *                                    children (MilterClient to each CHILD socket path), built as
 *                                    `mailgate manager` builds it
 * IPC as server-proc.ts (servers.ts types): sends {type:'ready'}; answers {type:'cpu'};
 * {type:'profileStart'} / {type:'profileStop', file}; {type:'stop'} closes and lets the process exit.
 */
import { Chain, type ChildDefinition } from '../src/chain/chain.js';
import { ReloadableChain } from '../src/chain/reloadable.js';
import { defineFilter } from '../src/mail/define-filter.js';
import type { Filter } from '../src/mail/filter.js';
import { silentLogger } from '../src/mail/logger.js';
import { EVENT_STAGES } from '../src/mail/stage.js';
import { MilterClient } from '../src/milter/client.js';
import { MilterServer } from '../src/milter/server.js';
import { serveBenchIpc } from './process.js';

export type ChildKind = 'libmilter' | 'all-stages';

/** A child milter that changes nothing: asking for no stage (libmilter) or answering continue to every one. */
function passThroughFilter(kind: ChildKind): Filter {
  return defineFilter('pass-through', kind === 'all-stages' ? { stages: EVENT_STAGES } : {}, () => ({}));
}

/** The manager's filter, exactly as `mailgate manager` serves it (fallback accept, no conditions). */
function managerFilter(childSockets: readonly string[]): ReloadableChain {
  const children: ChildDefinition[] = childSockets.map((path, i) => ({
    name: `pass-${i}`,
    filter: new MilterClient({ spec: `unix:${path}`, name: `pass-${i}` }),
    fallbackStatus: 'accept',
    evaluationMode: false,
    conditions: [],
  }));
  return new ReloadableChain(new Chain(children, { fallbackStatus: 'accept' }));
}

async function serve(filter: Filter, path: string): Promise<MilterServer> {
  const server = new MilterServer(filter, { logger: silentLogger, drainTimeout: 1 });
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
    throw new Error('usage: forked by bench/manager.js with <children libmilter|all-stages PATH...|manager LISTEN=CHILD[,CHILD]...>');
  }
  const servers: MilterServer[] = [];
  const chains: ReloadableChain[] = [];
  for (const spec of specs) {
    if (role === 'children') {
      servers.push(await serve(passThroughFilter(kind as ChildKind), spec));
      continue;
    }
    const [listen, children] = spec.split('=');
    if (listen === undefined || children === undefined) throw new Error(`bench: bad manager spec ${spec}`);
    const chain = managerFilter(children.split(','));
    chains.push(chain);
    servers.push(await serve(chain, listen));
  }
  serveBenchIpc(async () => {
    await Promise.all(servers.map((s) => s.close()));
    for (const c of chains) c.chain.dispose();
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
