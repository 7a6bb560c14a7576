/**
 * How `mailgate start` puts the mail server together: Accounts, the mailbox store, the delivery Transport,
 * the queue (a Spool and its scheduler), the SMTP listeners sharing the chain, and the IMAP and POP3
 * listeners over the mailbox store. The services never import each other (they meet through
 * store/); this file is the one place that knows them all, through ServiceFactories: a narrow interface
 * that the real constructors of src/store/accounts/, src/delivery/, src/queue/ and src/smtp/ are plugged
 * into (start-factories.ts), and that a test fills with fakes.
 */
import type { DeliveryConfig, ImapConfig, ListenAddress, MailboxConfig, MailgateConfig, Pop3Config, QueueConfig, SmtpConfig, SubmissionConfig } from '../config/schema.js';
import { AuthFailures } from '../mail/client-limits.js';
import type { Filter } from '../mail/filter.js';
import type { Logger } from '../mail/logger.js';
import type { Accounts } from '../store/accounts/accounts.js';
import type { MailboxDelivery, MailboxStore } from '../store/mailbox/mailbox-store.js';
import type { Spool } from '../store/spool.js';
import type { Transport } from '../store/transport.js';
import { ownAddresses } from './own-addresses.js';

export interface AccountsOptions {
  readonly dataDir: string;
  /** [domains] local: local besides the domains in the database. */
  readonly localDomains: readonly string[];
}

export interface TransportOptions extends DeliveryConfig {
  readonly hostname: string;
  /** Where we accept mail ([smtp] and [submission] listen, wildcards expanded): a next hop there is a loop. */
  readonly ownAddresses?: readonly ListenAddress[];
  readonly dataDir: string;
  readonly logger: Logger;
  /** Local mail goes through the mailbox store (quota, IMAP sessions told at once). */
  readonly mailboxes?: MailboxDelivery;
}

export interface MailboxStoreOptions extends MailboxConfig {
  readonly hostname: string;
  /** [imap] append_limit: the largest message APPEND takes. */
  readonly appendLimit: number;
  readonly logger: Logger;
}

/** What the IMAP and POP3 servers need besides their section. */
export interface MailServerDependencies {
  readonly accounts: Accounts;
  readonly store: MailboxStore;
  readonly logger: Logger;
  readonly tls: { readonly cert: Buffer; readonly key: Buffer };
  /** Failed logins per client, one count for SMTP AUTH, IMAP and POP3 (the same passwords): no thrice the tries. */
  readonly authFailures: AuthFailures;
}

/** The listeners of [imap] or [pop3]. */
export interface MailServerHandle {
  listen(): Promise<void>;
  /** Stops accepting, says goodbye (BYE, -ERR) to idle sessions and cuts the rest after graceMs. */
  close(graceMs: number): Promise<void>;
}

export interface QueueOptions extends QueueConfig {
  readonly dataDir: string;
  /** For bounces and delay warnings (the DSN's Reporting-MTA, the From: MAILER-DAEMON@hostname). */
  readonly hostname: string;
  readonly transport: Transport;
  readonly logger: Logger;
  /** [delivery] destination_concurrency_limit: the scheduler hands a destination no more at once. */
  readonly destinationConcurrencyLimit: number;
}

/** The queue: the Spool the SMTP server writes to, and the scheduler that hands its mail to the Transport. */
export interface Queue extends Spool {
  /** Starts the scheduler (mail left in the queue by a previous run goes out too); rejects when another
   * process runs this queue. */
  start(): Promise<void>;
  /** Stops the scheduler; deliveries in flight finish within `graceMs` or are left for the next start. */
  stop(graceMs?: number): Promise<void>;
}

export interface SmtpServerOptions {
  readonly hostname: string;
  readonly smtp: SmtpConfig;
  readonly submission: SubmissionConfig;
  /** PEM; served on STARTTLS and the implicit-TLS listeners. */
  readonly tls: { readonly cert: Buffer; readonly key: Buffer };
}

export interface SmtpDependencies {
  /** Every SMTP session runs through it (the same ReloadableChain the milter listener serves). */
  readonly chain: Filter;
  readonly accounts: Accounts;
  readonly spool: Spool;
  readonly logger: Logger;
  /** Failed logins per client, one count for SMTP AUTH, IMAP and POP3 (the same passwords). */
  readonly authFailures: AuthFailures;
}

/** Every listener of [smtp] and [submission]. */
export interface SmtpServerHandle {
  /** Binds every listener; rejects (nothing left bound) when one cannot be. */
  listen(): Promise<void>;
  /** Stops accepting; sessions in flight may finish for `graceSeconds`, then are cut. */
  close(graceSeconds: number): Promise<void>;
}

