/**
 * The constructors `mailgate start` uses, in one place: the services never import each other, cli/ joins
 * them. Each factory adapts the configuration's units to its service's (the queue counts milliseconds,
 * the configuration seconds).
 */
import { createTransport } from '../delivery/transport.js';
import { createImapServer } from '../imap/server.js';
import { createPop3Server } from '../pop3/server.js';
import { openQueue, timingFromSeconds } from '../queue/index.js';
import { createSmtpServer } from '../smtp/server.js';
import { openAccounts } from '../store/accounts/open.js';
import { openMaildirMailboxStore } from '../store/mailbox/open.js';
import type { ServiceFactories } from './start-services.js';

export const serviceFactories: ServiceFactories = {
  openAccounts,
  openMailboxStore: ({ hostname, quota, quotaMessages, appendLimit, logger }, accounts) =>
    openMaildirMailboxStore({
      maildirOf: (user) => accounts.maildirOf(user),
      quotaOf: (user) => accounts.quotaOf(user),
      hostname,
      quotaBytes: quota,
      quotaMessages,
      appendLimit,
      logger,
    }),
  createImapServer: (config, { accounts, store, logger, tls, authFailures }) => createImapServer(config, { accounts, store, logger, tls, authFailures }),
  createPop3Server: (config, { accounts, store, logger, tls, authFailures }) => createPop3Server(config, { accounts, store, logger, tls, authFailures }),
  createTransport: (options, accounts) => createTransport(options, accounts),
  openQueue: ({ minimalBackoffTime, maximalBackoffTime, maximalQueueLifetime, bounceQueueLifetime, delayWarningTime, queueRunDelay, ...rest }) =>
    openQueue({
      ...rest,
      ...timingFromSeconds({ minimalBackoffTime, maximalBackoffTime, maximalQueueLifetime, bounceQueueLifetime, delayWarningTime, queueRunDelay }),
    }),
  createSmtpServer,
};
