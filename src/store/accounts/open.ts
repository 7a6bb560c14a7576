/**
 * The accounts factory the services and the commands call: the SQLite accounts of a data directory,
 * with the configuration's local domains.
 */
import type { Accounts } from './accounts.js';
import type { AccountsAdmin } from './admin.js';
import { SqliteAccounts } from './sqlite.js';

export interface OpenAccountsOptions {
  /** The top-level data_dir (absolute, as the loaded configuration has it). */
  readonly dataDir: string;
  /** `[domains] local` (the embedded default is ["localhost"]); domains added with `mailgate domain add` join them. */
  readonly localDomains: readonly string[];
  /** false: create nothing when the database does not exist yet (read-only listings). Default true. */
  readonly create?: boolean;
}

export function openAccounts(options: OpenAccountsOptions): Accounts & AccountsAdmin {
  return new SqliteAccounts(options);
}
