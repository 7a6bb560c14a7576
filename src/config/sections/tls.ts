/** [tls]: the servers' certificate and key; both left out, `mailgate start` makes a self-signed pair in <data_dir>/tls/. */
import { resolvePath } from '../paths.js';
import type { TableReader } from '../reader.js';
import type { TlsConfig } from '../schema.js';

export const TLS_KEYS = ['cert_file', 'key_file'] as const;

/** Relative paths are resolved against `baseDir`; the files are read at start, not here. */
export function readTls(r: TableReader, baseDir: string): TlsConfig {
  r.checkKeys(TLS_KEYS);
  const cert = r.optionalNonEmptyString('cert_file', 'a file path');
  const key = r.optionalNonEmptyString('key_file', 'a file path');
  if (cert === undefined && key === undefined) return {};
  if (cert === undefined) throw r.error('key_file', 'key_file needs cert_file too (or leave both out for a self-signed certificate)');
  if (key === undefined) throw r.error('cert_file', 'cert_file needs key_file too (or leave both out for a self-signed certificate)');
  return { certFile: resolvePath(baseDir, cert), keyFile: resolvePath(baseDir, key) };
}
