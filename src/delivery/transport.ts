/**
 * The delivery service: the queue's Transport. It sorts a message's recipients by destination — a local
 * domain goes to the built-in Maildir (or to LMTP when `lmtp` is set), any other domain to `relay_host` or to
 * its MX hosts — and delivers to the destinations in parallel, each within its concurrency limit, reusing
 * connections. Every recipient gets a result; deliver() never rejects.
 */
import { promises as dns } from 'node:dns';
import { setMaxListeners } from 'node:events';
import { isIP } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { parseRelayHost } from '../config/relay-host.js';
import { silentLogger, type Logger } from '../mail/logger.js';
import type { Accounts } from '../store/accounts/accounts.js';
import type { QueuedRecipient } from '../store/spool.js';
import type { DeliveryRequest, RecipientResult, Transport } from '../store/transport.js';
import { ConnectionCache, DestinationLimiter } from './connection-pool.js';
import { parseLmtpEndpoint, type LmtpEndpoint } from './lmtp-endpoint.js';
import { deliverToMaildir } from './maildir-delivery.js';
import { resolveRoute, type MxResolver, type NextHop } from './next-hop.js';
import { hostsBeforeSelf, selfCheck } from './own-addresses.js';
import { DELIVERY_DEFAULTS, type DeliveryOptions } from './options.js';
import { deliverGroup, type Target } from './smtp-delivery.js';
import { lmtpTargets, smtpTarget } from './targets.js';
import { ownResult } from './smtp-reply.js';

/** What delivery needs of the accounts: which domains are ours, and where a user's Maildir is. */
export type DeliveryAccounts = Pick<Accounts, 'isLocalDomain' | 'resolve' | 'maildirOf'>;

/** The domain of an address (after the last '@'), lower-cased; undefined when there is none. */
function domainOf(address: string): string | undefined {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return undefined;
  return address.slice(at + 1).toLowerCase();
}

/** "[192.0.2.1]" / "[IPv6:2001:db8::1]" address literals go to that address, without DNS. */
function hopOfDomain(domain: string): NextHop {
  const literal = /^\[(?:ipv6:)?([^\]]+)\]$/i.exec(domain);
  if (literal !== null && isIP(literal[1] as string) !== 0) return { host: literal[1] as string, mx: false };
  return { host: domain, mx: true };
}

function createResolver(servers: readonly string[] | undefined, timeoutSeconds: number): MxResolver {
  const resolver = new dns.Resolver({ timeout: Math.round(timeoutSeconds * 1000), tries: 2 });
  if (servers !== undefined && servers.length > 0) resolver.setServers([...servers]);
  return resolver;
}

/** How long close() waits, after cutting the connections, for the deliveries to come back. */
const CUT_SETTLE_MS = 1000;

