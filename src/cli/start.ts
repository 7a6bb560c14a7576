/**
 * `mailgate start`: the whole mail server in the foreground (systemd style). With no configuration file it
 * runs on the embedded defaults: data in ./data, MX on 127.0.0.1:2525, submission on 2587 (STARTTLS) and
 * 2465 (implicit TLS), IMAP on 2143 (STARTTLS) and 2993 (TLS), POP3 on 2110 (STLS) and 2995 (TLS), a self-signed certificate made at the first start, the local domain localhost, and
 * the milter listener on inet:10025@[127.0.0.1] serving the same chain, so that a Postfix beside it can use
 * the same filters. SIGHUP reloads (the chain; what needs a restart is named), SIGTERM stops accepting,
 * lets the SMTP sessions in flight finish (up to SHUTDOWN_GRACE_SECONDS) and stops the queue.
 */
import { Command, Option } from 'commander';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { makeDirectory } from '../config/make-directory.js';
import type { LoadedConfig } from '../config/origin.js';
import { configErrorAt } from '../config/overrides.js';
import type { MailgateConfig, MtaConfig } from '../config/schema.js';
import { createLogger, type Logger } from '../mail/logger.js';
import { FilterFront, readyToServe } from './filter-front.js';
import { UsageError } from './options.js';
import { handleSignals, serialReload } from './signals.js';
import { serviceFactories } from './start-factories.js';
import { StartError, startMta, type ServiceFactories } from './start-services.js';
import { formatStartSummary } from './start-summary.js';
import { captureStrayConsole } from './stray-console.js';
import { loadTlsCertificate } from './tls-certificate.js';

/**
 * Seconds SMTP sessions in flight get to finish after SIGTERM before they are cut: long enough for a
 * message being received, well under systemd's default TimeoutStopSec (90 s).
 */
export const SHUTDOWN_GRACE_SECONDS = 30;

/** data_dir is made with this mode: the accounts, queue and mailboxes inside are nobody else's business. */
const DATA_DIR_MODE = 0o750;

interface Options {
  config?: string;
  verbose?: boolean;
  logFormat?: 'json' | 'human';
}

export function startCommand(factories: ServiceFactories = serviceFactories): Command {
  return new Command('start')
    .description('run the mail server in the foreground: SMTP (MX and submission), queue, delivery, IMAP, POP3, and the filter chain')
    .option('-c, --config <file>', 'configuration file (default ./mailgate.toml, else the embedded defaults)')
    .option('--verbose', 'log debug detail, in the human format unless --log-format json')
    .addOption(new Option('--log-format <format>', 'json (one JSON object per line, the default) or human').choices(['json', 'human']))
    .action(async (opts: Options) => {
      await run(opts, factories);
    });
}

function load(opts: Options): LoadedConfig {
  try {
    return readyToServe(loadConfig(opts.config));
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.toString());
    throw err;
  }
}

/** data_dir, made when missing (with its parents), located at its file:line when it cannot be. */
function makeDataDir(loaded: LoadedConfig): void {
  try {
    makeDirectory(loaded.config.dataDir, DATA_DIR_MODE);
  } catch (err) {
    throw configErrorAt(loaded, 'data_dir', 'data_dir', `cannot create data directory ${loaded.config.dataDir}: ${(err as Error).message}`);
  }
}

/** The sections the running services took at start: a change in them needs a restart. */
const RESTART_SECTIONS = ['dataDir', 'hostname', 'smtp', 'submission', 'imap', 'pop3', 'mailbox', 'tls', 'domains', 'queue', 'delivery'] as const satisfies readonly (keyof MtaConfig | 'dataDir')[];
const SECTION_NAMES: Record<(typeof RESTART_SECTIONS)[number], string> = {
  dataDir: 'data_dir',
  hostname: 'hostname',
  smtp: '[smtp]',
  submission: '[submission]',
  imap: '[imap]',
  pop3: '[pop3]',
  mailbox: '[mailbox]',
  tls: '[tls]',
  domains: '[domains]',
  queue: '[queue]',
  delivery: '[delivery]',
};

