/**
 * Limits on a received message's header section, as Postfix's cleanup applies them. Constants rather than
 * settings: Postfix's defaults have served for decades and nobody has asked to change them here.
 */
import type { Header } from '../mail/header-list.js';

/**
 * Postfix's hopcount_limit: a message arriving with more Received:/Delivered-To: fields than this is in a
 * mail loop and is refused at end of message with "554 5.4.0 Error: too many hops".
 */
export const HOPCOUNT_LIMIT = 50;

/**
 * Postfix's header_size_limit: header text past this many bytes is discarded (the message is still taken),
 * which bounds the memory a message's header section holds while it is received.
 */
export const HEADER_SIZE_LIMIT = 102_400;

/** The hops a message already made: its Received: and Delivered-To: fields, as the client sent them. */
export function hopCount(headers: readonly Header[]): number {
  let n = 0;
  for (const h of headers) if (/^(?:received|delivered-to)$/i.test(h.name)) n++;
  return n;
}
