/**
 * The edits a filter returns at end of message (the milter modification actions, by name). One type
 * for every producer (built-in filters, remote milters, the chain) and every consumer (the milter
 * server, the message editor in apply-changes.ts).
 */
import type { Reply } from './reply.js';

/**
 * Changes a filter makes to the message at end of message. Header indexes follow the milter protocol:
 * `insertHeader.index` is 0-based over all headers; `changeHeader.index` is the 1-based occurrence
 * among headers of that name; an empty value deletes (see deleteHeader).
 */
export type Change =
  | { readonly kind: 'addHeader'; readonly name: string; readonly value: string }
  | { readonly kind: 'insertHeader'; readonly index: number; readonly name: string; readonly value: string }
  | { readonly kind: 'changeHeader'; readonly index: number; readonly name: string; readonly value: string }
  | { readonly kind: 'deleteHeader'; readonly index: number; readonly name: string }
  | { readonly kind: 'replaceBody'; readonly body: Buffer }
  | { readonly kind: 'addRecipient'; readonly recipient: string; readonly args?: string }
  | { readonly kind: 'deleteRecipient'; readonly recipient: string }
  | { readonly kind: 'changeSender'; readonly sender: string; readonly args?: string }
  | { readonly kind: 'quarantine'; readonly reason: string };

export type ChangeKind = Change['kind'];

export interface EndOfMessageResult {
  readonly reply: Reply;
  readonly changes: readonly Change[];
}
