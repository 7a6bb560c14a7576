/** Mailgate configuration: one TOML file, validated, with the origin of every value. */
export type {
  DeliveryConfig,
  DomainsConfig,
  ListenAddress,
  MtaConfig,
  QueueConfig,
  RelayHost,
  SmtpConfig,
  SubmissionConfig,
  TlsConfig,
  ConditionAction,
  ConditionField,
  FallbackStatus,
  MailgateConfig,
  ManagerConfig,
  MilterConfig,
  RemoteNetworkConfig,
  S25rConfig,
  StressConfig,
  TextPattern,
  Timeouts,
  TrustConfig,
  UserConditionConfig,
} from './schema.js';
export { ConfigError, type ConfigErrorLocation } from './errors.js';
export { conditionOriginKey, milterOriginKey, originLocation, originOf, type LoadedConfig, type Origin } from './origin.js';
export { DEFAULT_CONFIG_FILE, DEFAULT_MANAGER, DEFAULT_MILTER, defaultConfig, FALLBACK_STATUSES } from './defaults.js';
export { formatListenAddress } from './listen-address.js';
export { BUILTIN_CONDITIONS, type BuiltinConditionName } from './condition-names.js';
export { embeddedDefaults, loadConfig, parseConfig, type LoadOptions, type ParseOptions } from './load.js';
export { applyOverrides, type ConfigOverrides } from './overrides.js';
export { addDetectedMilters } from './detected.js';
export { checkManagerSocket, checkSocketDirectory } from './socket-dir.js';
export { formatConfig } from './format.js';
export { TomlLocator } from './locate.js';
