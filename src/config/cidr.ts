/** Network ranges for [remote_network]: "10.0.0.0/8", "fd00::/8", or a single address. */
import { BlockList, isIP } from 'node:net';

/** Undefined when `text` is a valid address or CIDR; else why not. */
export function cidrError(text: string): string | undefined {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return `${JSON.stringify(text)} is not an IP address or CIDR like 192.0.2.0/24`;
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
      return `${JSON.stringify(text)}: prefix length "${prefixText}" is not a number from 0 to ${max}`;
    }
    prefix = Number(prefixText);
  }
  try {
    new BlockList().addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  } catch (err) {
    return `${JSON.stringify(text)}: ${(err as Error).message}`;
  }
  return undefined;
}
