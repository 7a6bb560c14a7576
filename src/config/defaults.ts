/** The embedded defaults (milter-manager's, with Mailgate's listening address). */
import { hostname } from 'node:os';
import { isHostName } from './host-name.js';
import { DEFAULT_TIMEOUTS } from './timeouts.js';
import type { DeliveryConfig, FallbackStatus, ImapConfig, MailboxConfig, MailgateConfig, ManagerConfig, MtaConfig, Pop3Config, QueueConfig, SmtpConfig, SubmissionConfig, Timeouts } from './schema.js';

export const DEFAULT_CONFIG_FILE = 'mailgate.toml';

export const FALLBACK_STATUSES: readonly FallbackStatus[] = ['accept', 'tempfail', 'reject', 'discard'];
/** milter-manager's spelling, accepted and normalised when the configuration is read. */
export const FALLBACK_STATUS_ALIASES: Readonly<Record<string, FallbackStatus>> = { 'temporary-failure': 'tempfail' };

/** The data directory, relative to the configuration file's directory (no file: the current directory). */
export const DEFAULT_DATA_DIR = 'data';

export const DEFAULT_MANAGER: ManagerConfig = Object.freeze({
  connectionSpec: 'inet:10025@[127.0.0.1]',
  unixSocketMode: 0o660,
  fallbackStatus: 'accept',
  maxConnections: 0,
  // Above Postfix's smtpd_timeout (300 s), the longest an SMTP client may idle between commands while
  // its milter connection waits; libmilter's 7,210 s let a stalled MTA connection hold a slot for 2 hours.
  mtaTimeout: 600,
  detect: false,
  dnsServers: Object.freeze([]) as readonly string[],
});

export const DEFAULT_MILTER = Object.freeze({
  enabled: true,
  fallbackStatus: 'accept' as FallbackStatus,
  evaluationMode: false,
  applicableConditions: Object.freeze([]) as readonly string[],
  timeouts: DEFAULT_TIMEOUTS as Timeouts,
});

/**
 * A built-in child's stage limits: an envelope stage may do network work (an SPF check's DNS
 * queries, a Redis greylist lookup) bounded by the filter's own timeouts, so reading_timeout is
 * 25 s rather than 7 s — still under Postfix's milter_command_timeout (30 s), so the manager
 * answers before Postfix gives up on it. connection and writing do not apply in process.
 */
export const DEFAULT_BUILTIN_TIMEOUTS: Timeouts = Object.freeze({ ...DEFAULT_TIMEOUTS, reading: 25 });

export const DEFAULT_S25R_CHECK_ONLY_IPV4 = true;

/**
 * [smtp]: loopback only and an unprivileged port, so that the embedded default is safe to start anywhere;
 * the limits are Postfix's defaults (message_size_limit, smtpd_recipient_limit, smtpd_timeout,
 * smtpd_client_connection_count_limit), the session limit and AUTH failures ours.
 */
export const DEFAULT_SMTP: SmtpConfig = Object.freeze({
  listen: Object.freeze([{ host: '127.0.0.1', port: 2525 }]),
  mynetworks: Object.freeze(['127.0.0.0/8', '::1/128']),
  messageSizeLimit: 10_240_000,
  recipientLimit: 1000,
  clientConnectionLimit: 50,
  connectionLimit: 100,
  clientMessageRateLimit: 0,
  idleTimeout: 300,
  sessionTimeout: 1800,
  xclientHosts: Object.freeze([]) as readonly string[],
  authFailureLimit: 3,
  banner: 'Mailgate',
});

export const DEFAULT_SUBMISSION: SubmissionConfig = Object.freeze({
  listen: Object.freeze([{ host: '127.0.0.1', port: 2587 }]),
  tlsListen: Object.freeze([{ host: '127.0.0.1', port: 2465 }]),
});

/**
 * [imap]: loopback and unprivileged ports as the other embedded defaults; limits are Dovecot's where it has
 * one (mail_max_userip_connections 10, imap_max_line_length 64k, imap_idle_notify_interval 2 min, the
 * 30-minute autologout of RFC 3501 §5.4).
 */
