/**
 * The message as DKIM needs its bytes: each header field `Name:value` exactly as received (the filter
 * negotiates leading spaces so `c=simple` signatures still verify), folds turned back into CRLF, then
 * the body. DKIM-Signature fields past `maxSignatures` are left out so a message cannot make us
 * fetch hundreds of keys.
 */
import type { Header } from '../../mail/header-list.js';
import { headerLine } from '../../mail/message.js';

export function rawMessage(headers: readonly Header[], body: Buffer, leadingSpace: boolean, maxSignatures = Number.POSITIVE_INFINITY): Buffer {
  let signatures = 0;
  const lines: string[] = [];
  for (const h of headers) {
    if (h.name.toLowerCase() === 'dkim-signature' && ++signatures > maxSignatures) continue;
    lines.push(headerLine(leadingSpace ? h : { name: h.name, value: ` ${h.value}` }));
  }
  lines.push('\r\n');
  return Buffer.concat([Buffer.from(lines.join(''), 'utf8'), body]);
}
