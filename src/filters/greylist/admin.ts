/**
 * Administration of a greylist filter's store, behind `mailgate greylist list|dump|flush`: which
 * filter and database (the same options the filter opens), which entries an address or network
 * selects, flushing them, and the two output formats (a table, milter-greylist's greylist.db dump).
 * The store may be read and flushed while the manager runs (SQLite in WAL mode and Redis allow it).
 */
import { existsSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { resolve } from 'node:path';
import { DEFAULT_GREYLIST_REDIS_PREFIX, DEFAULT_GREYLIST_REDIS_URL } from '../../config/builtins/greylist.js';
import type { BuiltinMilterConfig, MailgateConfig, MilterConfig } from '../../config/schema.js';
import { MemoryGreylistStore } from '../../store/greylist/memory.js';
import { openGreylistStore, sqliteFilePath, type OpenGreylistStoreOptions } from '../../store/greylist/open.js';
import { RedisGreylistStoreError } from '../../store/greylist/redis.js';
import type { GreylistEntry, GreylistStore } from '../../store/greylist/store.js';
import { greylistStoreOptions } from './store-options.js';
import { parseAddressFilter, type AddressFilter } from './address-filter.js';

/** The configuration names no greylist filter to administer, or several and no choice. */
export class GreylistAdminError extends Error {
  override readonly name = 'GreylistAdminError';
}

type GreylistMilter = Extract<BuiltinMilterConfig, { builtin: 'greylist' }>;

/**
 * The store options of the configured greylist filter named `name` (or the only one); `where` names
 * the configuration in errors. A memory store has nothing to read from outside the manager.
 */
export function adminStoreOptions(config: MailgateConfig, name: string | undefined, where: string): OpenGreylistStoreOptions {
  const greylists = config.milters.filter((m): m is GreylistMilter => isGreylist(m));
  let milter = greylists[0];
  if (name !== undefined) {
    milter = greylists.find((m) => m.name === name);
    if (milter === undefined) {
      const names = greylists.map((m) => m.name).join(', ');
      throw new GreylistAdminError(`${where}: no greylist filter named "${name}"${names === '' ? '' : ` (greylist filters: ${names})`}`);
    }
  } else if (greylists.length > 1) {
    throw new GreylistAdminError(`${where}: several greylist filters (${greylists.map((m) => m.name).join(', ')}): choose one with --name`);
  }
  if (milter === undefined) throw new GreylistAdminError(`${where}: no [[milter]] with builtin = "greylist"`);
  if (milter.options.store === 'memory') {
    throw new GreylistAdminError(
      `${where}: milter "${milter.name}" keeps its greylist in the manager's memory (store = "memory"): nothing to read from here`,
    );
  }
  return greylistStoreOptions(milter.options, resolve(config.dataDir));
}

function isGreylist(m: MilterConfig): boolean {
  return m.builtin === 'greylist';
}

/** Opens the store to inspect it: a SQLite database not created yet reads as empty and is not created. */
export function openForInspection(options: OpenGreylistStoreOptions): GreylistStore {
  return notCreatedYet(options) ? new MemoryGreylistStore() : openGreylistStore(options);
}

function notCreatedYet(options: OpenGreylistStoreOptions): boolean {
  return options.store === 'sqlite' && !existsSync(sqliteFilePath(options.dataDir, options.sqliteFile));
}

/** Which database: the SQLite file (and whether it exists yet), or the Redis URL and key prefix. */
export function describeStore(options: OpenGreylistStoreOptions): string {
  if (options.store === 'sqlite') {
    return `SQLite ${sqliteFilePath(options.dataDir, options.sqliteFile)}${notCreatedYet(options) ? ' (not created yet: no entries)' : ''}`;
  }
  if (options.store === 'redis') return `Redis ${options.redisUrl ?? DEFAULT_GREYLIST_REDIS_URL}, keys ${options.redisPrefix ?? DEFAULT_GREYLIST_REDIS_PREFIX}*`;
  return 'memory';
}

/** A failure of the store itself (Redis unreachable, a database SQLite cannot use): one line, not a stack. */
export function isStoreError(err: unknown): boolean {
  return err instanceof RedisGreylistStoreError || (err instanceof Error && (err.name === 'SqliteError' || /^greylist database /.test(err.message)));
}

export { parseAddressFilter, type AddressFilter };

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
