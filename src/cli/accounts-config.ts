/**
 * What the account commands (`mailgate domain|user|alias`) share: the accounts of the configured data_dir
 * with the configuration's local domains, and how a refusal is printed (exit 1; a usage or configuration
 * error stays exit 2, as main.ts prints it).
 */
import { loadConfig } from '../config/load.js';
import type { MailgateConfig } from '../config/schema.js';
import type { Accounts } from '../store/accounts/accounts.js';
import { AccountsError, type AccountsAdmin } from '../store/accounts/admin.js';
import { openAccounts } from '../store/accounts/open.js';

export interface ConfigOption {
  config?: string;
}

export const CONFIG_HELP = 'configuration file (default: ./mailgate.toml if present, else the embedded defaults)';

/** The embedded default of `[domains] local`. */
const DEFAULT_LOCAL_DOMAINS: readonly string[] = ['localhost'];

/** `[domains] local` of a loaded configuration (["localhost"] when the section is absent). */
export function localDomainsOf(config: MailgateConfig): readonly string[] {
  const domains = (config as { domains?: { local?: readonly string[] } }).domains;
  return domains?.local ?? DEFAULT_LOCAL_DOMAINS;
}

/**
 * Opens the accounts of the configuration, runs `body`, closes them. `create: false` for listings, so
 * that a listing on a fresh install creates no database. An AccountsError is printed and exits 1.
 */
export async function withAccounts(o: ConfigOption, create: boolean, body: (accounts: Accounts & AccountsAdmin) => Promise<void> | void): Promise<void> {
  const { config, warnings } = loadConfig(o.config, { readTrustDomainsFile: false });
  for (const warning of warnings ?? []) process.stderr.write(`mailgate: warning: ${warning}\n`);
  let accounts: (Accounts & AccountsAdmin) | undefined;
  try {
    accounts = openAccounts({ dataDir: config.dataDir, localDomains: localDomainsOf(config), create });
    await body(accounts);
  } catch (err) {
    if (!(err instanceof AccountsError) && !isSqliteError(err)) throw err;
    process.stderr.write(`mailgate: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    accounts?.close();
  }
}

/** better-sqlite3's errors (locked, corrupt, read-only file...): a plain message, not a stack. */
function isSqliteError(err: unknown): boolean {
  return err instanceof Error && err.name === 'SqliteError';
}
