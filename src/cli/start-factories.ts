/**
 * The constructors `mailgate start` uses. Until the services are integrated these are placeholders
 * (start-stubs.ts); integration replaces this file's body with the real ones, e.g.
 *   import { openAccounts } from '../store/accounts/index.js';
 *   import { createTransport } from '../delivery/index.js';
 *   import { openQueue } from '../queue/index.js';
 *   import { createSmtpServer } from '../smtp/index.js';
 *   export const serviceFactories: ServiceFactories = { openAccounts, createTransport, openQueue, createSmtpServer };
 * and deletes start-stubs.ts.
 */
import type { ServiceFactories } from './start-services.js';
import { placeholderFactories } from './start-stubs.js';

export const serviceFactories: ServiceFactories = placeholderFactories;

/** False while the placeholders are in use: start says so, so nobody mistakes them for a mail server. */
export const SERVICES_INTEGRATED = false;
