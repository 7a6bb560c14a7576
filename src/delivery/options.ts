/**
 * What the delivery service is configured with: the [delivery] section's names camelCased (durations in
 * seconds, as in the configuration file), with Postfix's defaults where Postfix has the setting.
 */
import type { RelayHost } from '../config/schema.js';
import type { Logger } from '../mail/logger.js';
import type { MailboxDelivery } from '../store/mailbox/mailbox-store.js';
import type { MxResolver } from './next-hop.js';
import type { OwnAddress } from './own-addresses.js';

export interface DeliveryOptions {
  /**
   * Postfix syntax: "[host]:port" (no MX lookup), "[host]", "host:port" or "host" (MX lookup of host); or as
   * the configuration has already parsed it ([delivery] relay_host).
   */
  readonly relayHost?: string | Pick<RelayHost, 'host' | 'port' | 'mx'>;
  /**
   * SMTP AUTH at the relay host when it offers AUTH (Postfix's smtp_sasl_password_maps entry for it); the
   * password goes in the clear unless the relay offers STARTTLS, which is always taken.
   */
  readonly relayAuth?: { readonly user: string; readonly pass: string };
  /** Deliveries at once to one destination (Postfix's default_destination_concurrency_limit): 20. */
  readonly destinationConcurrencyLimit?: number;
  /** Local mail over LMTP instead of the built-in Maildir: "inet:127.0.0.1:24" or "unix:/path". */
  readonly lmtp?: string;
  /** Seconds to connect (Postfix's smtp_connect_timeout): 30. */
  readonly connectTimeout?: number;
  /** Seconds to wait for the greeting and each reply (Postfix's smtp_*_timeout are 300): 300. */
  readonly commandTimeout?: number;
  /** The remote SMTP port: 25 (tests point it at a sink on loopback). */
  readonly smtpPort?: number;
  /** Our name in EHLO/LHLO and in Maildir file names (Postfix's myhostname): os.hostname(). */
  readonly hostname?: string;
  /** DNS servers for MX lookups ("127.0.0.1:5353"); none: the system's. */
  readonly dnsServers?: readonly string[];
  /** Seconds per DNS query: 10. */
  readonly dnsTimeout?: number;
  /** Seconds an idle connection is kept for reuse (Postfix's smtp_connection_cache_time_limit): 2. */
  readonly connectionCacheTime?: number;
  /** Recipients per SMTP transaction (Postfix's smtp_destination_recipient_limit): 50. */
  readonly recipientLimit?: number;
  /**
   * Where we accept mail ([smtp]/[submission] listen, 0.0.0.0 and :: as every interface address): a next hop
   * that is one of them is a mail loop (5.4.6), as Postfix's "loops back to myself".
   */
  readonly ownAddresses?: readonly OwnAddress[];
  /**
   * The mailbox store's delivery (`mailgate start`): local mail goes through it, so the user's quota is
   * checked and IMAP sessions watching the mailbox hear of the message at once. Absent: the Maildir
   * writer directly (no quota, no announcement).
   */
  readonly mailboxes?: MailboxDelivery;
  /** A resolver of one's own instead of node:dns with dnsServers (tests). */
  readonly resolver?: MxResolver;
  readonly logger?: Logger;
}

export const DELIVERY_DEFAULTS = {
  destinationConcurrencyLimit: 20,
  connectTimeout: 30,
  commandTimeout: 300,
  smtpPort: 25,
  dnsTimeout: 10,
  connectionCacheTime: 2,
  recipientLimit: 50,
} as const;
