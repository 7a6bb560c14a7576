/** The embedded defaults (milter-manager's, with Mailgate's listening address). */
import { DEFAULT_TIMEOUTS } from './timeouts.js';
import type { FallbackStatus, MailgateConfig, ManagerConfig, Timeouts } from './schema.js';

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

/** A fresh copy of the configuration used when there is no file. */
export function defaultConfig(): MailgateConfig {
  return {
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
