#!/usr/bin/env -S node --max-semi-space-size=2 --heap-growing-percent=20
/**
 * The `mailgate` command.
 * The V8 flags in the first line keep a busy `mailgate start` small (issue 10: under 100 MB at 50 SMTP
 * sessions): with V8's defaults the heap grows to 3-4 times the live data between full collections (peak
 * RSS 130-160 MB for about 21 MB live), with a 2 MB young generation and 20 % growth steps it stays near
 * 95 MB for the same CPU time per message (bench:smtp). They must be given at start (V8 sizes the heap
 * then), so scripts/start.sh and bench:smtp read them from this line.
 */
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
