/** The part of libmime (MIT, no bundled types) that decode-text.ts uses. */
declare module 'libmime' {
  /** Decodes the RFC 2047 encoded words of a header value (adjacent words joined). */
  export function decodeWords(value: string): string;
  const libmime: { decodeWords(value: string): string };
  export default libmime;
}
