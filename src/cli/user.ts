/**
 * `mailgate user add ADDRESS [--password-stdin]|del ADDRESS|passwd ADDRESS [--password-stdin]|list
 * [DOMAIN]|quota ADDRESS [--storage SIZE] [--messages N]|import PASSWD-FILE [--domain DOMAIN]`, each with
 * `--config FILE`: the users who log in (SMTP AUTH, IMAP, POP3) and have a Maildir, and their own quotas.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { parseAccountAddress } from '../store/accounts/address.js';
import { AccountsError, type AccountsAdmin, type ImportedUser } from '../store/accounts/admin.js';
import type { Accounts, UserQuota } from '../store/accounts/accounts.js';
import { parsePasswdFile } from '../store/accounts/passwd-file.js';
import { parseSize } from '../store/accounts/quota-rule.js';
import { normaliseStoredPassword } from '../store/accounts/password.js';
import { CONFIG_HELP, withAccounts, type ConfigOption } from './accounts-config.js';
import { UsageError } from './options.js';
import { readNewPassword } from './password-input.js';

interface PasswordOptions extends ConfigOption {
  passwordStdin?: boolean;
}

export function userCommand(): Command {
  const cmd = new Command('user').description('add, delete or list users, change a password, import a Dovecot passwd-file');
  cmd.addCommand(
    new Command('add')
      .description('add a user of a local domain (the password is asked for, or read from standard input)')
      .argument('<address>')
      .option('--password-stdin', 'read the password from the first line of standard input')
      .option('-c, --config <file>', CONFIG_HELP)
      .action((address: string, o: PasswordOptions) =>
        withAccounts(o, true, async (a) => {
          const normal = checkNewUser(a, address);
          const user = await a.addUser(normal, await readNewPassword(o.passwordStdin === true, normal));
          process.stdout.write(`user ${user} added; Maildir ${a.maildirOf(user)}\n`);
        }),
      )
      .exitOverride(),
  );
  cmd.addCommand(
    new Command('passwd')
      .description("change a user's password")
      .argument('<address>')
      .option('--password-stdin', 'read the password from the first line of standard input')
      .option('-c, --config <file>', CONFIG_HELP)
      .action((address: string, o: PasswordOptions) =>
        withAccounts(o, true, async (a) => {
          if (!a.hasUser(address)) throw new AccountsError(`no user ${address.toLowerCase()}`);
          await a.setPassword(address, await readNewPassword(o.passwordStdin === true, address.toLowerCase()));
          process.stdout.write(`password of ${address.toLowerCase()} changed\n`);
        }),
      )
      .exitOverride(),
  );
  cmd.addCommand(
    new Command('del')
      .description('delete a user (the Maildir stays on disk)')
      .argument('<address>')
      .option('-c, --config <file>', CONFIG_HELP)
      .action((address: string, o: ConfigOption) =>
        withAccounts(o, true, (a) => {
          a.deleteUser(address);
          process.stdout.write(`user ${address.toLowerCase()} deleted\n`);
        }),
      )
      .exitOverride(),
  );
  cmd.addCommand(
    new Command('list')
      .description('list the users (of one domain when given) and how their passwords are stored')
      .argument('[domain]')
      .option('-c, --config <file>', CONFIG_HELP)
      .action((domain: string | undefined, o: ConfigOption) =>
        withAccounts(o, false, (a) => {
          for (const u of a.listUsers(domain)) process.stdout.write(`${u.address} ${u.scheme ?? 'unknown'}${u.quota === undefined ? '' : ` quota ${quotaText(u.quota)}`}\n`);
        }),
      )
      .exitOverride(),
  );
  cmd.addCommand(
    new Command('quota')
      .description("show or set a user's own quota, over [mailbox] quota and quota_messages (SIZE: bytes, or with k, M, G or T; 0: no limit; default: the configured one)")
      .argument('<address>')
      .option('--storage <size>', 'the most bytes of mail over all folders')
      .option('--messages <count>', 'the most messages over all folders')
      .option('-c, --config <file>', CONFIG_HELP)
      .action((address: string, o: ConfigOption & { storage?: string; messages?: string }) =>
        withAccounts(o, o.storage !== undefined || o.messages !== undefined, (a) => {
          if (!a.hasUser(address)) throw new AccountsError(`no user ${address.toLowerCase()}`);
          if (o.storage !== undefined || o.messages !== undefined) {
            a.setQuota(address, {
              ...(o.storage === undefined ? {} : { bytes: quotaArgument(o.storage, '--storage', (t) => parseSize(t)) }),
              ...(o.messages === undefined ? {} : { messages: quotaArgument(o.messages, '--messages', (t) => (/^\d{1,15}$/.test(t.trim()) ? Number(t.trim()) : undefined)) }),
            });
          }
          const q = a.quotaOf(address);
          process.stdout.write(`${address.toLowerCase()}: ${q === undefined ? 'the configured quota ([mailbox] quota, quota_messages)' : `quota ${quotaText(q)}`}\n`);
        }),
      )
      .exitOverride(),
  );
  cmd.addCommand(
    new Command('import')
      .description("import users and their password hashes from a Dovecot passwd-file (all or nothing; existing users get the file's password)")
      .argument('<passwd-file>')
      .option('--domain <domain>', 'the domain of users written without one (a per-domain passwd-file)')
      .option('-c, --config <file>', CONFIG_HELP)
      .action((file: string, o: ConfigOption & { domain?: string }) =>
        withAccounts(o, true, (a) => {
          const users = readPasswdFile(a, file, o.domain);
          const r = a.importUsers(users);
          process.stdout.write(`${file}: ${r.added} ${r.added === 1 ? 'user' : 'users'} added, ${r.updated} updated\n`);
        }),
      )
      .exitOverride(),
  );
  return cmd;
}

/** A --storage/--messages value: a number (0: no limit), or null for `default` (the configured one). */
function quotaArgument(text: string, option: string, parse: (t: string) => number | undefined): number | null {
  if (text.trim().toLowerCase() === 'default') return null;
  const n = parse(text);
  if (n === undefined) throw new UsageError(`${option} ${JSON.stringify(text)}: a whole number (a size may end in k, M, G or T), 0 for no limit, or default`);
  return n;
}

