/**
 * `mailgate alias add ALIAS TARGET...|del ALIAS [TARGET...]|list [--config FILE]`: addresses of a local
 * domain that deliver to other addresses, local users or remote (Postfix's virtual_alias_maps).
 */
import { Command } from 'commander';
import { CONFIG_HELP, withAccounts, type ConfigOption } from './accounts-config.js';

export function aliasCommand(): Command {
  const cmd = new Command('alias').description('add, delete or list aliases (addresses that forward to others)');
  cmd.addCommand(
    new Command('add')
      .description('add targets to an alias (created if new); a local target must be a user or an alias')
      .argument('<alias>')
      .argument('<target...>')
      .option('-c, --config <file>', CONFIG_HELP)
      .action((alias: string, targets: string[], o: ConfigOption) =>
        withAccounts(o, true, (a) => {
          a.addAlias(alias, targets);
          process.stdout.write(`alias ${alias.toLowerCase()} -> ${targets.join(', ')}\n`);
        }),
      )
      .exitOverride(),
  );
  cmd.addCommand(
    new Command('del')
      .description('delete targets from an alias, or the whole alias when no target is given')
      .argument('<alias>')
      .argument('[target...]')
      .option('-c, --config <file>', CONFIG_HELP)
      .action((alias: string, targets: string[], o: ConfigOption) =>
        withAccounts(o, true, (a) => {
          a.deleteAlias(alias, targets);
          process.stdout.write(targets.length === 0 ? `alias ${alias.toLowerCase()} deleted\n` : `alias ${alias.toLowerCase()}: ${targets.join(', ')} deleted\n`);
        }),
      )
      .exitOverride(),
  );
  cmd.addCommand(
    new Command('list')
      .description('list the aliases and their targets')
      .option('-c, --config <file>', CONFIG_HELP)
      .action((o: ConfigOption) =>
        withAccounts(o, false, (a) => {
          for (const e of a.listAliases()) process.stdout.write(`${e.address} -> ${e.targets.join(', ')}\n`);
        }),
      )
      .exitOverride(),
  );
  return cmd;
}