export const DEFAULT_IMAP: ImapConfig = Object.freeze({
  listen: Object.freeze([{ host: '127.0.0.1', port: 2143 }]),
  tlsListen: Object.freeze([{ host: '127.0.0.1', port: 2993 }]),
  plaintextAuthNetworks: Object.freeze(['127.0.0.0/8', '::1/128']),
  connectionLimit: 1000,
  clientConnectionLimit: 50,
  userConnectionLimit: 10,
  authFailureLimit: 3,
  loginTimeout: 60,
  idleTimeout: 1800,
  idleKeepalive: 120,
  appendLimit: 10_240_000,
  maxLineLength: 65_536,
  greeting: 'Mailgate ready.',
});

/** [mailbox]: no quota unless one is set (Dovecot's default without the quota plugin). */
export const DEFAULT_MAILBOX: MailboxConfig = Object.freeze({ quota: 0, quotaMessages: 0 });

/** Dovecot's defaults where it has one (login_trusted_networks aside: loopback may log in without TLS). */
export const DEFAULT_POP3: Pop3Config = Object.freeze({
  listen: Object.freeze([{ host: '127.0.0.1', port: 2110 }]),
  tlsListen: Object.freeze([{ host: '127.0.0.1', port: 2995 }]),
  plaintextAuthNetworks: Object.freeze(['127.0.0.0/8', '::1/128']),
  connectionLimit: 1000,
  clientConnectionLimit: 50,
  authFailureLimit: 3,
  idleTimeout: 600,
});

export const DEFAULT_LOCAL_DOMAINS: readonly string[] = Object.freeze(['localhost']);

/** Postfix's defaults (minimal_backoff_time, maximal_backoff_time, maximal_queue_lifetime, ...; delay_warning_time 0 = off). */
export const DEFAULT_QUEUE: QueueConfig = Object.freeze({
  minimalBackoffTime: 300,
  maximalBackoffTime: 4000,
  maximalQueueLifetime: 5 * 86_400,
  bounceQueueLifetime: 5 * 86_400,
  delayWarningTime: 0,
  queueRunDelay: 300,
});

/** Postfix's default_destination_concurrency_limit and smtp_connect_timeout; SMTP's port. */
export const DEFAULT_DELIVERY: DeliveryConfig = Object.freeze({
  destinationConcurrencyLimit: 20,
  connectTimeout: 30,
  smtpPort: 25,
});

/**
 * Postfix's default myhostname: the machine's name when it is fully qualified, else that name with
 * ".localdomain" appended (Postfix's default mydomain). A name that is no host name at all (an underscore
 * in a container's name) would make a greeting clients refuse: then localhost.localdomain.
 */
export function defaultHostname(name: string = hostname()): string {
  if (!isHostName(name)) return 'localhost.localdomain';
  return name.includes('.') ? name : `${name}.localdomain`;
}

/** Fresh copies of the MTA's sections, every value a default. */
export function defaultMtaConfig(): MtaConfig {
  return {
    hostname: defaultHostname(),
    smtp: { ...DEFAULT_SMTP, listen: [...DEFAULT_SMTP.listen], mynetworks: [...DEFAULT_SMTP.mynetworks], xclientHosts: [] },
    submission: { listen: [...DEFAULT_SUBMISSION.listen], tlsListen: [...DEFAULT_SUBMISSION.tlsListen] },
    imap: { ...DEFAULT_IMAP, listen: [...DEFAULT_IMAP.listen], tlsListen: [...DEFAULT_IMAP.tlsListen], plaintextAuthNetworks: [...DEFAULT_IMAP.plaintextAuthNetworks] },
    mailbox: { ...DEFAULT_MAILBOX },
    pop3: { ...DEFAULT_POP3, listen: [...DEFAULT_POP3.listen], tlsListen: [...DEFAULT_POP3.tlsListen], plaintextAuthNetworks: [...DEFAULT_POP3.plaintextAuthNetworks] },
    tls: {},
    domains: { local: [...DEFAULT_LOCAL_DOMAINS] },
    queue: { ...DEFAULT_QUEUE },
    delivery: { ...DEFAULT_DELIVERY },
  };
}

/** A fresh copy of the configuration used when there is no file. */
export function defaultConfig(): MailgateConfig {
  return {
    ...defaultMtaConfig(),
    dataDir: DEFAULT_DATA_DIR,
    manager: { ...DEFAULT_MANAGER, dnsServers: [] },
    milters: [],
    conditions: [],
    s25r: { whitelist: [], blacklist: [], checkOnlyIpv4: DEFAULT_S25R_CHECK_ONLY_IPV4 },
    remoteNetwork: { localAddresses: [], remoteAddresses: [] },
    trust: { domains: [], replaceDefaults: false },
    stress: {},
  };
}
