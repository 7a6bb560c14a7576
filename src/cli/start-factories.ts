/**
 * The constructors `mailgate start` uses: the real accounts; placeholders (start-stubs.ts) for the rest
 * until they are integrated, when this file's body becomes the real ones, e.g.
 *   import { createTransport } from '../delivery/index.js';
 *   import { openQueue } from '../queue/index.js';
 *   import { createSmtpServer } from '../smtp/index.js';
 *   export const serviceFactories: ServiceFactories = { openAccounts, createTransport, openQueue, createSmtpServer };
 * and deletes start-stubs.ts.
 */
import { openAccounts } from '../store/accounts/open.js';
import type { ServiceFactories } from './start-services.js';
import { placeholderFactories } from './start-stubs.js';

export const serviceFactories: ServiceFactories = { ...placeholderFactories, openAccounts };

/** False while the placeholders are in use: start says so, so nobody mistakes them for a mail server. */
export const SERVICES_INTEGRATED = false;
