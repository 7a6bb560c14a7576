/**
 * `mailgate manager`: the milter manager in the foreground (systemd style). Postfix names one socket;
 * every SMTP session fans out to the configured children. SIGHUP reloads the configuration (new
 * sessions use the new children, sessions in flight finish on the old ones); SIGTERM drains and exits.
 */
import { Command, Option } from 'commander';
import { ConfigError } from '../config/errors.js';
import { DEFAULT_CONFIG_FILE } from '../config/defaults.js';
import { loadConfig } from '../config/load.js';
import type { LoadedConfig } from '../config/origin.js';
import { applyOverrides, configErrorAt } from '../config/overrides.js';
import { parseConnectionSpec } from '../config/connection-spec.js';
import { createLogger, type Logger } from '../mail/logger.js';
import { captureStrayConsole } from './stray-console.js';
import { lookupId, SocketSetupError } from '../milter/socket-file.js';
import { FilterFront, readyToServe } from './filter-front.js';
import { UsageError } from './options.js';
import { handleSignals, serialReload } from './signals.js';
import { postfixMilterAdvice, postfixMilterMessage } from './postfix-milters.js';

interface Options {
  config?: string;
  connectionSpec?: string;
  unixSocketGroup?: string;
  unixSocketMode?: string;
  verbose?: boolean;
  logFormat?: 'json' | 'human';
}

export function managerCommand(): Command {
  return new Command('manager')
    .description('run the milter manager in the foreground: one socket for the MTA, fanned out to every child milter')
    .option('-c, --config <file>', 'configuration file (default ./mailgate.toml, else built-in defaults)')
    .option('-s, --connection-spec <spec>', 'where to listen: unix:PATH | inet:PORT[@HOST] | inet6:PORT[@HOST] | inet:HOST:PORT (Postfix)')
    .option('--unix-socket-group <group>', 'group of the unix socket (e.g. postfix)')
    .option('--unix-socket-mode <mode>', 'mode of the unix socket (default 0660)')
    .option('--verbose', 'log debug detail, in the human format unless --log-format json')
    .addOption(new Option('--log-format <format>', 'json (one JSON object per line, the default) or human (ISO time, level name, key=value)').choices(['json', 'human']))
    .action(async (opts: Options) => {
      await run(opts);
    });
}

function load(opts: Options): LoadedConfig {
  return readyToServe(
    applyOverrides(loadConfig(opts.config), {
      ...(opts.connectionSpec !== undefined ? { connectionSpec: opts.connectionSpec } : {}),
      ...(opts.unixSocketGroup !== undefined ? { unixSocketGroup: opts.unixSocketGroup } : {}),
      ...(opts.unixSocketMode !== undefined ? { unixSocketMode: opts.unixSocketMode } : {}),
    }),
  );
}

/**
 * A unix_socket_group unknown on this host, located at its file:line (or option): found at start only,
 * since a reload keeps the socket (and NSS may be slow: not on the reload path).
 */
function checkSocketGroup(loaded: LoadedConfig): ConfigError | undefined {
  const { connectionSpec, unixSocketGroup } = loaded.config.manager;
  if (unixSocketGroup === undefined || parseConnectionSpec(connectionSpec).type !== 'unix') return undefined;
  try {
    lookupId('group', unixSocketGroup);
    return undefined;
  } catch (err) {
    if (err instanceof SocketSetupError) return configErrorAt(loaded, 'manager.unix_socket_group', '--unix-socket-group', err.message);
    throw err;
  }
}

async function run(opts: Options): Promise<void> {
  const human = opts.logFormat === undefined ? opts.verbose === true : opts.logFormat === 'human';
  const logger: Logger = createLogger({ level: opts.verbose ? 'debug' : 'info', human });
  captureStrayConsole(logger);
  let loaded: LoadedConfig;
  try {
    loaded = load(opts);
    const problem = checkSocketGroup(loaded);
    if (problem) throw problem;
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.toString());
    throw err;
  }
  for (const warning of loaded.warnings ?? []) logger.warn(warning);
  const front = await FilterFront.start(loaded, logger);
  const m = loaded.config.manager;
  let running = loaded.config;

  const reload = serialReload(logger, async () => {
    const next = load(opts);
    for (const warning of next.warnings ?? []) logger.warn(warning);
    await front.reload(next, running);
    running = next.config;
    logger.info({ children: front.children }, 'configuration reloaded');
    warnIfPassThrough(logger, next, front.children.length);
  });
  const stopped = handleSignals({
    logger,
    reload,
    stop: (signal) => {
      logger.info({ signal }, 'shutting down: draining sessions in flight');
      return front.close();
    },
  });
  // Announced once the signals are handled: whoever waits for "ready" may stop it at once.
  logger.info({ children: front.children, listen: m.connectionSpec }, 'manager ready');
  logger.info({ smtpd_milters: postfixMilterAdvice(m.connectionSpec).spec }, postfixMilterMessage(m.connectionSpec));
  warnIfPassThrough(logger, loaded, front.children.length);
  await stopped;
}

/** A manager with no child passes every message unfiltered: say so, and why, once at start or reload. */
function warnIfPassThrough(logger: Logger, loaded: LoadedConfig, children: number): void {
  if (children > 0) return;
  if (loaded.file === undefined) {
    logger.warn(
      { cwd: process.cwd() },
      `no configuration file found (no --config, and no ${DEFAULT_CONFIG_FILE} in ${process.cwd()}): no child milters, mail passes unfiltered`,
    );
  } else {
    logger.warn({ config: loaded.file }, `no child milter in ${loaded.file} (no enabled [[milter]]): mail passes unfiltered`);
  }
}
