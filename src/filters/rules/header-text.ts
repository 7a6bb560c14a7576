/**
 * A header value as a rule sees it: unfolded (RFC 5322 folding removed) and with RFC 2047 encoded
 * words (`=?UTF-8?B?...?=`) decoded, so that a Subject pattern matches what the reader sees.
 */

export function unfold(value: string): string {
  return value.replace(/\r?\n(?=[ \t])/g, '');
}

const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
// Whitespace between two adjacent encoded words is not part of the text (RFC 2047 section 6.2).
const BETWEEN_WORDS = /(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)[ \t]+(?==\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)/g;

export function decodeEncodedWords(value: string): string {
  if (!value.includes('=?')) return value;
  return value.replace(BETWEEN_WORDS, '$1').replace(ENCODED_WORD, (word, charset: string, encoding: string, text: string) => {
    const bytes = encoding.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : decodeQ(text);
    return decodeCharset(bytes, charset) ?? word;
  });
}

export function headerText(value: string): string {
  return decodeEncodedWords(unfold(value));
}

function decodeQ(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    const hex = text.slice(i + 1, i + 3);
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c === '_') bytes.push(0x20);
    else bytes.push(c.charCodeAt(0) & 0xff);
  }
  return Buffer.from(bytes);
}

/** Decoded text, or undefined when the charset is unknown (the word is then left as it is). */
function decodeCharset(bytes: Buffer, charset: string): string | undefined {
  // RFC 2231 allows a language after '*': "UTF-8*en".
  const name = charset.split('*')[0] ?? charset;
  try {
    return new TextDecoder(name).decode(bytes);
  } catch {
    return undefined;
  }
}
