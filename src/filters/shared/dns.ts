/**
 * The one DNS resolver every built-in filter uses (SPF, DKIM, DMARC), injectable so tests point it at a
 * stub on loopback. Its shape is mailauth's `resolver` option: (name, rrtype) → the records, as
 * dns.promises.resolve gives them; failures reject with a Node DNS error code (ENOTFOUND, ENODATA...).
 */
import { promises as dns } from 'node:dns';
import { timerDelay } from '../../config/timer-limit.js';

export type DnsResolver = (name: string, rrtype: string) => Promise<unknown>;

/**
 * A resolver asking `servers` ("127.0.0.1:5353", "[::1]"); none: the system's configuration. Each query
 * waits `timeoutMs`, then once more (c-ares doubles the wait), then fails with ETIMEOUT.
 */
export function createDnsResolver(servers: readonly string[] = [], timeoutMs = 5000): DnsResolver {
  const resolver = new dns.Resolver({ timeout: timerDelay(timeoutMs), tries: 2 });
  if (servers.length > 0) resolver.setServers([...servers]);
  // async: a bad argument (an unknown rrtype) becomes a rejection, never a throw in the caller's stage.
  return async (name, rrtype) => resolver.resolve(name, rrtype);
}
