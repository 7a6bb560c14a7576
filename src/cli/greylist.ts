/**
 * `mailgate greylist list|dump|flush [--addr IP|CIDR] [--config FILE] [--name NAME]`: the greylist
 * store of the configured greylist filter (the [[milter]] with builtin = "greylist"), read and
 * flushed while the manager runs (SQLite in WAL mode and Redis both allow that).
 */
import { existsSync, readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { cidrError } from '../config/cidr.js';
import { loadConfig } from '../config/load.js';
import type { BuiltinMilterConfig, MilterConfig } from '../config/schema.js';
import { maskAddress } from '../filters/greylist/tuple.js';
import { MemoryGreylistStore } from '../store/greylist/memory.js';
import { openGreylistStore, sqliteFilePath, type OpenGreylistStoreOptions } from '../store/greylist/open.js';
import { RedisGreylistStoreError } from '../store/greylist/redis.js';
import type { GreylistEntry, GreylistStore } from '../store/greylist/store.js';
import { UsageError } from './options.js';

interface CommonOptions {
  config?: string;
  name?: string;
  addr?: AddressFilter;
}

export function greylistCommand(): Command {
  const cmd = new Command('greylist').description('show, dump or flush the greylist database of the greylist filter');
  const sub = (name: string, description: string, run: (store: GreylistStore, o: CommonOptions) => Promise<void>): void => {
    cmd.addCommand(
      new Command(name)
        .description(description)
        .option('--addr <ip|cidr>', 'only entries for this client address (any mask) or overlapping this network', parseAddressFilter)
        .option('-c, --config <file>', 'configuration file (default: ./mailgate.toml if present, else the embedded defaults)')
        .option('--name <name>', 'which greylist filter, when the configuration has several')
        .action(async (o: CommonOptions) => withStore(o, (store) => run(store, o)))
        .exitOverride(),
    );
  };
  sub('list', 'print the entries as a table', async (store, o) => {
    process.stdout.write(formatTable(await selectEntries(store, o.addr)));
  });
  sub("dump", "print the entries in milter-greylist's greylist.db text format", async (store, o) => {
    process.stdout.write(formatDump(await selectEntries(store, o.addr), { version: mailgateVersion(), now: Date.now() }));
  });
  sub('flush', 'delete the entries (all, or those of --addr) and print how many', async (store, o) => {
    const n = await flushEntries(store, o.addr);
    process.stdout.write(`${n} ${n === 1 ? 'entry' : 'entries'} deleted\n`);
  });
  return cmd;
}

async function withStore(o: CommonOptions, body: (store: GreylistStore) => Promise<void>): Promise<void> {
  const options = storeOptions(o); // a bad configuration throws ConfigError / UsageError: exit 2
  // Inspecting must not create an empty database (and its directory) as a side effect.
  const missing = options.store === 'sqlite' && !existsSync(sqliteFilePath(options.dataDir, options.sqliteFile));
  let store: GreylistStore | undefined;
  try {
    store = missing ? new MemoryGreylistStore() : openGreylistStore(options);
    await body(store);
  } catch (err) {
    if (!(err instanceof RedisGreylistStoreError) && !isSqliteError(err)) throw err;
    process.stderr.write(`mailgate: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await store?.close().catch(() => undefined);
  }
}

function isSqliteError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'SqliteError' || /^greylist database /.test(err.message));
}

/** Where the chosen greylist filter keeps its state, from the configuration. */
export function storeOptions(o: Pick<CommonOptions, 'config' | 'name'>): OpenGreylistStoreOptions {
  const { config, file } = loadConfig(o.config);
  const where = file ?? 'the embedded defaults';
  const greylists = config.milters.filter((m): m is Extract<BuiltinMilterConfig, { builtin: 'greylist' }> => isGreylist(m));
  let milter = greylists[0];
  if (o.name !== undefined) {
    milter = greylists.find((m) => m.name === o.name);
    if (milter === undefined) {
      const names = greylists.map((m) => m.name).join(', ');
      throw new UsageError(`${where}: no greylist filter named "${o.name}"${names === '' ? '' : ` (greylist filters: ${names})`}`);
    }
  } else if (greylists.length > 1) {
    throw new UsageError(`${where}: several greylist filters (${greylists.map((m) => m.name).join(', ')}): choose one with --name`);
  }
  if (milter === undefined) throw new UsageError(`${where}: no [[milter]] with builtin = "greylist"`);
  const { store, redisUrl, redisPrefix, sqliteFile } = milter.options;
  if (store === 'memory') {
    throw new UsageError(`${where}: milter "${milter.name}" keeps its greylist in the manager's memory (store = "memory"): nothing to read from here`);
  }
  return { store, dataDir: resolve(config.manager.dataDir), redisUrl, redisPrefix, sqliteFile };
}

function isGreylist(m: MilterConfig): boolean {
  return m.builtin === 'greylist';
}

/** `--addr`: an IP (the entries that apply to that client, whatever the mask) or a CIDR network. */
export type AddressFilter =
  | { readonly kind: 'ip'; readonly ip: string; readonly candidates: readonly string[] }
  | { readonly kind: 'cidr'; readonly text: string; readonly range: BlockList; readonly network: string; readonly family: 'ipv4' | 'ipv6' };

export function parseAddressFilter(text: string): AddressFilter {
  const why = cidrError(text);
  if (why !== undefined) throw new InvalidArgumentError(why);
  if (!text.includes('/')) {
    // The store keeps addresses masked by subnetmatch/subnetmatch6 ("192.0.2.0/24", or the bare
    // address for /32 and /128): every possible mask of this IP names the entries that apply to it.
    const max = isIP(text) === 4 ? 32 : 128;
    const candidates = new Set<string>();
    for (let bits = 0; bits <= max; bits++) candidates.add(maskAddress(text, bits, bits));
    return { kind: 'ip', ip: text, candidates: [...candidates] };
  }
  const [network = '', bits = ''] = text.split('/');
  const family = isIP(network) === 4 ? 'ipv4' : 'ipv6';
  const range = new BlockList();
  range.addSubnet(network, Number(bits), family);
  return { kind: 'cidr', text, range, network, family };
}

/** Whether a stored (masked) address and the --addr network overlap: one contains the other. */
export function overlaps(filter: Extract<AddressFilter, { kind: 'cidr' }>, stored: string): boolean {
  const [network = '', bits] = stored.split('/');
  const family = isIP(network);
  if (family === 0 || (family === 4 ? 'ipv4' : 'ipv6') !== filter.family) return false;
  if (filter.range.check(network, filter.family)) return true;
  const entryRange = new BlockList();
  entryRange.addSubnet(network, bits === undefined ? (family === 4 ? 32 : 128) : Number(bits), filter.family);
  return entryRange.check(filter.network, filter.family);
}

export async function selectEntries(store: GreylistStore, filter: AddressFilter | undefined): Promise<GreylistEntry[]> {
  const out: GreylistEntry[] = [];
  if (filter?.kind === 'ip') {
    for (const address of filter.candidates) for await (const e of store.list({ address })) out.push(e);
  } else {
    for await (const e of store.list()) if (filter === undefined || overlaps(filter, e.address)) out.push(e);
  }
  return out.sort(byTuple);
}

export async function flushEntries(store: GreylistStore, filter: AddressFilter | undefined): Promise<number> {
  if (filter === undefined) return store.flush();
  if (filter.kind === 'ip') {
    let n = 0;
    for (const address of filter.candidates) n += await store.flush({ address });
    return n;
  }
  const doomed = await selectEntries(store, filter);
  for (const e of doomed) await store.delete(e);
  return doomed.length;
}

function byTuple(a: GreylistEntry, b: GreylistEntry): number {
  return cmp(a.address, b.address) || cmp(a.sender, b.sender) || cmp(a.recipient, b.recipient);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** "2026-11-24 22:10:00" in local time, as milter-greylist writes dates. */
export function localDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The `list` table: one line per entry, columns aligned, a count at the end. */
export function formatTable(entries: readonly GreylistEntry[]): string {
  const head = ['ADDRESS', 'SENDER', 'RECIPIENT', 'KIND', 'FIRST SEEN', 'ACCEPT AFTER / EXPIRES', 'HITS'];
  const rows = entries.map((e) => [
    e.address,
    e.sender === '' ? '<>' : e.sender,
    e.recipient,
    e.kind,
    localDate(e.created),
    e.kind === 'pending' ? `accept ${localDate(e.acceptAfter)}` : `expires ${localDate(e.expires)}`,
    String(e.hits),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd() + '\n';
  const pendingCount = entries.filter((e) => e.kind === 'pending').length;
  const summary = `${entries.length} ${entries.length === 1 ? 'entry' : 'entries'} (${pendingCount} pending, ${entries.length - pendingCount} autowhite)\n`;
  return (rows.length === 0 ? '' : line(head) + rows.map(line).join('')) + summary;
}

/**
 * milter-greylist's dump file (greylist.db): pending tuples with the time they will be accepted,
 * then auto-whitelisted ones with their expiry, epoch seconds and a local date, then a summary.
 * milter-greylist keeps the client address and masks at lookup; the store keeps the masked network,
 * so its address (without the /N) is written, which matches the same clients under the same mask.
 */
export function formatDump(entries: readonly GreylistEntry[], o: { version: string; now: number }): string {
  const bracket = (s: string): string => `<${s}>`;
  const ip = (address: string): string => address.split('/')[0] ?? address;
  const line = (e: GreylistEntry, at: number, auto: boolean): string =>
    `${ip(e.address)}\t${bracket(e.sender)}\t${bracket(e.recipient)}\t${Math.floor(at / 1000)}${auto ? ' AUTO' : ''} # ${localDate(at)}\n`;
  const pending = entries.filter((e) => e.kind === 'pending');
  const white = entries.filter((e) => e.kind === 'autowhite');
  return (
    '#\n' +
    `# milter-greylist databases, dumped by mailgate-${o.version} on ${localDate(o.now)}.\n` +
    '# DO NOT EDIT while milter-greylist is running, changes will be overwritten.\n' +
    '#\n' +
    '\n\n#\n# greylisted tuples\n#\n' +
    '# Sender IP\tSender e-mail\tRecipient e-mail\tTime accepted\n' +
    pending.map((e) => line(e, e.acceptAfter, false)).join('') +
    '\n\n#\n# Auto-whitelisted tuples\n#\n' +
    '# Sender IP\tSender e-mail\tRecipient e-mail\tExpire\n' +
    white.map((e) => line(e, e.expires, true)).join('') +
    `#\n# Summary: ${entries.length} records, ${pending.length} greylisted, ${white.length} whitelisted\n#\n`
  );
}

function mailgateVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
