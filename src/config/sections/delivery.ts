/** [delivery]: where accepted mail goes: a smarthost (relay_host), LMTP for local mail, the limits of remote delivery. */
import { DEFAULT_DELIVERY } from '../defaults.js';
import { parseConnectionSpec } from '../connection-spec.js';
import { resolveSpecPath } from '../paths.js';
import type { TableReader } from '../reader.js';
import { parseRelayHost } from '../relay-host.js';
import type { DeliveryConfig, RelayHost } from '../schema.js';

export const DELIVERY_KEYS = ['relay_host', 'destination_concurrency_limit', 'lmtp', 'connect_timeout', 'smtp_port'] as const;

/** A relative unix socket path in `lmtp` is resolved against `baseDir`. */
export function readDelivery(r: TableReader, baseDir: string): DeliveryConfig {
  r.checkKeys(DELIVERY_KEYS);
  const d = DEFAULT_DELIVERY;
  const relayText = r.optionalNonEmptyString('relay_host', 'a host in Postfix\'s relayhost syntax, e.g. "[smtp.example.net]:587"');
  let relayHost: RelayHost | undefined;
  if (relayText !== undefined) {
    const parsed = parseRelayHost(relayText);
    if ('problem' in parsed) throw r.error('relay_host', `${JSON.stringify(relayText)}: ${parsed.problem}`);
    relayHost = parsed;
  }
  const lmtpText = r.optionalNonEmptyString('lmtp', 'an LMTP server like "inet:127.0.0.1:24" or "unix:/PATH"');
  const lmtp = lmtpText === undefined ? undefined : checkLmtp(r, lmtpText, baseDir);
  const portValue = r.number('smtp_port', { integer: true, min: 1, max: 65535 });
  return {
    ...(relayHost === undefined ? {} : { relayHost }),
    destinationConcurrencyLimit: r.number('destination_concurrency_limit', { integer: true, min: 1 }) ?? d.destinationConcurrencyLimit,
    ...(lmtp === undefined ? {} : { lmtp }),
    connectTimeout: r.seconds('connect_timeout') ?? d.connectTimeout,
    smtpPort: portValue ?? d.smtpPort,
  };
}

/** Postfix's LMTP destinations: inet:HOST:PORT (or the milter spelling inet:PORT@HOST) and unix:PATH. */
function checkLmtp(r: TableReader, text: string, baseDir: string): string {
  let spec;
  try {
    spec = parseConnectionSpec(text);
  } catch (err) {
    throw r.error('lmtp', (err as Error).message);
  }
  if (spec.type === 'inet' && spec.port === 0) throw r.error('lmtp', `${JSON.stringify(text)}: port 0 names no server`);
  if (spec.type === 'inet' && !/[:@]/.test(text.slice(text.indexOf(':') + 1))) {
    throw r.error('lmtp', `${JSON.stringify(text)}: name the host too, e.g. "inet:127.0.0.1:24"`);
  }
  return resolveSpecPath(baseDir, text);
}
