/**
 * `mailgate domain add|del|list [--config FILE]`: the local domains kept in the accounts database,
 * beside the configuration's `[domains] local`. Mail for a local domain is delivered here.
 */
import { Command } from 'commander';
import { CONFIG_HELP, withAccounts, type ConfigOption } from './accounts-config.js';

export function domainCommand(): Command {
  const cmd = new Command('domain').description('add, delete or list the local domains (mail for them is delivered here)');
  cmd.addCommand(
    new Command('add')
      .description('make a domain local')
      .argument('<domain>')
      .option('-c, --config <file>', CONFIG_HELP)
      .action((domain: string, o: ConfigOption) =>
        withAccounts(o, true, (a) => {
          a.addDomain(domain);
          process.stdout.write(`domain ${domain.toLowerCase()} added\n`);
        }),
      )
      .exitOverride(),
  );
  cmd.addCommand(
    new Command('del')
      .description('delete a domain that has no users or aliases left')
      .argument('<domain>')
      .option('-c, --config <file>', CONFIG_HELP)
      .action((domain: string, o: ConfigOption) =>
        withAccounts(o, true, (a) => {
          a.deleteDomain(domain);
          process.stdout.write(`domain ${domain.toLowerCase()} deleted\n`);
        }),
      )
      .exitOverride(),
  );
  cmd.addCommand(
    new Command('list')
      .description('list the local domains, those of the configuration marked "(config)"')
      .option('-c, --config <file>', CONFIG_HELP)
      .action((o: ConfigOption) =>
        withAccounts(o, false, (a) => {
          for (const d of a.listDomains()) process.stdout.write(d.source === 'config' ? `${d.name} (config)\n` : `${d.name}\n`);
        }),
      )
      .exitOverride(),
  );
  return cmd;
}
