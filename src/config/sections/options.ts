/** Options of the built-in conditions: [s25r], [remote_network], [trust], [stress]. */
import { readFileSync } from 'node:fs';
import { cidrError } from '../cidr.js';
import { ConfigError } from '../errors.js';
import { resolvePath } from '../paths.js';
import { parseTrustDomains, TrustDomainsLineError } from '../trust-domains.js';
import { DEFAULT_S25R_CHECK_ONLY_IPV4 } from '../defaults.js';
import { parseTextPattern } from '../patterns.js';
import type { TableReader } from '../reader.js';
import type { RemoteNetworkConfig, S25rConfig, StressConfig, TextPattern, TrustConfig } from '../schema.js';

export const S25R_KEYS = ['whitelist', 'blacklist', 'check_only_ipv4'] as const;
export const REMOTE_NETWORK_KEYS = ['local_addresses', 'remote_addresses'] as const;
export const TRUST_KEYS = ['domains', 'replace_defaults', 'domains_file'] as const;
export const STRESS_KEYS = ['threshold'] as const;

function patterns(r: TableReader, key: string): TextPattern[] {
  return (
    r.stringArray(key, (text, path) => {
      const parsed = parseTextPattern(text);
      if ('error' in parsed) throw r.ctx.error(path, parsed.error);
      return parsed.value;
    }) ?? []
  );
}

function cidrs(r: TableReader, key: string): string[] {
  return (
    r.stringArray(key, (text, path) => {
      const error = cidrError(text);
      if (error !== undefined) throw r.ctx.error(path, error);
      return text;
    }) ?? []
  );
}

export function readS25r(r: TableReader): S25rConfig {
  r.checkKeys(S25R_KEYS);
  return {
    whitelist: patterns(r, 'whitelist'),
    blacklist: patterns(r, 'blacklist'),
    checkOnlyIpv4: r.boolean('check_only_ipv4') ?? DEFAULT_S25R_CHECK_ONLY_IPV4,
  };
}

export function readRemoteNetwork(r: TableReader): RemoteNetworkConfig {
  r.checkKeys(REMOTE_NETWORK_KEYS);
  return { localAddresses: cidrs(r, 'local_addresses'), remoteAddresses: cidrs(r, 'remote_addresses') };
}

/**
 * `baseDir`: where a relative domains_file is resolved from (the configuration file's directory). The file
 * is read here, so a missing or bad one stops a start (and a reload keeps the running list) with file:line;
 * unless `readFile` is false (a command that needs no trust list): then it is only named.
 */
export function readTrust(r: TableReader, baseDir: string, readFile = true): TrustConfig {
  r.checkKeys(TRUST_KEYS);
  const file = r.optionalNonEmptyString('domains_file', 'a file path');
  const trust = { domains: patterns(r, 'domains'), replaceDefaults: r.boolean('replace_defaults') ?? false };
  if (file === undefined) return trust;
  const domainsFile = resolvePath(baseDir, file);
  if (!readFile) return { ...trust, domainsFile };
  return { ...trust, domainsFile, fileDomains: readDomainsFile(r, domainsFile) };
}

function readDomainsFile(r: TableReader, file: string): TextPattern[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw r.error('domains_file', `cannot read ${file}: ${why}`);
  }
  try {
    return parseTrustDomains(text);
  } catch (err) {
    if (!(err instanceof TrustDomainsLineError)) throw err;
    // The list's own line, and the key that named the file.
    throw new ConfigError(err.reason, { file, line: err.line, key: r.keyPath('domains_file') });
  }
}

export function readStress(r: TableReader): StressConfig {
  r.checkKeys(STRESS_KEYS);
  const threshold = r.number('threshold', { integer: true, min: 0 });
  return threshold === undefined ? {} : { threshold };
}
