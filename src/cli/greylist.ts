/**
 * `mailgate greylist list|dump|flush [--addr IP|CIDR] [--config FILE] [--name NAME]`: the greylist
 * store of the configured greylist filter (the [[milter]] with builtin = "greylist"). The work is
 * filters/greylist/admin.ts's; this file reads the command line and the configuration and prints.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/load.js';
import { parseAddressFilter, type AddressFilter } from '../filters/greylist/address-filter.js';
import type { OpenGreylistStoreOptions } from '../store/greylist/open.js';
import type { GreylistStore } from '../store/greylist/store.js';
import { UsageError } from './options.js';

/** The store administration, imported when a subcommand runs: its drivers (ioredis) cost ~20 MB to every `mailgate` command. */
type Admin = typeof import('../filters/greylist/admin.js');

interface CommonOptions {
  config?: string;
  name?: string;
  addr?: AddressFilter;
}

export function greylistCommand(): Command {
  const cmd = new Command('greylist').description('show, dump or flush the greylist database of the greylist filter');
  const sub = (name: string, description: string, run: (store: GreylistStore, o: CommonOptions, admin: Admin) => Promise<void>): void => {
    cmd.addCommand(
      new Command(name)
        .description(description)
        .option('--addr <ip|cidr>', 'only entries for this client address (any mask) or overlapping this network', addressOption)
        .option('-c, --config <file>', 'configuration file (default: ./mailgate.toml if present, else the embedded defaults)')
        .option('--name <name>', 'which greylist filter, when the configuration has several')
        .action(async (o: CommonOptions) => {
          const admin = await import('../filters/greylist/admin.js');
          await withStore(admin, o, (store) => run(store, o, admin));
        })
        .exitOverride(),
    );
  };
  sub('list', 'print the entries as a table', async (store, o, { formatTable, selectEntries }) => {
    process.stdout.write(formatTable(await selectEntries(store, o.addr)));
  });
  sub("dump", "print the entries in milter-greylist's greylist.db text format", async (store, o, { formatDump, selectEntries }) => {
    process.stdout.write(formatDump(await selectEntries(store, o.addr), { version: mailgateVersion(), now: Date.now() }));
  });
  sub('flush', 'delete the entries (all, or those of --addr) and print how many', async (store, o, { flushEntries }) => {
    const n = await flushEntries(store, o.addr);
    process.stdout.write(`${n} ${n === 1 ? 'entry' : 'entries'} deleted\n`);
  });
  return cmd;
}

function addressOption(text: string): AddressFilter {
  try {
    return parseAddressFilter(text);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

async function withStore(admin: Admin, o: CommonOptions, body: (store: GreylistStore) => Promise<void>): Promise<void> {
  const options = storeOptions(admin, o); // a bad configuration throws ConfigError / UsageError: exit 2
  // Which database, so that a surprising answer (empty, or another host's) is explained at once.
  process.stderr.write(`mailgate: greylist database: ${admin.describeStore(options)}\n`);
  let store: GreylistStore | undefined;
  try {
    store = admin.openForInspection(options);
    await body(store);
  } catch (err) {
    if (!admin.isStoreError(err)) throw err;
    process.stderr.write(`mailgate: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await store?.close().catch(() => undefined);
  }
}

/** Where the chosen greylist filter keeps its state, from the configuration. */
function storeOptions(admin: Admin, o: Pick<CommonOptions, 'config' | 'name'>): OpenGreylistStoreOptions {
  // The store's place is all this needs: a missing trust list (the manager's concern) must not stop it.
  const { config, file, warnings } = loadConfig(o.config, { readTrustDomainsFile: false });
  for (const warning of warnings ?? []) process.stderr.write(`mailgate: warning: ${warning}\n`);
  try {
    return admin.adminStoreOptions(config, o.name, file ?? 'the embedded defaults');
  } catch (err) {
    if (err instanceof admin.GreylistAdminError) throw new UsageError(err.message);
    throw err;
  }
}

function mailgateVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
