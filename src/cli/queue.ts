/**
 * `mailgate queue list|show ID|flush|delete ID|hold ID|release ID [--config FILE]`: the mail queue of
 * `mailgate start`, in the spirit of postqueue -p, postcat -q, postqueue -f and postsuper -d/-h/-H. It
 * works whether or not the MTA runs: the files change here, and a running scheduler is told over its
 * control socket (queue/control.ts). The work is queue/admin.ts's; this file reads the command line.
 */
import { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import {
  deleteMessage,
  flushQueue,
  formatListing,
  formatMessage,
  holdMessage,
  listEntries,
  QueueAdminError,
  readEntry,
  releaseMessage,
  type AdminResult,
} from '../queue/admin.js';
import { QueueStore } from '../queue/store.js';
import { UsageError } from './options.js';

interface Options {
  config?: string;
}

const CONFIG_HELP = 'configuration file (default: ./mailgate.toml if present, else the embedded defaults)';

function openStore(o: Options): QueueStore {
  const { config, warnings } = loadConfig(o.config, { readTrustDomainsFile: false });
  for (const warning of warnings ?? []) process.stderr.write(`mailgate: warning: ${warning}\n`);
  return new QueueStore(config.dataDir);
}

async function run(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof QueueAdminError) throw new UsageError(err.message);
    throw err;
  }
}

function report(id: string, what: string, r: AdminResult): void {
  if (!r.done) {
    process.stderr.write(`mailgate: ${id}: no such message${what === 'released' ? ' on hold' : ''}\n`);
    process.exitCode = 1;
    return;
  }
  // Without a running scheduler the files are all there is: the change is made, and a start reads it.
  process.stdout.write(`${id}: ${what}\n`);
}

export function queueCommand(): Command {
  const cmd = new Command('queue').description('show and manage the mail queue of `mailgate start`');
  const sub = (name: string, description: string, action: (o: Options, id?: string) => Promise<void>, withId: boolean): void => {
    const c = new Command(name).description(description).option('-c, --config <file>', CONFIG_HELP).exitOverride();
    if (withId) c.argument('<id>', 'queue id');
    c.action(async (...args: unknown[]) => {
      const id = withId ? (args[0] as string) : undefined;
      const o = (withId ? args[1] : args[0]) as Options;
      await run(() => action(o, id));
    });
    cmd.addCommand(c);
  };
  sub(
    'list',
    'list the queued messages (postqueue -p); "!" marks a message on hold',
    async (o) => {
      process.stdout.write(formatListing(await listEntries(openStore(o))));
    },
    false,
  );
  sub(
    'show',
    'print one message: envelope, recipients state, contents (postcat -q)',
    async (o, id) => {
      const store = openStore(o);
      const e = await readEntry(store, id!);
      if (e === undefined) {
        process.stderr.write(`mailgate: ${id}: no such message\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(await formatMessage(store, e));
    },
    true,
  );
  sub(
    'flush',
    'attempt delivery of every message not on hold now (postqueue -f)',
    async (o) => {
      const r = await flushQueue(openStore(o));
      if (r.notified) {
        process.stdout.write('queue flush requested\n');
        return;
      }
      // As postqueue -f: "Cannot flush mail queue - mail system is down" (a start delivers what is due anyway).
      process.stderr.write('mailgate: cannot flush the mail queue: mailgate start is not running\n');
      process.exitCode = 1;
    },
    false,
  );
  sub('delete', 'remove a message from the queue (postsuper -d)', async (o, id) => report(id!, 'removed', await deleteMessage(openStore(o), id!)), true);
  sub('hold', 'put a message on hold (postsuper -h)', async (o, id) => report(id!, 'placed on hold', await holdMessage(openStore(o), id!)), true);
  sub('release', 'release a message from hold (postsuper -H)', async (o, id) => report(id!, 'released from hold', await releaseMessage(openStore(o), id!)), true);
  return cmd;
}