/** True when `done` resolves within `ms`, false when the time runs out first. */
async function within(done: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([done, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Builds the Transport. Throws (a configuration error, at start) when relayHost or lmtp cannot be read.
 */
export function createTransport(options: DeliveryOptions, accounts: DeliveryAccounts): Transport {
  const logger: Logger = options.logger ?? silentLogger;
  const hostname = options.hostname ?? osHostname();
  const port = options.smtpPort ?? DELIVERY_DEFAULTS.smtpPort;
  const connectTimeoutMs = Math.round((options.connectTimeout ?? DELIVERY_DEFAULTS.connectTimeout) * 1000);
  const commandTimeoutMs = Math.round((options.commandTimeout ?? DELIVERY_DEFAULTS.commandTimeout) * 1000);
  const recipientLimit = Math.max(1, options.recipientLimit ?? DELIVERY_DEFAULTS.recipientLimit);
  const limiter = new DestinationLimiter(Math.max(1, options.destinationConcurrencyLimit ?? DELIVERY_DEFAULTS.destinationConcurrencyLimit));
  const cache = new ConnectionCache(Math.round((options.connectionCacheTime ?? DELIVERY_DEFAULTS.connectionCacheTime) * 1000));
  const isSelf = selfCheck(options.ownAddresses ?? []);
  const resolver = options.resolver ?? createResolver(options.dnsServers, options.dnsTimeout ?? DELIVERY_DEFAULTS.dnsTimeout);

  let relayHop: NextHop | undefined;
  if (typeof options.relayHost === 'string') {
    const parsed = parseRelayHost(options.relayHost.trim());
    if ('problem' in parsed) throw new Error(`relay_host ${JSON.stringify(options.relayHost)} ${parsed.problem}`);
    relayHop = { host: parsed.host, port: parsed.port, mx: parsed.mx };
  } else if (options.relayHost !== undefined) {
    relayHop = { host: options.relayHost.host, port: options.relayHost.port, mx: options.relayHost.mx };
  }
  const relayKey = relayHop === undefined ? undefined : `relay:[${relayHop.host}]:${relayHop.port ?? port}:${relayHop.mx ? 'mx' : ''}`;
  let lmtp: LmtpEndpoint | undefined;
  if (options.lmtp !== undefined && options.lmtp.trim() !== '') {
    const parsed = parseLmtpEndpoint(options.lmtp);
    if (parsed instanceof Error) throw parsed;
    lmtp = parsed;
  }

  // Aborted when close()'s grace is over: connections in use are cut, and no new one is opened.
  const shutdown = new AbortController();
  setMaxListeners(0, shutdown.signal); // one listener per open connection
  const session = { ehloName: hostname, connectTimeoutMs, commandTimeoutMs, signal: shutdown.signal };

  /** One remote destination: its route (once), then transactions of at most recipientLimit recipients. */
  const deliverRemote = async (key: string, hop: NextHop, request: DeliveryRequest, recipients: readonly QueuedRecipient[]): Promise<RecipientResult[]> => {
    const route = await resolveRoute(hop, port, resolver);
    if (route.kind === 'error') return recipients.map((r) => ownResult(r.address, route.status, route.enhanced, route.diagnostic));
    const hosts = hostsBeforeSelf(route.hosts, isSelf);
    if (hosts.length === 0) {
      // Postfix names the next hop: the recipients' domain, or relay_host.
      return recipients.map((r) => ownResult(r.address, 'failed', '5.4.6', `mail for ${hop.host} loops back to myself`));
    }
    const auth = hop === relayHop ? options.relayAuth : undefined;
    const targets = hosts.map((h) => smtpTarget(h, session, auth));
    return deliverChunks(key, targets, request, recipients, false);
  };

  const deliverChunks = async (
    key: string,
    targets: readonly Target[],
    request: DeliveryRequest,
    recipients: readonly QueuedRecipient[],
    isLmtp: boolean,
  ): Promise<RecipientResult[]> => {
    const chunks: QueuedRecipient[][] = [];
    for (let i = 0; i < recipients.length; i += recipientLimit) chunks.push(recipients.slice(i, i + recipientLimit));
    const results = await Promise.all(
      chunks.map(async (chunk) => {
        const release = await limiter.acquire(key);
        try {
          return await deliverGroup({ key, targets, request, recipients: chunk, cache, lmtp: isLmtp });
        } finally {
          release();
        }
      }),
    );
    return results.flat();
  };

  const inFlight = new Set<Promise<unknown>>();
  let closed = false;

  const deliverAll = async (request: DeliveryRequest): Promise<RecipientResult[]> => {
    const results = new Map<string, RecipientResult>();
    const jobs: Promise<void>[] = [];
    const remote = new Map<string, { hop: NextHop; recipients: QueuedRecipient[] }>();
    const viaLmtp: QueuedRecipient[] = [];
    const settle = (list: readonly RecipientResult[]): void => {
      for (const r of list) results.set(r.address, r);
    };
    const seen = new Set<string>();
    for (const recipient of request.recipients) {
      if (seen.has(recipient.address)) continue;
      seen.add(recipient.address);
      const domain = domainOf(recipient.address);
      if (domain === undefined) {
        settle([ownResult(recipient.address, 'failed', '5.1.3', `bad address syntax: "${recipient.address}"`)]);
        continue;
      }
      if (accounts.isLocalDomain(domain)) {
        if (lmtp !== undefined) viaLmtp.push(recipient);
        else jobs.push(deliverToMaildir(request, recipient.address, accounts, hostname, options.mailboxes).then((r) => settle([r])));
        continue;
      }
      const key = relayKey ?? domain;
      const group = remote.get(key) ?? { hop: relayHop ?? hopOfDomain(domain), recipients: [] };
      group.recipients.push(recipient);
      remote.set(key, group);
    }
    if (lmtp !== undefined && viaLmtp.length > 0) jobs.push(deliverChunks('lmtp', lmtpTargets(lmtp, session), request, viaLmtp, true).then(settle));
    for (const [key, group] of remote) jobs.push(deliverRemote(key, group.hop, request, group.recipients).then(settle));
    await Promise.all(jobs);
    return request.recipients.map((r) => results.get(r.address) ?? ownResult(r.address, 'deferred', '4.3.0', 'internal error: no result'));
  };

  // At debug: the queue logs each recipient's outcome in Postfix's form (`ID: to=<…>, relay=…, delay=…, dsn=…,
  // status=…`), once as Postfix does; this line at info too wrote a second to= line for every recipient.
  const log = (request: DeliveryRequest, r: RecipientResult): void => {
    const fields = { queueId: request.queueId, to: r.address, relay: r.relay ?? 'none', status: r.status, dsn: r.enhanced, diagnostic: r.diagnostic };
    logger.debug(fields, `${request.queueId}: to=<${r.address}> status=${r.status === 'delivered' ? 'sent' : r.status === 'failed' ? 'bounced' : 'deferred'}`);
  };

  return {
    async deliver(request) {
      if (closed) return request.recipients.map((r) => ownResult(r.address, 'deferred', '4.3.2', 'mail system is shutting down'));
      const job = deliverAll(request).catch((err: unknown) =>
        request.recipients.map((r) => ownResult(r.address, 'deferred', '4.3.0', `delivery error: ${String((err as Error)?.message ?? err)}`)),
      );
      inFlight.add(job);
      try {
        const results = await job;
        for (const r of results) log(request, r);
        return results;
      } finally {
        inFlight.delete(job);
      }
    },
    async close(graceMs) {
      closed = true;
      cache.close();
      const settled = Promise.allSettled([...inFlight]).then(() => true);
      if (graceMs === undefined) {
        await settled;
        return;
      }
      if (await within(settled, graceMs)) return;
      logger.warn({ inFlight: inFlight.size, graceMs }, `shutting down: ${inFlight.size} deliveries in flight cut after ${graceMs} ms`);
      shutdown.abort();
      // Cut connections settle their deliveries (and free their destination slots) at once; one stuck
      // elsewhere (a DNS query, a slow disk) is not waited for.
      await within(settled, CUT_SETTLE_MS);
    },
  };
}
