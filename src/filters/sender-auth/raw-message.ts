/**
 * The message as DKIM needs its bytes: each header field `Name:value` exactly as received (the filter
 * negotiates leading spaces so `c=simple` signatures still verify), folds turned back into CRLF, then
 * the body. DKIM-Signature fields past `maxSignatures` are left out so a message cannot make us
 * fetch hundreds of keys.
 */
import type { HeaderField } from '../shared/message.js';

export function rawMessage(headers: readonly HeaderField[], body: Buffer, leadingSpace: boolean, maxSignatures = Number.POSITIVE_INFINITY): Buffer {
  let signatures = 0;
  const lines: string[] = [];
  for (const h of headers) {
    if (h.name.toLowerCase() === 'dkim-signature' && ++signatures > maxSignatures) continue;
    lines.push(`${h.name}:${leadingSpace ? '' : ' '}${h.value.replace(/\r?\n/g, '\r\n')}\r\n`);
  }
  lines.push('\r\n');
  return Buffer.concat([Buffer.from(lines.join(''), 'utf8'), body]);
}
