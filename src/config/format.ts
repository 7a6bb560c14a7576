/**
 * The effective configuration as TOML (what `mailgate show-config` prints): every item, defaults included,
 * each preceded by a comment saying where its value came from. The output parses back to the same config.
 */
import { builtinKeys } from './builtins/index.js';
import { shownDefaults, type ShownDefault } from './builtins/shown-defaults.js';
import { DEFAULT_CONFIG_FILE } from './defaults.js';
import { conditionOriginKey, milterOriginKey, originOf, type LoadedConfig } from './origin.js';
import { formatTextPattern } from './patterns.js';
import { join } from 'node:path';
import { formatListenAddress } from './listen-address.js';
import type { MailgateConfig, MilterConfig, UserConditionConfig } from './schema.js';
import { TIMEOUT_KEYS } from './sections/milter.js';
import { tomlArray, tomlInline, tomlScalar, type TomlScalar } from './toml-text.js';

type Item = TomlScalar | readonly TomlScalar[] | undefined;

class Writer {
  private readonly lines: string[] = [];

  constructor(private readonly loaded: LoadedConfig) {}

  origin(originKey: string): string {
    return originOf(this.loaded, originKey);
  }

  comment(text: string): void {
    for (const line of text.split('\n')) this.lines.push(line === '' ? '#' : `# ${line}`);
  }

  blank(): void {
    this.lines.push('');
  }

  header(text: string): void {
    this.lines.push(text);
  }

  /** `# ORIGIN` then `key = value`; an unset optional item is written as a comment. */
  item(originKey: string, key: string, value: Item): void {
    this.lines.push(`# ${this.origin(originKey)}`);
    if (value === undefined) this.lines.push(`# ${key} is not set`);
    else this.lines.push(`${key} = ${Array.isArray(value) ? tomlArray(value) : tomlScalar(value as TomlScalar)}`);
  }

  /** A key still read but replaced by `by`: where it was set (or that it was not), as comments only. */
  deprecated(originKey: string, key: string, by: string): void {
    const origin = this.origin(originKey);
    this.lines.push(`# ${origin}`);
    if (origin === 'default') this.lines.push(`# ${key} is not set (deprecated here: use ${by})`);
    else this.lines.push(`# ${key} is deprecated here: its value is ${by} above`);
  }

  /** A built-in filter's key left out: `# default: key = value`, or `# default: key is not set (why)`. */
  builtinDefault(key: string, shown: ShownDefault | undefined): void {
    if (shown !== undefined && 'value' in shown) this.lines.push(`# default: ${key} = ${tomlInline(shown.value)}`);
    else this.lines.push(`# default: ${key} is not set${shown === undefined ? '' : ` (${shown.note})`}`);
  }