export interface ServiceFactories {
  openAccounts(options: AccountsOptions): Accounts;
  /** The users' mailboxes, in their Maildirs (`Accounts.maildirOf`). */
  openMailboxStore(options: MailboxStoreOptions, accounts: Accounts): MailboxStore;
  createImapServer(config: ImapConfig, dependencies: MailServerDependencies): MailServerHandle;
  createPop3Server(config: Pop3Config, dependencies: MailServerDependencies): MailServerHandle;
  createTransport(options: TransportOptions, accounts: Accounts): Transport;
  openQueue(options: QueueOptions): Queue;
  createSmtpServer(options: SmtpServerOptions, dependencies: SmtpDependencies): SmtpServerHandle;
}

/** What startMta built; stop() takes it down in the reverse order. */
export interface RunningMta {
  readonly accounts: Accounts;
  readonly queue: Queue;
  stop(graceSeconds: number): Promise<void>;
}

/** How long a stopping queue waits for deliveries in flight; what is left is delivered again at the next start. */
const QUEUE_STOP_GRACE_MS = 10_000;

/** Something that could not start (a port in use, a data directory that cannot be written): one line, exit 2. */
export class StartError extends Error {
  override readonly name = 'StartError';
}

/**
 * Opens the accounts, the mailbox store, the transport and the queue, starts the scheduler, then binds the
 * SMTP, IMAP and POP3 listeners: mail is accepted only once everything behind it runs. When a step fails, what was started is stopped
 * again before the error is thrown.
 */
export async function startMta(
  config: MailgateConfig,
  parts: { readonly chain: Filter; readonly tls: SmtpServerOptions['tls']; readonly logger: Logger },
  factories: ServiceFactories,
): Promise<RunningMta> {
  const { logger } = parts;
  const undo: (() => Promise<void> | void)[] = [];
  const rollBack = async () => {
    for (const step of undo.reverse()) {
      await Promise.resolve()
        .then(step)
        .catch((err: unknown) => logger.error({ err: (err as Error).message }, 'error while stopping a service'));
    }
  };
  try {
    const accounts = factories.openAccounts({ dataDir: config.dataDir, localDomains: config.domains.local });
    undo.push(() => accounts.close());
    const store = factories.openMailboxStore(
      { ...config.mailbox, hostname: config.hostname, appendLimit: config.imap.appendLimit, logger: logger.child({ service: 'mailbox' }) },
      accounts,
    );
    undo.push(() => store.close());
    const transport = factories.createTransport(
      {
        ...config.delivery,
        hostname: config.hostname,
        dataDir: config.dataDir,
        ownAddresses: ownAddresses([...config.smtp.listen, ...config.submission.listen]),
        logger: logger.child({ service: 'delivery' }),
        mailboxes: store.delivery,
      },
      accounts,
    );
    // Deliveries in flight get QUEUE_STOP_GRACE_MS in all, counted from when the queue starts stopping: the
    // transport cuts what is still going when it is over (the queue delivers it again at the next start).
    let deliveryDeadline: number | undefined;
    undo.push(() => transport.close(deliveryDeadline === undefined ? 0 : Math.max(0, deliveryDeadline - Date.now())));
    const queue = factories.openQueue({
      ...config.queue,
      dataDir: config.dataDir,
      hostname: config.hostname,
      destinationConcurrencyLimit: config.delivery.destinationConcurrencyLimit,
      transport,
      logger: logger.child({ service: 'queue' }),
    });
    await queue.start();
    undo.push(() => {
      deliveryDeadline = Date.now() + QUEUE_STOP_GRACE_MS;
      return queue.stop(QUEUE_STOP_GRACE_MS);
    });
    // One failed-login count per client for every service that takes a password, as Dovecot's auth penalty
    // (in its one auth process, also behind Postfix's SASL) is one per client across protocols.
    const loginFailures = new AuthFailures();
    const smtp = factories.createSmtpServer(
      { hostname: config.hostname, smtp: config.smtp, submission: config.submission, tls: parts.tls },
      { chain: parts.chain, accounts, spool: queue, logger: logger.child({ service: 'smtp' }), authFailures: loginFailures },
    );
    await smtp.listen();
    undo.push(() => smtp.close(0));
    const mailServers = { accounts, store, tls: parts.tls, authFailures: loginFailures };
    const imap = factories.createImapServer(config.imap, { ...mailServers, logger: logger.child({ service: 'imap' }) });
    await imap.listen();
    undo.push(() => imap.close(0));
    const pop3 = factories.createPop3Server(config.pop3, { ...mailServers, logger: logger.child({ service: 'pop3' }) });
    await pop3.listen();
    undo.push(() => pop3.close(0));
    return {
      accounts,
      queue,
      // Stop accepting everywhere and drain the sessions side by side first: nothing new enters the queue
      // or the mailboxes while the rest stops.
      stop: async (graceSeconds) => {
        undo.splice(-3);
        await Promise.all([smtp.close(graceSeconds), imap.close(graceSeconds * 1000), pop3.close(graceSeconds * 1000)]);
        await rollBack();
      },
    };
  } catch (err) {
    await rollBack();
    throw err instanceof StartError ? err : new StartError((err as Error).message);
  }
}
