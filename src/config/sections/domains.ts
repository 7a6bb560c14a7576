/** [domains] and the top-level hostname: the names this server answers to. */
import { DEFAULT_LOCAL_DOMAINS, defaultHostname } from '../defaults.js';
import { isHostName } from '../host-name.js';
import type { TableReader } from '../reader.js';
import type { DomainsConfig } from '../schema.js';

export const DOMAINS_KEYS = ['local'] as const;

/** Local domains, lower-cased (domains compare case-insensitively); a trailing dot or an address is refused. */
export function readDomains(r: TableReader): DomainsConfig {
  r.checkKeys(DOMAINS_KEYS);
  const seen = new Set<string>();
  const local = r.stringArray('local', (text, path) => {
    if (!isHostName(text)) throw r.ctx.error(path, `${JSON.stringify(text)} is not a domain name (e.g. "example.org")`);
    const domain = text.toLowerCase();
    if (seen.has(domain)) throw r.ctx.error(path, `${JSON.stringify(text)} is listed twice`);
    seen.add(domain);
    return domain;
  });
  return { local: local ?? [...DEFAULT_LOCAL_DOMAINS] };
}

/** Top-level hostname (Postfix's myhostname); default: the machine's name. */
export function readHostname(root: TableReader): string {
  const name = root.string('hostname', 'a host name');
  if (name === undefined) return defaultHostname();
  if (!isHostName(name)) throw root.error('hostname', `${JSON.stringify(name)} is not a host name (e.g. "mail.example.org")`);
  return name;
}
