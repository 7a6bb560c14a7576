/**
 * The CAPA list (RFC 2449 §5) for a session's state, in Dovecot's order. USER, SASL and STLS are listed only
 * where they can be used: before login, STLS on a plain connection that can start TLS, USER and SASL PLAIN
 * where a login is allowed (over TLS, or from plaintext_auth_networks). APOP is never offered.
 */
export interface CapabilityState {
  readonly authorization: boolean;
  readonly secure: boolean;
  readonly startTlsAvailable: boolean;
  readonly loginAllowed: boolean;
  readonly implementation: string;
}

export function capabilityLines(s: CapabilityState): string[] {
  const lines = ['CAPA', 'TOP', 'UIDL', 'RESP-CODES', 'PIPELINING', 'AUTH-RESP-CODE'];
  if (s.authorization) {
    if (!s.secure && s.startTlsAvailable) lines.push('STLS');
    if (s.loginAllowed) lines.push('USER', 'SASL PLAIN');
  }
  lines.push(`IMPLEMENTATION ${s.implementation}`);
  return lines;
}