/** `storage 1G, messages 1000` (a limit left to the configuration: `default`; 0: `none`). */
function quotaText(q: UserQuota): string {
  const size = (n: number): string => {
    if (n === 0) return 'none';
    for (const [unit, f] of [['T', 1024 ** 4], ['G', 1024 ** 3], ['M', 1024 ** 2], ['k', 1024]] as const) if (n % f === 0) return `${n / f}${unit}`;
    return String(n);
  };
  return `storage ${q.bytes === undefined ? 'default' : size(q.bytes)}, messages ${q.messages === undefined ? 'default' : q.messages === 0 ? 'none' : q.messages}`;
}

/** Refuses, before the password is asked for, what addUser would refuse after. */
function checkNewUser(a: Accounts & AccountsAdmin, address: string): string {
  const p = parseAccountAddress(address);
  if (typeof p === 'string') throw new UsageError(p);
  if (!a.isLocalDomain(p.domain)) throw new AccountsError(`${p.domain} is not a local domain: add it first with \`mailgate domain add ${p.domain}\``);
  if (a.hasUser(p.address)) throw new AccountsError(`user ${p.address} already exists`);
  return p.address;
}

/** The users of a passwd-file, or an AccountsError listing every bad line as FILE:LINE: why. */
function readPasswdFile(a: Accounts, file: string, domain: string | undefined): ImportedUser[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AccountsError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const { entries, problems } = parsePasswdFile(text);
  const bad = problems.map((p) => `${file}:${p.line}: ${p.message}`);
  const users: ImportedUser[] = [];
  const lineOf = new Map<string, number>();
  for (const e of entries) {
    const at = (why: string) => bad.push(`${file}:${e.line}: ${why}`);
    let address = e.user;
    if (!address.includes('@')) {
      if (domain === undefined) {
        at(`${address}: no domain (give --domain for a per-domain passwd-file)`);
        continue;
      }
      address = `${address}@${domain}`;
    }
    const p = parseAccountAddress(address);
    if (typeof p === 'string') {
      at(p);
      continue;
    }
    if (!a.isLocalDomain(p.domain)) {
      at(`${p.domain} is not a local domain: add it first with \`mailgate domain add ${p.domain}\``);
      continue;
    }
    const first = lineOf.get(p.address);
    if (first !== undefined) {
      at(`${p.address} already on line ${first}`);
      continue;
    }
    lineOf.set(p.address, e.line);
    const stored = normaliseStoredPassword(e.password);
    if (typeof stored === 'string') {
      at(`${p.address}: ${stored}`);
      continue;
    }
    users.push({ address: p.address, stored: stored.stored, ...(e.quota === undefined ? {} : { quota: e.quota }) });
  }
  if (bad.length > 0) throw new AccountsError(`nothing imported:\n${bad.join('\n')}`);
  if (users.length === 0) throw new AccountsError(`${file}: no users`);
  return users;
}
