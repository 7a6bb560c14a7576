/** Lists of listening addresses and of networks, as the MTA's sections write them. */
import { cidrError } from '../cidr.js';
import { parseListenAddress } from '../listen-address.js';
import type { TableReader } from '../reader.js';
import type { ListenAddress } from '../schema.js';

/** `key` as a list of HOST:PORT (empty allowed: that listener is off); undefined when absent. */
export function readListen(r: TableReader, key: string): ListenAddress[] | undefined {
  const seen = new Set<string>();
  return r.stringArray(key, (text, path) => {
    const parsed = parseListenAddress(text);
    if ('problem' in parsed) throw r.ctx.error(path, `${JSON.stringify(text)} ${parsed.problem}`);
    const id = `${parsed.host.toLowerCase()}:${parsed.port}`;
    if (seen.has(id)) throw r.ctx.error(path, `${JSON.stringify(text)} is listed twice`);
    seen.add(id);
    return parsed;
  });
}

/** `key` as a list of networks (CIDR or single address), each checked as [remote_network] checks its own. */
export function readNetworks(r: TableReader, key: string): string[] | undefined {
  return r.stringArray(key, (text, path) => {
    const error = cidrError(text);
    if (error !== undefined) throw r.ctx.error(path, error);
    return text;
  });
}