/** What changed between two configurations among the sections only a restart applies. */
export function sectionsNeedingRestart(running: MailgateConfig, next: MailgateConfig): string[] {
  return RESTART_SECTIONS.filter((k) => JSON.stringify(running[k]) !== JSON.stringify(next[k])).map((k) => SECTION_NAMES[k]);
}

async function run(opts: Options, factories: ServiceFactories): Promise<void> {
  const human = opts.logFormat === undefined ? opts.verbose === true : opts.logFormat === 'human';
  const logger: Logger = createLogger({ level: opts.verbose ? 'debug' : 'info', human });
  captureStrayConsole(logger);
  const loaded = load(opts);
  for (const warning of loaded.warnings ?? []) logger.warn(warning);
  let tls;
  try {
    makeDataDir(loaded);
    tls = await loadTlsCertificate(loaded);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.toString());
    throw err;
  }
  if (tls.created) logger.info({ cert: tls.certFile, key: tls.keyFile, cn: loaded.config.hostname }, 'made a self-signed TLS certificate');

  let front: FilterFront;
  try {
    front = await FilterFront.start(loaded, logger, milterListenerWanted(loaded));
  } catch (err) {
    throw new StartError(`milter listener ${loaded.config.manager.connectionSpec}: ${(err as Error).message}`);
  }
  let mta;
  try {
    mta = await startMta(loaded.config, { chain: front.chain, tls: { cert: tls.cert, key: tls.key }, logger }, factories);
  } catch (err) {
    await front.close();
    throw err;
  }

  let running = loaded.config;
  const reload = serialReload(logger, async () => {
    const next = load(opts);
    for (const warning of next.warnings ?? []) logger.warn(warning);
    await front.reload(next, running);
    const restart = sectionsNeedingRestart(running, next.config);
    running = { ...next.config, ...Object.fromEntries(RESTART_SECTIONS.map((k) => [k, running[k]])) } as MailgateConfig;
    logger.info({ children: front.children }, 'configuration reloaded: the chain');
    if (restart.length > 0) logger.warn({ sections: restart }, `${restart.join(', ')} changed: it takes effect at the next restart`);
  });
  const stopped = handleSignals({
    logger,
    reload,
    stop: async (signal) => {
      logger.info({ signal, graceSeconds: SHUTDOWN_GRACE_SECONDS }, 'shutting down: no new connections; sessions in flight may finish');
      // Both listeners close at once and drain side by side (SIGTERM means no new connection anywhere, and
      // the stop stays within the grace, not the sum of two); the chain both use is ended after them.
      await Promise.all([mta.stop(SHUTDOWN_GRACE_SECONDS), front.stopListening()]);
      await front.close();
    },
  });

  // Printed once the signals are handled: whoever waits for it may stop the server at once.
  process.stdout.write(
    formatStartSummary({
      config: loaded.config,
      file: loaded.file,
      certFile: tls.certFile,
      selfSigned: tls.selfSigned,
      certCreated: tls.created,
      children: front.children,
      command: process.env['MAILGATE_COMMAND'] ?? 'mailgate',
      milterListener: front.server !== undefined,
    }),
  );
  const c = loaded.config;
  logger.info(
    { smtp: c.smtp.listen.length, submission: c.submission.listen.length, submissions: c.submission.tlsListen.length, imap: c.imap.listen.length, imaps: c.imap.tlsListen.length, pop3: c.pop3.listen.length, pop3s: c.pop3.tlsListen.length, milter: front.server !== undefined ? c.manager.connectionSpec : 'off', dataDir: c.dataDir },
    'mailgate started',
  );
  await stopped;
  logger.info('stopped');
  // Everything is closed; a handle a library forgot must not keep a stopped server alive.
  setTimeout(() => process.exit(0), 2000).unref();
}

/**
 * Whether `mailgate start` serves the chain to an MTA beside it: always on the embedded default (a Postfix
 * on the same machine may use it), and with a configuration file only when the file has a [manager]
 * section: `mailgate start --config` runs what the file enables, and an unasked-for listener on 10025
 * would be a surprise (and a port clash for a second instance).
 */
export function milterListenerWanted(loaded: LoadedConfig): boolean {
  if (loaded.file === undefined) return true;
  for (const [key, origin] of loaded.origins) if (key.startsWith('manager.') && origin !== 'default') return true;
  return false;
}
