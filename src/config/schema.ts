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

export interface MailgateConfig {
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
