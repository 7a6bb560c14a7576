/**
 * The trusted-domain list file of `[trust] domains_file` (milter-manager's trust.load_envelope_from_domains):
 * one domain per line, "/regex/" or "/regex/flags" lines, "#" comment lines and blank lines; a comment may
 * also follow a domain after whitespace. Regexes always get the i flag, as milter-manager compiles them
 * with IGNORECASE. Read with the configuration, so it is read again on every reload (SIGHUP).
 */
import type { TextPattern } from './schema.js';

/** A bad line: `line` is 1-based; the message is "line N: why" for callers that add no file name. */
export class TrustDomainsLineError extends Error {
  override readonly name = 'TrustDomainsLineError';

  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

/** Parses the file's text; throws TrustDomainsLineError on the first bad line. */
export function parseTrustDomains(text: string): TextPattern[] {
  const out: TextPattern[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const regex = /^\/(.+)\/([a-z]*)$/.exec(line);
    if (regex) {
      // g and y would make test() stateful; i as milter-manager.
      const flags = new Set(`${regex[2] ?? ''}i`.replace(/[gy]/g, ''));
      try {
        out.push(new RegExp(regex[1] ?? '', [...flags].join('')));
      } catch (e) {
        throw new TrustDomainsLineError(i + 1, `invalid regex ${line}: ${(e as Error).message}`);
      }
      continue;
    }
    const domain = line.replace(/\s+#.*$/, '');
    if (!/^[^\s/@<>#]+$/.test(domain)) throw new TrustDomainsLineError(i + 1, `expected a domain or /regex/, got "${line}"`);
    out.push(domain.toLowerCase());
  }
  return out;
}
