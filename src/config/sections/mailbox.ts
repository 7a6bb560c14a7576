/** [mailbox]: the mailbox store's per-user quota (0 = none), checked at delivery, APPEND and COPY. */
import { DEFAULT_MAILBOX } from '../defaults.js';
import type { TableReader } from '../reader.js';
import type { MailboxConfig } from '../schema.js';

export const MAILBOX_KEYS = ['quota', 'quota_messages'] as const;

export function readMailbox(r: TableReader): MailboxConfig {
  r.checkKeys(MAILBOX_KEYS);
  return {
    quota: r.number('quota', { integer: true, min: 0 }) ?? DEFAULT_MAILBOX.quota,
    quotaMessages: r.number('quota_messages', { integer: true, min: 0 }) ?? DEFAULT_MAILBOX.quotaMessages,
  };
}
