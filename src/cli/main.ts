#!/usr/bin/env node
/** The `mailgate` command. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { SocketSetupError } from '../milter/socket-file.js';
import { SpecError } from '../milter/spec.js';
import { UsageError } from './options.js';
import { ChainSetupError } from '../chain/from-config.js';
import { ConfigError } from '../config/errors.js';
import { aliasCommand } from './alias.js';
import { detectCommand } from './detect.js';
import { domainCommand } from './domain.js';
import { greylistCommand } from './greylist.js';
import { regexCommand } from './regex.js';
import { managerCommand } from './manager.js';
import { queueCommand } from './queue.js';
import { showConfigCommand } from './show-config.js';
import { startCommand } from './start.js';
import { StartError } from './start-services.js';
import { testClientCommand } from './test-client.js';
import { testServerCommand } from './test-server/command.js';
import { userCommand } from './user.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('mailgate')
  .description('Mailgate: a mail system built around one filter chain')
  .version(pkg.version)
  .exitOverride()
  .addCommand(startCommand().exitOverride())
  .addCommand(managerCommand().exitOverride())
  .addCommand(showConfigCommand().exitOverride())
  .addCommand(detectCommand().exitOverride())
  .addCommand(testServerCommand().exitOverride())
  .addCommand(testClientCommand().exitOverride())
  .addCommand(greylistCommand().exitOverride())
  .addCommand(regexCommand().exitOverride())
  .addCommand(domainCommand().exitOverride())
  .addCommand(userCommand().exitOverride())
  .addCommand(aliasCommand().exitOverride())
  .addCommand(queueCommand().exitOverride());

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version exit 0; a usage error has been printed by commander already.
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  if (
    err instanceof UsageError ||
    err instanceof SpecError ||
    err instanceof SocketSetupError ||
    err instanceof ConfigError ||
    err instanceof ChainSetupError ||
    err instanceof StartError
  ) {
    process.stderr.write(`mailgate: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`mailgate: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
