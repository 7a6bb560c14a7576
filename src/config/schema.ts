/** The typed, validated configuration every other part of Mailgate receives. */
import type { BuiltinName, BuiltinOptionsMap } from './builtins/index.js';
import type { Timeouts } from './timeouts.js';

export type { Timeouts };

/**
 * What answers when a child (or the whole chain) cannot: milter-manager's fallback_status, in the
 * chain's own status names (milter-manager's "temporary-failure" is read as "tempfail").
 */
export type FallbackStatus = 'accept' | 'tempfail' | 'reject' | 'discard';

/** A literal string, or a regular expression written in the file as "/source/flags". */
export type TextPattern = string | RegExp;

export interface ManagerConfig {
  /** Where the manager listens, as written (already checked with parseConnectionSpec). */
  readonly connectionSpec: string;
  /** Mode of the unix socket, e.g. 0o660. */
  readonly unixSocketMode: number;
  /** Group (name or numeric id) given to the unix socket; not resolved here. */
  readonly unixSocketGroup?: string;
  readonly fallbackStatus: FallbackStatus;
  /** Concurrent MTA connections; 0 = unlimited. */
  readonly maxConnections: number;
  /** Seconds an MTA connection may stay silent (between packets or inside one) before it is closed. */
  readonly mtaTimeout: number;
  /** Add the milters found installed on this host. */
  readonly detect: boolean;
  /** DNS servers ("127.0.0.1", "[::1]:5353") for SPF/DKIM/DMARC; empty: the system's resolver. */
  readonly dnsServers: readonly string[];
}

interface MilterCommon {
  /** Unique, non-empty. */
  readonly name: string;
  readonly description?: string;
  readonly enabled: boolean;
  readonly fallbackStatus: FallbackStatus;
  readonly evaluationMode: boolean;
  /** Canonical condition names: built-in spelling ("Remote Network") or the [[condition]] name. */
  readonly applicableConditions: readonly string[];
  /** Seconds. */
  readonly timeouts: Timeouts;
}

/** A remote child, reached with MilterClient. */
export type RemoteMilterConfig = MilterCommon & { readonly connectionSpec: string; readonly builtin?: undefined };

/** A built-in child: `builtin` names the filter, `options` are its own keys from the same table. */
export type BuiltinMilterConfig = MilterCommon &
  {
    readonly [K in BuiltinName]: {
      readonly builtin: K;
      readonly options: BuiltinOptionsMap[K];
      /** The filter's own keys as written in the file, for show-config. */
      readonly optionsTable: Readonly<Record<string, unknown>>;
      readonly connectionSpec?: undefined;
    };
  }[BuiltinName];

/** A child: remote (connection_spec) or built in (builtin); exactly one of the two is set. */
export type MilterConfig = RemoteMilterConfig | BuiltinMilterConfig;

export type ConditionField = 'host' | 'address' | 'helo' | 'sender' | 'recipient' | 'macro';
export type ConditionAction = 'apply' | 'skip';

/** A `[[condition]]`: when `field` matches `pattern`, the child is applied or skipped. */
export interface UserConditionConfig {
  readonly name: string;
  readonly description?: string;
  readonly field: ConditionField;
  /** The macro to test, when field = "macro" ("{auth_authen}" or "auth_authen"). */
  readonly macro?: string;
  /** JavaScript regular expression source (known to compile with `flags`). */
  readonly pattern: string;
  readonly flags: string;
  readonly action: ConditionAction;
}

/** Additions to S25R's built-in lists. */
export interface S25rConfig {
  readonly whitelist: readonly TextPattern[];
  readonly blacklist: readonly TextPattern[];
  readonly checkOnlyIpv4: boolean;
}

export interface RemoteNetworkConfig {
  /** CIDRs (or single addresses) treated as local. */
  readonly localAddresses: readonly string[];
  /** CIDRs (or single addresses) treated as remote even if otherwise local. */
  readonly remoteAddresses: readonly string[];
}

export interface TrustConfig {
  readonly domains: readonly TextPattern[];
  /** Use only `domains` (and `domainsFile`), not the built-in trusted domains. */
  readonly replaceDefaults: boolean;
  /** Absolute path of a file with one domain (or /regex/) per line, `#` comments; read with the configuration. */
  readonly domainsFile?: string;
  /** What domainsFile held when the configuration was read (set with domainsFile, unless read with readTrustDomainsFile: false). */
  readonly fileDomains?: readonly TextPattern[];
}

