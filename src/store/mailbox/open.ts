/**
 * The mailbox store's factory, as store/accounts/open.ts is the accounts': the Maildir store (the default
 * and, for now, the only one on disk; the memory store is for tests).
 */
import type { MailboxStore } from './mailbox-store.js';
import { MaildirMailboxStore, type MaildirStoreOptions } from './maildir-store.js';

export type { MaildirStoreOptions };

export function openMaildirMailboxStore(options: MaildirStoreOptions): MailboxStore {
  return new MaildirMailboxStore(options);
}
