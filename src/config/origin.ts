/** Where each effective value came from, as `show-config` prints it. */
import type { MailgateConfig } from './schema.js';

/** 'default', 'detected' (auto-detection), 'command line', or `FILE:LINE`. */
export type Origin = 'default' | 'detected' | 'command line' | `${string}:${number}`;

/**
 * A validated configuration plus the origin of every value. Origin keys are dotted paths with the TOML key
 * names: `data_dir` (top level), `manager.connection_spec`, `milter.opendkim` (the table), `milter.opendkim.fallback_status`,
 * `condition.NAME.pattern`, `s25r.whitelist`, `remote_network.local_addresses`, `trust.domains`, `stress.threshold`.
 */
export interface LoadedConfig {
  readonly config: MailgateConfig;
  readonly origins: ReadonlyMap<string, Origin>;
  /** The file the configuration was read from; undefined for the embedded defaults. */
  readonly file: string | undefined;
  /** Deprecations and the like, each `FILE:LINE: key: why`, for the command to print once. */
  readonly warnings?: readonly string[];
}

export function fileOrigin(file: string, line: number): Origin {
  return `${file}:${line}`;
}

/** The origin recorded for a key; a key never recorded is a default. */
export function originOf(loaded: LoadedConfig, key: string): Origin {
  return loaded.origins.get(key) ?? 'default';
}

/** Splits a `FILE:LINE` origin; undefined for the other kinds. */
export function originLocation(origin: Origin): { file: string; line: number } | undefined {
  const m = /^(.*):(\d+)$/s.exec(origin);
  if (m === null || m[1] === undefined || m[2] === undefined) return undefined;
  return { file: m[1], line: Number(m[2]) };
}

/** Origin key of a child milter's item, e.g. `milter.opendkim.fallback_status`. */
export function milterOriginKey(name: string, key?: string): string {
  return key === undefined ? `milter.${name}` : `milter.${name}.${key}`;
}

/** Origin key of a user condition's item, e.g. `condition.Local.pattern`. */
export function conditionOriginKey(name: string, key?: string): string {
  return key === undefined ? `condition.${name}` : `condition.${name}.${key}`;
}
