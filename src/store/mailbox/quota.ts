/**
 * The user's quota: bytes (the sum of the messages' CRLF sizes, as Dovecot's `count` driver counts them) and
 * messages, over every folder; the limits come from the store's options (0 or absent: none). The usage is
 * the index's sum after every folder was synced, so a file dropped by hand counts as soon as it is seen.
 */
import { MailboxError, type QuotaUsage } from './mailbox-store.js';

export interface QuotaLimits {
  readonly bytesLimit?: number;
  readonly messagesLimit?: number;
}

export function quotaLimits(quotaBytes: number | undefined, quotaMessages: number | undefined): QuotaLimits {
  return {
    ...(quotaBytes !== undefined && quotaBytes > 0 ? { bytesLimit: quotaBytes } : {}),
    ...(quotaMessages !== undefined && quotaMessages > 0 ? { messagesLimit: quotaMessages } : {}),
  };
}

export function hasLimits(limits: QuotaLimits): boolean {
  return limits.bytesLimit !== undefined || limits.messagesLimit !== undefined;
}

/** OVERQUOTA when adding `bytes` in `messages` messages would pass a limit (the texts are the memory store's). */
export function checkQuota(used: { readonly bytes: number; readonly messages: number }, limits: QuotaLimits, bytes: number, messages: number): void {
  if (limits.bytesLimit !== undefined && used.bytes + bytes > limits.bytesLimit) throw new MailboxError('OVERQUOTA', 'Quota exceeded (mailbox for user is full)');
  if (limits.messagesLimit !== undefined && used.messages + messages > limits.messagesLimit) throw new MailboxError('OVERQUOTA', 'Quota exceeded (too many messages)');
}

export function usageWithLimits(used: { readonly bytes: number; readonly messages: number }, limits: QuotaLimits): QuotaUsage {
  return { bytes: used.bytes, messages: used.messages, ...limits };
}
