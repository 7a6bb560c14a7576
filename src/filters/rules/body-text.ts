/**
 * The body text body rules run on: the message decoded by mailparser (transfer encodings, charsets,
 * MIME structure), its plain-text part followed by its HTML part converted to text, at most
 * `maxChars` characters. Attachments are not scanned. mailparser (and its HTML stack, about 200 modules) is
 * loaded at the first body rule that runs: a rules filter with header rules only never needs it.
 */
import type { ParsedMail, SimpleParserOptions } from 'mailparser';

const PARSE_OPTIONS: SimpleParserOptions = { skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true };

async function parse(message: Buffer): Promise<ParsedMail> {
  const { simpleParser } = await import('mailparser');
  return simpleParser(message, PARSE_OPTIONS);
}

export async function bodyText(message: Buffer, maxChars: number): Promise<string> {
  const parsed = await parse(message);
  const parts: string[] = [];
  if (typeof parsed.text === 'string' && parsed.text !== '') parts.push(parsed.text);
  if (typeof parsed.html === 'string' && parsed.html !== '') {
    const fromHtml = await htmlAsText(parsed.html);
    // An HTML-only message already has its text made from the HTML.
    if (fromHtml !== '' && !parts.includes(fromHtml)) parts.push(fromHtml);
  }
  // MIME that mailparser finds nothing in (a broken boundary, say) must not hide the body from the rules.
  if (parts.length === 0 && parsed.attachments.length === 0) parts.push(rawBody(message));
  const text = parts.join('\n');
  return text.length <= maxChars ? text : text.slice(0, maxChars);
}

/** The bytes after the header block, as UTF-8. */
function rawBody(message: Buffer): string {
  const crlf = message.indexOf('\r\n\r\n');
  const lf = message.indexOf('\n\n');
  const end = crlf !== -1 && (lf === -1 || crlf < lf) ? crlf + 4 : lf !== -1 ? lf + 2 : message.length;
  return message.subarray(end).toString('utf8');
}

/** mailparser's own HTML-to-text conversion, applied to the HTML alone. */
async function htmlAsText(html: string): Promise<string> {
  const part = Buffer.concat([Buffer.from('Content-Type: text/html; charset=utf-8\r\n\r\n'), Buffer.from(html, 'utf8')]);
  const parsed = await parse(part);
  return typeof parsed.text === 'string' ? parsed.text : '';
}
