/**
 * Relative paths in mailgate.toml are relative to the file's own directory (as Postfix's and most daemons'
 * are not, but a service started from / by systemd must not depend on its working directory). With no
 * file, the base is the current directory.
 */
import { isAbsolute, resolve } from 'node:path';
import { parseConnectionSpec } from './connection-spec.js';

/** `path` made absolute against `baseDir` (and normalised: no trailing slash, no `..`). */
export function resolvePath(baseDir: string, path: string): string {
  return resolve(baseDir, path);
}

/**
 * A connection spec with a relative unix socket path made absolute (`unix:run/x.sock` → `unix:/etc/mailgate/run/x.sock`);
 * any other spec returned as written. The spec must already be valid.
 */
export function resolveSpecPath(baseDir: string, spec: string): string {
  const parsed = parseConnectionSpec(spec);
  if (parsed.type !== 'unix' || isAbsolute(parsed.path)) return spec;
  return `unix:${resolve(baseDir, parsed.path)}`;
}
