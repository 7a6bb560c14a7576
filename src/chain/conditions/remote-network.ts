/**
 * "Remote Network": apply the child only to clients that are not on the local network, e.g. to
 * greylist or spam-check mail from outside but not mail submitted by local hosts.
 */
import { NetworkList } from '../../mail/network-list.js';
import { APPLY, STOP, type Condition, type ConditionStage } from '../condition.js';
import { classifyClient } from './client-address.js';

export interface RemoteNetworkOptions {
  /** Extra local networks, "CIDR" or a single address (milter-manager's add_local_address). */
  localAddresses?: readonly string[];
  /** Networks that are remote even when they fall in a local range (add_remote_address); wins over local. */
  remoteAddresses?: readonly string[];
}

/**
 * Local by default: IPv4 loopback and RFC 1918, IPv6 loopback and link-local. Unique local addresses
 * (fc00::/7) are deliberately not local, as in milter-manager: they are routable across sites.
 */
export const DEFAULT_LOCAL_NETWORKS: readonly string[] = Object.freeze([
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '::1/128',
  'fe80::/10',
]);

const STAGES: ReadonlySet<ConditionStage> = new Set<ConditionStage>(['connect']);

export function createRemoteNetwork(options: RemoteNetworkOptions = {}): Condition {
  const local = new NetworkList([...DEFAULT_LOCAL_NETWORKS, ...(options.localAddresses ?? [])]);
  const remote = new NetworkList(options.remoteAddresses ?? []);
  return {
    name: 'Remote Network',
    description: 'Apply milter only if connected from remote network',
    stages: STAGES,
    check(stage, ctx) {
      if (stage !== 'connect') return APPLY;
      const client = classifyClient(ctx.connection);
      // A UNIX-socket client is on this host; an address we cannot read is not known to be remote.
      if (client.kind === 'unix' || client.kind === 'unknown') return STOP;
      if (remote.has(client.address)) return APPLY;
      return local.has(client.address) ? STOP : APPLY;
    },
  };
}
