/**
 * MaildirMailboxStore: the mailbox store on disk, the default. Each user's mail is a Maildir++ tree as
 * Dovecot lays it out (`separator = /`, listescape), with the per-user index `mailgate-index.sqlite` beside
 * it and dovecot-uidlist/dovecot-keywords/subscriptions kept in Dovecot's formats, so Dovecot reads the
 * same tree with the same UIDs and flags, and the index can be rebuilt from the files. Delivery goes
 * through `delivery.deliver`: the keyed Maildir writer, the quota, a UID, and an announcement to the open
 * sessions of that user in this process (delivery-batch.ts).
 */
import type { Readable } from 'node:stream';
import type { Logger } from '../../mail/logger.js';
import { ensureMaildir } from '../maildir/maildir-writer.js';
import { deliverBatched } from './delivery-batch.js';
import { type DeliveryOptions, type MailboxDelivery, type MailboxStore, type UserMailboxes } from './mailbox-store.js';
import { initUser, MaildirUser } from './maildir-user.js';
import { quotaLimits } from './quota.js';
import { type StoreSettings, type UserContext } from './user-context.js';
import { UserRegistry } from './user-handles.js';

export interface MaildirStoreOptions {
  /** The user's Maildir (from Accounts.maildirOf: already checked to stay inside the data directory). */
  readonly maildirOf: (user: string) => string;
  /** The host part of the names of files the store makes (APPEND, COPY, MOVE). */
  readonly hostname: string;
  /** Bytes per user over all folders (0 or absent: none). */
  readonly quotaBytes?: number;
  readonly quotaMessages?: number;
  /**
   * A user's own limits over those two (Accounts.quotaOf: `mailgate user quota`), asked each time the
   * user's mail is opened (a login, a delivery), so a change applies from the next one, as a userdb's
   * quota_rule does in Dovecot.
   */
  readonly quotaOf?: (user: string) => { readonly bytes?: number; readonly messages?: number } | undefined;
  /** The largest message APPEND takes (TOOBIG above). */
  readonly appendLimit?: number;
  /** One line per notable event (an index set aside and rebuilt). */
  readonly logger?: Logger;
}

export class MaildirMailboxStore implements MailboxStore {
  private readonly registry: UserRegistry;
  private readonly settings: StoreSettings;
  readonly delivery: MailboxDelivery;

  constructor(private readonly options: MaildirStoreOptions) {
    const logger = options.logger;
    this.registry = new UserRegistry(logger === undefined ? undefined : (line) => logger.warn(line));
    this.settings = {
      hostname: options.hostname,
      limits: quotaLimits(options.quotaBytes, options.quotaMessages),
      ...(options.appendLimit === undefined ? {} : { appendLimit: options.appendLimit }),
    };
    this.delivery = { deliver: (user, source, delivery) => this.deliver(user, source, delivery) };
  }

  private async context(user: string): Promise<UserContext> {
    const root = this.options.maildirOf(user);
    await ensureMaildir(root);
    const state = await this.registry.acquire(root);
    const ctx = { state, settings: this.settingsOf(user) };
    try {
      await state.exclusive(() => initUser(ctx));
    } catch (err) {
      this.registry.release(state);
      throw err;
    }
    return ctx;
  }

  private settingsOf(user: string): StoreSettings {
    const own = this.options.quotaOf?.(user);
    if (own === undefined) return this.settings;
    return { ...this.settings, limits: quotaLimits(own.bytes ?? this.options.quotaBytes, own.messages ?? this.options.quotaMessages) };
  }

  async openUser(user: string): Promise<UserMailboxes> {
    const ctx = await this.context(user);
    return new MaildirUser(ctx, user, () => this.registry.release(ctx.state));
  }

  private async deliver(user: string, source: () => Readable, options: DeliveryOptions): Promise<{ readonly size: number; readonly vsize: number }> {
    const ctx = await this.context(user);
    try {
      return await deliverBatched(ctx, source, options);
    } finally {
      this.registry.release(ctx.state);
    }
  }

  close(): Promise<void> {
    return this.registry.closeAll();
  }
}
