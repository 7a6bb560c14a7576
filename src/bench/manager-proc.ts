/**
 * Child process of bench:manager, in one of two roles, so that each tier has its own event loop
 * like Postfix → milter manager → milters:
 *   children PATH...                 pass-through MilterServers, one per unix socket path
 *   manager  LISTEN=CHILD[,CHILD]... one manager per LISTEN path, serving a Chain of remote
 *                                    children (MilterClient to each CHILD socket path), built as
 *                                    `mailgate manager` builds it
 * IPC as server-proc.ts (servers.ts types): sends {type:'ready'}; answers {type:'cpu'};
 * {type:'profileStart'} / {type:'profileStop', file}; {type:'stop'} closes and lets the process exit.
 */
import { Chain, type ChildDefinition } from '../chain/chain.js';
import { ReloadableChain } from '../chain/reloadable.js';
import { defineFilter } from '../mail/define-filter.js';
import type { Filter } from '../mail/filter.js';
import { silentLogger } from '../mail/logger.js';
import { MilterClient } from '../milter/client.js';
import { MilterServer } from '../milter/server.js';
import { serveBenchIpc } from './process.js';

/** A child milter that answers continue to every event and changes nothing. */
function passThroughFilter(): Filter {
  return defineFilter('pass-through', {}, () => ({}));
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
  const [role, ...specs] = process.argv.slice(2);
  if ((role !== 'children' && role !== 'manager') || specs.length === 0 || process.send === undefined) {
    throw new Error('usage: forked by bench/manager.js with <children PATH...|manager LISTEN=CHILD[,CHILD]...>');
  }
  const servers: MilterServer[] = [];
  const chains: ReloadableChain[] = [];
  for (const spec of specs) {
    if (role === 'children') {
      servers.push(await serve(passThroughFilter(), spec));
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
