/**
 * A message's delivery state, kept in state/ID and rewritten whole (tmp → fsync → rename) after each
 * delivery attempt: per recipient (by its index in the envelope) whether it is done, how often it was
 * tried and when to try next, and the last result (for the DSN and `mailgate queue show`). No state file
 * means nothing was tried yet: every recipient pending, due at arrival, so enqueue writes one file only.
 */
import type { Envelope } from './queue-file.js';

export type RecipientStatus = 'pending' | 'delivered' | 'failed';

export interface RecipientState {
  status: RecipientStatus;
  /** Delivery attempts so far. */
  attempts: number;
  /** When this recipient is due again (ms since the epoch). */
  next: number;
  /** A DSN (bounce or success notice) was enqueued for it, or none is owed. */
  notified: boolean;
  /** The last result, if any. */
  enhanced?: string;
  diagnostic?: string;
  remoteReply?: string;
  relay?: string;
  /** The final failure came from the queue lifetime running out (Postfix's "expired"). */
  expired?: boolean;
}

export interface MessageState {
  recipients: RecipientState[];
  /** A delay warning was sent (once per message, as Postfix). */
  warned: boolean;
}

export function initialState(env: Envelope): MessageState {
  return {
    recipients: env.recipients.map(() => ({ status: 'pending', attempts: 0, next: env.arrival, notified: false })),
    warned: false,
  };
}

export function encodeState(state: MessageState): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, ...state }) + '\n', 'utf8');
}

/** The state from its file, checked against the envelope; undefined when it is unusable (then start over). */
export function decodeState(buf: Buffer, env: Envelope): MessageState | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(buf.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const o = raw as { v?: unknown; recipients?: unknown; warned?: unknown };
  if (o.v !== 1 || !Array.isArray(o.recipients) || o.recipients.length !== env.recipients.length) return undefined;
  const recipients: RecipientState[] = [];
  for (const r of o.recipients as unknown[]) {
    if (typeof r !== 'object' || r === null) return undefined;
    const x = r as Record<string, unknown>;
    if (x['status'] !== 'pending' && x['status'] !== 'delivered' && x['status'] !== 'failed') return undefined;
    if (typeof x['attempts'] !== 'number' || typeof x['next'] !== 'number') return undefined;
    const rs: RecipientState = {
      status: x['status'],
      attempts: x['attempts'],
      next: x['next'],
      notified: x['notified'] === true,
    };
    for (const k of ['enhanced', 'diagnostic', 'remoteReply', 'relay'] as const) {
      if (typeof x[k] === 'string') rs[k] = x[k];
    }
    if (x['expired'] === true) rs.expired = true;
    recipients.push(rs);
  }
  return { recipients, warned: o.warned === true };
}
