/** `mailgate show-config`: the effective configuration as TOML, each value with where it came from. */
import { Command } from 'commander';
import { ConfigError } from '../config/errors.js';
import { formatConfig } from '../config/format.js';
import { loadConfig } from '../config/load.js';
import { checkBuiltinFilter } from '../filters/registry.js';
import { withDetectedChildren } from './detected-children.js';
import { postfixMilterComment } from './postfix-milters.js';

export { ConfigError, formatConfig };

export function showConfigCommand(): Command {
  return new Command('show-config')
    .description('print the effective configuration as TOML, each value preceded by where it came from')
    .option('-c, --config <file>', 'configuration file (default: ./mailgate.toml if present, else the embedded defaults)')
    .action((options: { config?: string }) => {
      try {
        const loaded = withDetectedChildren(loadConfig(options.config));
        for (const warning of loaded.warnings ?? []) process.stderr.write(`mailgate: warning: ${warning}\n`);
        // What `mailgate manager` would refuse (a greylist.conf syntax error) is reported here too.
        for (const m of loaded.config.milters) if (m.builtin !== undefined) checkBuiltinFilter(m);
        process.stdout.write(formatConfig(loaded) + postfixMilterComment(loaded.config.manager.connectionSpec));
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exitCode = 2;
      }
    });
}
