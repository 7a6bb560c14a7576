/** Reads a message file for test-server -m: headers (unfolded as the MTA sends them) and body. */
import type { Header } from '../../mail/header-list.js';

export interface ParsedMail {
  readonly headers: Header[];
  readonly body: Buffer;
  /** Envelope defaults taken from From: and To:, as milter-test-server does. */
  readonly from?: string;
  readonly to: string[];
}

export class MailFileError extends Error {
  override readonly name = 'MailFileError';
}

export function parseMailFile(raw: Buffer): ParsedMail {
  // Latin-1 maps each byte to one character, so string offsets are byte offsets.
  let text = raw.toString('latin1');
  let skipped = 0;
  if (text.startsWith('From ')) {
    skipped = text.indexOf('\n') + 1; // mbox separator line
    text = text.slice(skipped);
  }
  const end = /\r?\n\r?\n/.exec(text);
  const headerText = end ? text.slice(0, end.index) : text;
  const bodyStart = end ? end.index + end[0].length : text.length;
  const headers: Header[] = [];
  const lines = headerText.length > 0 ? headerText.split('\n') : [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const content = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (/^[ \t]/.test(content) && headers.length > 0) {
      // Continuation lines stay in the value, folded with a bare LF as Postfix sends them.
      const last = headers[headers.length - 1]!;
      headers[headers.length - 1] = { name: last.name, value: `${last.value}\n${content}` };
      continue;
    }
    const colon = content.indexOf(':');
    if (colon <= 0 || !/^[A-Za-z0-9]/.test(content)) throw new MailFileError(`invalid header line ${i + 1}: <${content}>`);
    headers.push({ name: content.slice(0, colon), value: content.slice(colon + 1).replace(/^[ \t]+/, '') });
  }
  const decode = (h: Header) => Buffer.from(h.value, 'latin1').toString('utf8');
  const fromHeader = headers.find((h) => h.name === 'From');
  const to = headers.filter((h) => h.name === 'To').map((h) => extractPath(decode(h)));
  return {
    headers: headers.map((h) => ({ name: h.name, value: decode(h) })),
    body: raw.subarray(skipped + bodyStart),
    ...(fromHeader ? { from: extractPath(decode(fromHeader)) } : {}),
    to,
  };
}

/** "Name <a@b>" → "<a@b>"; a bare address gets angle brackets. */
export function extractPath(address: string): string {
  const lt = address.indexOf('<');
  if (lt !== -1) {
    const gt = address.indexOf('>', lt);
    if (gt === -1) throw new MailFileError(`invalid mail address: <${address}>`);
    return address.slice(lt, gt + 1);
  }
  return `<${address.trim().split(/\s+/)[0] ?? ''}>`;
}

export function normalizeEnvelopeAddress(address: string): string {
  return address.startsWith('<') && address.endsWith('>') ? address : `<${address}>`;
}