  /** `# ORIGIN` then `key = value` for a value of any TOML type (built-in filters' options). */
  raw(originKey: string, key: string, value: unknown): void {
    this.lines.push(`# ${this.origin(originKey)}`);
    this.lines.push(`${key} = ${tomlInline(value)}`);
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

export function formatSocketMode(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

export function formatConfig(loaded: LoadedConfig): string {
  const { config } = loaded;
  const w = new Writer(loaded);
  w.comment(
    `Mailgate effective configuration (${loaded.file ?? `embedded defaults: no ${DEFAULT_CONFIG_FILE}`}).\n` +
      'Each value is preceded by where it came from: default, FILE:LINE, detected or command line.',
  );
  w.blank();

  // Top-level keys come before the first [table].
  w.item('data_dir', 'data_dir', config.dataDir);
  w.item('hostname', 'hostname', config.hostname);
  w.blank();
  writeMta(w, config);

  const m = config.manager;
  w.header('[manager]');
  w.item('manager.connection_spec', 'connection_spec', m.connectionSpec);
  w.item('manager.unix_socket_mode', 'unix_socket_mode', formatSocketMode(m.unixSocketMode));
  w.item('manager.unix_socket_group', 'unix_socket_group', m.unixSocketGroup);
  w.item('manager.fallback_status', 'fallback_status', m.fallbackStatus);
  w.item('manager.max_connections', 'max_connections', m.maxConnections);
  w.item('manager.mta_timeout', 'mta_timeout', m.mtaTimeout);
  w.item('manager.detect', 'detect', m.detect);
  w.deprecated('manager.data_dir', 'data_dir', 'the top-level data_dir');
  w.item('manager.dns_servers', 'dns_servers', m.dnsServers);

  if (config.milters.length === 0) {
    w.blank();
    w.comment('no [[milter]] children');
  }
  for (const milter of config.milters) writeMilter(w, milter, config.dataDir);

  if (config.conditions.length === 0) {
    w.blank();
    w.comment('no [[condition]] definitions');
  }
  for (const condition of config.conditions) writeCondition(w, condition);

  const { s25r, remoteNetwork, trust, stress } = config;
  w.blank();
  w.header('[s25r]');
  w.item('s25r.whitelist', 'whitelist', s25r.whitelist.map(formatTextPattern));
  w.item('s25r.blacklist', 'blacklist', s25r.blacklist.map(formatTextPattern));
  w.item('s25r.check_only_ipv4', 'check_only_ipv4', s25r.checkOnlyIpv4);
  w.blank();
  w.header('[remote_network]');
  w.item('remote_network.local_addresses', 'local_addresses', remoteNetwork.localAddresses);
  w.item('remote_network.remote_addresses', 'remote_addresses', remoteNetwork.remoteAddresses);
  w.blank();
  w.header('[trust]');
  w.item('trust.domains', 'domains', trust.domains.map(formatTextPattern));
  w.item('trust.replace_defaults', 'replace_defaults', trust.replaceDefaults);
  w.item('trust.domains_file', 'domains_file', trust.domainsFile);
  if (trust.fileDomains !== undefined) w.comment(`${trust.fileDomains.length} trusted ${trust.fileDomains.length === 1 ? 'domain' : 'domains'} read from it`);
  w.blank();
  w.header('[stress]');
  w.item('stress.threshold', 'threshold', stress.threshold);
  return w.toString();
}

/** The sections `mailgate start` reads besides the chain's: [smtp] [submission] [imap] [pop3] [mailbox] [tls] [domains] [queue] [delivery]. */
function writeMta(w: Writer, config: MailgateConfig): void {
  const { smtp, submission, imap, pop3, mailbox, tls, domains, queue, delivery } = config;
  w.header('[smtp]');
  w.item('smtp.listen', 'listen', smtp.listen.map(formatListenAddress));
  w.item('smtp.mynetworks', 'mynetworks', smtp.mynetworks);
  w.item('smtp.message_size_limit', 'message_size_limit', smtp.messageSizeLimit);
  w.item('smtp.recipient_limit', 'recipient_limit', smtp.recipientLimit);
  w.item('smtp.client_connection_limit', 'client_connection_limit', smtp.clientConnectionLimit);
  w.item('smtp.connection_limit', 'connection_limit', smtp.connectionLimit);
  w.item('smtp.client_message_rate_limit', 'client_message_rate_limit', smtp.clientMessageRateLimit);
  w.item('smtp.idle_timeout', 'idle_timeout', smtp.idleTimeout);
  w.item('smtp.session_timeout', 'session_timeout', smtp.sessionTimeout);
  w.item('smtp.xclient_hosts', 'xclient_hosts', smtp.xclientHosts);
  w.item('smtp.auth_failure_limit', 'auth_failure_limit', smtp.authFailureLimit);
  w.item('smtp.banner', 'banner', smtp.banner);
  w.blank();
  w.header('[submission]');
  w.item('submission.listen', 'listen', submission.listen.map(formatListenAddress));
  w.item('submission.tls_listen', 'tls_listen', submission.tlsListen.map(formatListenAddress));
  w.blank();
  w.header('[imap]');
  w.item('imap.listen', 'listen', imap.listen.map(formatListenAddress));
  w.item('imap.tls_listen', 'tls_listen', imap.tlsListen.map(formatListenAddress));
  w.item('imap.plaintext_auth_networks', 'plaintext_auth_networks', imap.plaintextAuthNetworks);
  w.item('imap.connection_limit', 'connection_limit', imap.connectionLimit);
  w.item('imap.client_connection_limit', 'client_connection_limit', imap.clientConnectionLimit);
  w.item('imap.user_connection_limit', 'user_connection_limit', imap.userConnectionLimit);
  w.item('imap.auth_failure_limit', 'auth_failure_limit', imap.authFailureLimit);
  w.item('imap.login_timeout', 'login_timeout', imap.loginTimeout);
  w.item('imap.idle_timeout', 'idle_timeout', imap.idleTimeout);
  w.item('imap.idle_keepalive', 'idle_keepalive', imap.idleKeepalive);
  w.item('imap.append_limit', 'append_limit', imap.appendLimit);
  w.item('imap.max_line_length', 'max_line_length', imap.maxLineLength);
  w.item('imap.greeting', 'greeting', imap.greeting);
  w.blank();
  w.header('[pop3]');
  w.item('pop3.listen', 'listen', pop3.listen.map(formatListenAddress));
  w.item('pop3.tls_listen', 'tls_listen', pop3.tlsListen.map(formatListenAddress));
  w.item('pop3.plaintext_auth_networks', 'plaintext_auth_networks', pop3.plaintextAuthNetworks);
  w.item('pop3.connection_limit', 'connection_limit', pop3.connectionLimit);
  w.item('pop3.client_connection_limit', 'client_connection_limit', pop3.clientConnectionLimit);
  w.item('pop3.auth_failure_limit', 'auth_failure_limit', pop3.authFailureLimit);
  w.item('pop3.idle_timeout', 'idle_timeout', pop3.idleTimeout);
  w.blank();
  w.header('[mailbox]');
  w.item('mailbox.quota', 'quota', mailbox.quota);
  w.item('mailbox.quota_messages', 'quota_messages', mailbox.quotaMessages);
  w.blank();
  w.header('[tls]');
  if (tls.certFile === undefined) w.comment(`cert_file and key_file not set: a self-signed certificate in ${join(config.dataDir, 'tls')}`);
  w.item('tls.cert_file', 'cert_file', tls.certFile);
  w.item('tls.key_file', 'key_file', tls.keyFile);
  w.blank();
  w.header('[domains]');
  w.item('domains.local', 'local', domains.local);
  w.blank();
  w.header('[queue]');
  w.item('queue.minimal_backoff_time', 'minimal_backoff_time', queue.minimalBackoffTime);
  w.item('queue.maximal_backoff_time', 'maximal_backoff_time', queue.maximalBackoffTime);
  w.item('queue.maximal_queue_lifetime', 'maximal_queue_lifetime', queue.maximalQueueLifetime);
  w.item('queue.bounce_queue_lifetime', 'bounce_queue_lifetime', queue.bounceQueueLifetime);
  w.item('queue.delay_warning_time', 'delay_warning_time', queue.delayWarningTime);
  w.item('queue.queue_run_delay', 'queue_run_delay', queue.queueRunDelay);
  w.blank();
  w.header('[delivery]');
  w.item('delivery.relay_host', 'relay_host', delivery.relayHost?.text);
  w.item('delivery.destination_concurrency_limit', 'destination_concurrency_limit', delivery.destinationConcurrencyLimit);
  w.item('delivery.lmtp', 'lmtp', delivery.lmtp);
  w.item('delivery.connect_timeout', 'connect_timeout', delivery.connectTimeout);
  w.item('delivery.smtp_port', 'smtp_port', delivery.smtpPort);
  w.blank();
}

function writeMilter(w: Writer, milter: MilterConfig, dataDir: string): void {
  const key = (k: string): string => milterOriginKey(milter.name, k);
  w.blank();
  w.comment(`milter ${JSON.stringify(milter.name)}: ${w.origin(milterOriginKey(milter.name))}`);
  w.header('[[milter]]');
  w.item(key('name'), 'name', milter.name);
  w.item(key('description'), 'description', milter.description);
  if (milter.builtin !== undefined) w.item(key('builtin'), 'builtin', milter.builtin);
  else w.item(key('connection_spec'), 'connection_spec', milter.connectionSpec);
  w.item(key('enabled'), 'enabled', milter.enabled);
  w.item(key('fallback_status'), 'fallback_status', milter.fallbackStatus);
  w.item(key('evaluation_mode'), 'evaluation_mode', milter.evaluationMode);
  w.item(key('applicable_conditions'), 'applicable_conditions', milter.applicableConditions);
  for (const [tomlKey, field] of TIMEOUT_KEYS) w.item(key(tomlKey), tomlKey, milter.timeouts[field]);
  if (milter.builtin === undefined) return;
  // A built-in filter's own keys: as written, else its default, commented out (the printed file then reads
  // back to the same configuration, keys written included).
  const written = milter.optionsTable;
  const defaults = shownDefaults(milter.builtin, written, dataDir);
  for (const k of builtinKeys(milter.builtin)) {
    if (Object.hasOwn(written, k)) w.raw(key(k), k, written[k]);
    else w.builtinDefault(k, defaults[k]);
  }
}

function writeCondition(w: Writer, condition: UserConditionConfig): void {
  const key = (k: string): string => conditionOriginKey(condition.name, k);
  w.blank();
  w.comment(`condition ${JSON.stringify(condition.name)}: ${w.origin(conditionOriginKey(condition.name))}`);
  w.header('[[condition]]');
  w.item(key('name'), 'name', condition.name);
  w.item(key('description'), 'description', condition.description);
  w.item(key('field'), 'field', condition.field);
  if (condition.field === 'macro') w.item(key('macro'), 'macro', condition.macro);
  w.item(key('pattern'), 'pattern', condition.pattern);
  w.item(key('flags'), 'flags', condition.flags);
  w.item(key('action'), 'action', condition.action);
}
