/**
 * AUTH PLAIN's client response (RFC 4616 inside RFC 5034): base64 of [authzid] NUL authcid NUL password.
 * '=' is an empty response and '*' cancels (RFC 5034 §4). Strict base64 only; an authorization identity
 * other than the login itself is refused (no proxy logins), as the SMTP server does.
 */
export type PlainResponse =
  | { readonly kind: 'cancel' }
  | { readonly kind: 'bad'; readonly problem: string; readonly login: string }
  | { readonly kind: 'credentials'; readonly login: string; readonly password: string };

export function decodePlainResponse(text: string): PlainResponse {
  if (text === '*') return { kind: 'cancel' };
  const b64 = text === '=' ? '' : text;
  if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return { kind: 'bad', problem: 'Invalid base64 data in the response.', login: '(invalid base64)' };
  const parts = Buffer.from(b64, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3) return { kind: 'bad', problem: 'Invalid PLAIN response.', login: '(malformed)' };
  const [authzid, login, password] = parts as [string, string, string];
  if (authzid !== '' && authzid !== login) return { kind: 'bad', problem: 'Authentication failed.', login };
  return { kind: 'credentials', login, password };
}
