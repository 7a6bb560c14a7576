/** Reads mailgate.toml: TOML syntax, then every section checked, with file:line and key on any error. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { ConditionNames } from './condition-names.js';
import { DEFAULT_CONFIG_FILE, defaultConfig } from './defaults.js';
import { ConfigError } from './errors.js';
import { TomlLocator } from './locate.js';
import type { LoadedConfig } from './origin.js';
import { ReadContext, TableReader, type TomlTable } from './reader.js';
import type { MailgateConfig } from './schema.js';
import { findUnterminatedString } from './unterminated-string.js';
import { readConditions } from './sections/condition.js';
import { readDataDir } from './sections/data-dir.js';
import { readDelivery } from './sections/delivery.js';
import { readDomains, readHostname } from './sections/domains.js';
import { readQueue } from './sections/queue.js';
import { readSmtp } from './sections/smtp.js';
import { readSubmission } from './sections/submission.js';
import { readPop3 } from './sections/pop3.js';
import { readImap } from './sections/imap.js';
import { readMailbox } from './sections/mailbox.js';
import { readTls } from './sections/tls.js';
import { readManager } from './sections/manager.js';
import { readMilters } from './sections/milter.js';
import { readRemoteNetwork, readS25r, readStress, readTrust } from './sections/options.js';

export const TOP_LEVEL_KEYS = [
  'data_dir',
  'hostname',
  'smtp',
  'submission',
  'imap',
  'pop3',
  'mailbox',
  'tls',
  'domains',
  'queue',
  'delivery',
  'manager',
  'milter',
  'condition',
  's25r',
  'remote_network',
  'trust',
  'stress',
] as const;

export interface LoadOptions extends Pick<ParseOptions, 'readTrustDomainsFile'> {
  /** Where ./mailgate.toml is looked for; default process.cwd(). */
  readonly cwd?: string;
}

/**
 * Loads `path`; without a path, ./mailgate.toml if it exists, else the embedded defaults.
 * Throws ConfigError (also for a file that cannot be read).
 */
export function loadConfig(path?: string, options: LoadOptions = {}): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  let file = path;
  if (file === undefined) {
    if (!existsSync(resolve(cwd, DEFAULT_CONFIG_FILE))) return embeddedDefaults(cwd);
    file = DEFAULT_CONFIG_FILE;
  }
  let text: string;
  try {
    text = readFileSync(resolve(cwd, file), 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message;
    throw new ConfigError(`cannot read the configuration file: ${why}`, { file });
  }
  return parseConfig(text, file, {
    baseDir: dirname(resolve(cwd, file)),
    ...(options.readTrustDomainsFile !== undefined ? { readTrustDomainsFile: options.readTrustDomainsFile } : {}),
  });
}

/** The configuration used when there is no file: every value a default, relative paths relative to `cwd`. */
export function embeddedDefaults(cwd: string = process.cwd()): LoadedConfig {
  const config = defaultConfig();
  return { config: { ...config, dataDir: resolve(cwd, config.dataDir) }, origins: new Map(), file: undefined };
}

export interface ParseOptions {
  /** Directory every relative path in the file (data_dir, sockets, domains_file...) is resolved against; default: the file's. */
  readonly baseDir?: string;
  /**
   * Whether [trust] domains_file is read (default true): the manager and show-config need the list, and
   * a missing one stops them with file:line. A command that needs no trust list (`mailgate greylist`)
   * passes false, so that the list cannot stop it: trust.domainsFile is set, trust.fileDomains is not.
   */
  readonly readTrustDomainsFile?: boolean;
}

/** Parses and validates configuration text; `fileName` is used in origins and errors. Throws only ConfigError. */
export function parseConfig(text: string, fileName: string, options: ParseOptions = {}): LoadedConfig {
  let doc: TomlTable;
  try {
    doc = parse(text) as TomlTable;
  } catch (err) {
    throw syntaxError(err, fileName, text);
  }
  const ctx = new ReadContext(fileName, new TomlLocator(text));
  try {
    const config = readDocument(ctx, doc, options.baseDir ?? dirname(resolve(fileName)), options.readTrustDomainsFile ?? true);
    return { config, origins: ctx.origins, file: fileName, warnings: ctx.warnings };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // A bug here must still come out as a ConfigError naming the file, never as a crash in the caller.
    throw new ConfigError(`internal error while checking the configuration: ${(err as Error).message}`, { file: fileName });
  }
}

function syntaxError(err: unknown, file: string, text: string): ConfigError {
  if (err instanceof TomlError) {
    const open = findUnterminatedString(text);
    if (open !== undefined && open.line <= err.line) {
      const where = open.quote.length === 3 ? 'anywhere after it' : 'on the same line';
      return new ConfigError(`TOML syntax error: unterminated string: the ${open.quote} on this line has no closing ${open.quote} ${where}`, {
        file,
        line: open.line,
      });
    }
    const first = err.message.split('\n')[0] ?? err.message;
    const reason = first.replace(/^Invalid TOML document: /, '');
    return new ConfigError(`TOML syntax error: ${reason}`, { file, line: err.line });
  }
  return new ConfigError(`TOML syntax error: ${(err as Error).message}`, { file });
}

function readDocument(ctx: ReadContext, doc: TomlTable, baseDir: string, readTrustDomainsFile: boolean): MailgateConfig {
  const root = new TableReader(ctx, '', doc, 'the top level', '');
  root.checkKeys(TOP_LEVEL_KEYS);
  const section = (key: string, originPrefix: string): TableReader =>
    root.table(key, `[${key}]`, originPrefix) ?? new TableReader(ctx, key, {}, `[${key}]`, originPrefix);

  // Conditions first: applicable_conditions may name them wherever they are in the file.
  const conditions = readConditions(root.tables('condition'));
  const names = new ConditionNames(conditions.map((c) => c.name));
  const manager = section('manager', 'manager');
  return {
    dataDir: readDataDir(root, manager, baseDir, (warning) => ctx.warnings.push(warning)),
    hostname: readHostname(root),
    smtp: readSmtp(section('smtp', 'smtp')),
    submission: readSubmission(section('submission', 'submission')),
    imap: readImap(section('imap', 'imap')),
    pop3: readPop3(section('pop3', 'pop3')),
    mailbox: readMailbox(section('mailbox', 'mailbox')),
    tls: readTls(section('tls', 'tls'), baseDir),
    domains: readDomains(section('domains', 'domains')),
    queue: readQueue(section('queue', 'queue')),
    delivery: readDelivery(section('delivery', 'delivery'), baseDir),
    manager: readManager(manager, baseDir),
    milters: readMilters(root.tables('milter'), names, { baseDir }),
    conditions,
    s25r: readS25r(section('s25r', 's25r')),
    remoteNetwork: readRemoteNetwork(section('remote_network', 'remote_network')),
    trust: readTrust(section('trust', 'trust'), baseDir, readTrustDomainsFile),
    stress: readStress(section('stress', 'stress')),
  };
}
