/**
 * The capability list, kept in one place: what this server really implements now, by state and TLS.
 * Before login: STARTTLS when a certificate is there, AUTH=PLAIN and SASL-IR only where a password may
 * be sent, LOGINDISABLED otherwise (RFC 3501 §6.2.3). After login: the extensions. A capability goes in
 * the list the day its command works.
 */

/** Extensions implemented by the session and its commands today (after login). */
export const EXTENSIONS: readonly string[] = ['LITERAL+', 'SASL-IR', 'ID', 'ENABLE', 'IDLE', 'NAMESPACE', 'UNSELECT',
  'CHILDREN', 'UIDPLUS', 'MOVE', 'SPECIAL-USE', 'LIST-EXTENDED', 'LIST-STATUS', 'STATUS=SIZE', 'QUOTA', 'QUOTA=RES-STORAGE', 'QUOTA=RES-MESSAGE', 'CONDSTORE', 'QRESYNC',
  // After login only, as Dovecot 2.3 announces it (its imap-login does not know COMPRESS).
  'COMPRESS=DEFLATE'];

/**
 * What ENABLE (RFC 5161) can turn on: CONDSTORE (FETCH, STORE and SEARCH carry MODSEQ; RFC 7162 §3.1) and
 * QRESYNC (VANISHED, SELECT's QRESYNC parameter; RFC 7162 §3.2), which turns CONDSTORE on with it.
 */
export const ENABLEABLE: ReadonlySet<string> = new Set<string>(['CONDSTORE', 'QRESYNC']);

export interface CapabilityContext {
  readonly authenticated: boolean;
  readonly tls: boolean;
  /** STARTTLS can be offered (a certificate is configured and the connection is not encrypted yet). */
  readonly startTlsAvailable: boolean;
  /** A password may be sent on this connection now. */
  readonly plaintextAllowed: boolean;
  /** APPENDLIMIT=n (RFC 7889); 0 leaves it out. */
  readonly appendLimit: number;
}

export function capabilities(c: CapabilityContext): string[] {
  const list = ['IMAP4rev1'];
  if (!c.authenticated) {
    list.push('SASL-IR', 'LITERAL+', 'ID', 'ENABLE', 'IDLE');
    if (c.startTlsAvailable && !c.tls) list.push('STARTTLS');
    if (c.plaintextAllowed) list.push('AUTH=PLAIN');
    else list.push('LOGINDISABLED');
    return list;
  }
  list.push(...EXTENSIONS);
  if (c.appendLimit > 0) list.push(`APPENDLIMIT=${c.appendLimit}`);
  return list;
}
