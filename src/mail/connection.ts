/**
 * The SMTP client as a filter learns of it at connect, whatever way the MTA encoded it (the milter
 * connect families, or the SMTP server's own socket), so conditions and filters read one shape.
 */
/** Where the SMTP client came from, as the MTA reports it at connect. */
export type AddressFamily = 'inet' | 'inet6' | 'unix' | 'unknown';

export interface ConnectionInfo {
  /** Client host name from reverse DNS, or "[address]" when it did not resolve (Postfix). */
  readonly hostname: string;
  readonly family: AddressFamily;
  /** IP address (inet/inet6) without brackets or "IPv6:" prefix. */
  readonly address?: string;
  /** Client port (inet/inet6); 0 for unix. */
  readonly port?: number;
  /** Socket path (unix). */
  readonly path?: string;
}