export interface StressConfig {
  /** Sessions at which the manager counts as stressed; 0 = never. Unset: the Stress conditions decide. */
  readonly threshold?: number;
}

export interface MailgateConfig extends MtaConfig {
  /**
   * Where the services keep their state (greylist database...): top-level `data_dir`, or the deprecated
   * `[manager] data_dir`. Absolute once loaded: relative to the file's directory, or with no file to the
   * current directory (defaultConfig() alone keeps the relative "data").
   */
  readonly dataDir: string;
  readonly manager: ManagerConfig;
  readonly milters: readonly MilterConfig[];
  readonly conditions: readonly UserConditionConfig[];
  readonly s25r: S25rConfig;
  readonly remoteNetwork: RemoteNetworkConfig;
  readonly trust: TrustConfig;
  readonly stress: StressConfig;
}

/** Where a server listens: `127.0.0.1:2525`, `[::1]:25`, `mail.example.org:25` (a name is resolved by listen()). */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** [smtp]: the MX listener (Postfix's smtpd on port 25) and the limits every SMTP listener shares. */
export interface SmtpConfig {
  readonly listen: readonly ListenAddress[];
  /** Networks (CIDR or single address) whose clients may relay without AUTH: Postfix's mynetworks. */
  readonly mynetworks: readonly string[];
  /** Bytes of one message, counted as received (Postfix's message_size_limit). */
  readonly messageSizeLimit: number;
  /** Recipients of one message (Postfix's smtpd_recipient_limit). */
  readonly recipientLimit: number;
  /** Connections at once from one client address; 0 = no limit (Postfix's smtpd_client_connection_count_limit). */
  readonly clientConnectionLimit: number;
  /**
   * Connections at once on one listener, from all clients; 0 = no limit (Postfix's default_process_limit: at
   * most 100 smtpd processes per service). Past it the client gets 421 and is disconnected.
   */
  readonly connectionLimit: number;
  /** Messages per minute from one client address; 0 = no limit (smtpd_client_message_rate_limit). */
  readonly clientMessageRateLimit: number;
  /** Seconds a client may stay silent (Postfix's smtpd_timeout). */
  readonly idleTimeout: number;
  /** Seconds one connection may last in all. */
  readonly sessionTimeout: number;
  /** Networks allowed to send XCLIENT (Postfix's smtpd_authorized_xclient_hosts); empty: nobody. */
  readonly xclientHosts: readonly string[];
  /** Failed AUTH attempts in one connection before it is dropped and the address slowed down. */
  readonly authFailureLimit: number;
  /** Text after `220 HOSTNAME ESMTP` in the greeting. */
  readonly banner: string;
}

/** [submission]: the listeners for a domain's own users (AUTH required). */
export interface SubmissionConfig {
  /** Port 587 style: STARTTLS, then AUTH. */
  readonly listen: readonly ListenAddress[];
  /** Port 465 style: TLS from the first byte (RFC 8314 implicit TLS). */
  readonly tlsListen: readonly ListenAddress[];
}

/**
 * What [imap] and [pop3] share: a server users log in to (durations in seconds). Plain listeners offer
 * STARTTLS/STLS when a certificate exists; passwords before TLS only from plaintextAuthNetworks.
 */
export interface LoginServerConfig {
  /** Plain listeners (ports 143/110 style; [] = off). */
  readonly listen: readonly ListenAddress[];
  /** Implicit-TLS listeners (ports 993/995 style, RFC 8314). */
  readonly tlsListen: readonly ListenAddress[];
  /** Clients that may log in before TLS (CIDR or addresses). */
  readonly plaintextAuthNetworks: readonly string[];
  /** Connections at once, all clients, per listener (0 = none). */
  readonly connectionLimit: number;
  /** Connections at once per client address (0 = none). */
  readonly clientConnectionLimit: number;
  /** Failed logins in one connection before it is closed; the address is slowed down as well. */
  readonly authFailureLimit: number;
  /** Seconds without a command (at least RFC 1939's 10 minutes for POP3, RFC 3501's 30 for IMAP). */
  readonly idleTimeout: number;
}

/** [pop3]: the POP3 server (RFC 1939) over the mailbox store. */
export type Pop3Config = LoginServerConfig;

/** [imap]: the IMAP server (RFC 3501) over the mailbox store. */
export interface ImapConfig extends LoginServerConfig {
  /** Connections at once per user and client address (Dovecot's mail_max_userip_connections; 0 = none). */
  readonly userConnectionLimit: number;
  /** Seconds a client has to log in. */
  readonly loginTimeout: number;
  /** Seconds between `* OK Still here` during IDLE. */
  readonly idleKeepalive: number;
  /** The largest message APPEND takes (APPENDLIMIT, RFC 7889), bytes. */
  readonly appendLimit: number;
  /** The longest command line without its literals, bytes (Dovecot: 64 KiB). */
  readonly maxLineLength: number;
  /** Text of the `* OK` greeting. */
  readonly greeting: string;
}

/** [mailbox]: the mailbox store's per-user limits (0 = none). */
export interface MailboxConfig {
  /** Bytes per user over all folders (sizes as IMAP counts them, CRLF). */
  readonly quota: number;
  /** Messages per user over all folders. */
  readonly quotaMessages: number;
}

/** [tls]: the server certificate; both unset: a self-signed one made at first start in `<data_dir>/tls/`. */
export interface TlsConfig {
  /** Absolute path of the PEM certificate (chain), set together with keyFile. */
  readonly certFile?: string;
  readonly keyFile?: string;
}

/** [domains]: the domains this server receives mail for, besides those in the accounts database. */
export interface DomainsConfig {
  /** Lower-case domain names. */
  readonly local: readonly string[];
}

/** [queue]: Postfix's queue timings, in seconds. */
export interface QueueConfig {
  readonly minimalBackoffTime: number;
  readonly maximalBackoffTime: number;
  /** Undeliverable mail is bounced after this long; 0: after the first failed attempt. */
  readonly maximalQueueLifetime: number;
  /** The same for bounces (sender <>); 0: after the first failed attempt. */
  readonly bounceQueueLifetime: number;
  /** A delay warning to the sender after this long; 0: none. */
  readonly delayWarningTime: number;
  /** How often the whole deferred queue is scanned. */
  readonly queueRunDelay: number;
}

/**
 * A smarthost in Postfix's relayhost syntax: `[host]:port` and `[host]` (no MX lookup: the host's own
 * A/AAAA records, or an address), `host:port` and `host` (the MX records of host).
 */
export interface RelayHost {
  /** A name or an IP address (IPv6 without brackets or "ipv6:" prefix). */
  readonly host: string;
  readonly port: number;
  /** Whether host's MX records are looked up (written without brackets). */
  readonly mx: boolean;
  /** As written in the file, for show-config and the log. */
  readonly text: string;
}

/** [delivery]: where accepted mail goes. */
export interface DeliveryConfig {
  readonly relayHost?: RelayHost;
  /** Deliveries at once to one destination (Postfix's default_destination_concurrency_limit). */
  readonly destinationConcurrencyLimit: number;
  /** Local mail over LMTP instead of the built-in Maildir: `inet:HOST:PORT` or `unix:/PATH` (absolute once loaded). */
  readonly lmtp?: string;
  /** Seconds to wait for a remote server's TCP connection (Postfix's smtp_connect_timeout). */
  readonly connectTimeout: number;
  /** The port remote MX hosts are reached on: 25; other values are for tests. */
  readonly smtpPort: number;
}

/** Everything `mailgate start` runs besides the chain: the MTA's own sections. */
export interface MtaConfig {
  /** Postfix's myhostname: the greeting, Received fields, the self-signed certificate's name. */
  readonly hostname: string;
  readonly smtp: SmtpConfig;
  readonly submission: SubmissionConfig;
  readonly imap: ImapConfig;
  readonly pop3: Pop3Config;
  readonly mailbox: MailboxConfig;
  readonly tls: TlsConfig;
  readonly domains: DomainsConfig;
  readonly queue: QueueConfig;
  readonly delivery: DeliveryConfig;
}
