/**
 * Modified UTF-7 for folder names on disk: src/mail/mutf7.ts's strict codec (one spelling per name), with a
 * decoder that throws, as the folder and subscription readers expect (they skip a name that fails).
 */
import { decodeMutf7, encodeMutf7 } from '../../mail/mutf7.js';

/** A UTF-16 half without its other half: no file name can hold it, so the encoder refuses it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/u;

export function encodeFolderMutf7(s: string): string {
  if (LONE_SURROGATE.test(s)) throw new Error(`not a Unicode string (a lone surrogate): ${JSON.stringify(s)}`);
  return encodeMutf7(s);
}

export function decodeFolderMutf7(s: string): string {
  const decoded = decodeMutf7(s);
  if (decoded === undefined) throw new Error(`not valid modified UTF-7: ${JSON.stringify(s)}`);
  return decoded;
}
