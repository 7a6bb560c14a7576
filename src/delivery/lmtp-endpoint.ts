/**
 * The `lmtp` setting, a pure parser: "inet:host:port" (also "inet:[::1]:24") or "unix:/path", as Postfix
 * writes LMTP next hops (and as Dovecot's lmtp listener is usually named).
 */
export type LmtpEndpoint = { readonly kind: 'inet'; readonly host: string; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

export function parseLmtpEndpoint(value: string): LmtpEndpoint | Error {
  const text = value.trim();
  if (text.startsWith('unix:')) {
    const path = text.slice(5);
    if (!path.startsWith('/') || path.includes('\0')) return new Error(`lmtp "${value}": a unix socket needs an absolute path`);
    return { kind: 'unix', path };
  }
  const m = /^inet:(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (m === null) return new Error(`lmtp "${value}": expected inet:HOST:PORT or unix:/PATH`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return new Error(`lmtp "${value}": bad port ${m[3] as string}`);
  return { kind: 'inet', host: (m[1] ?? m[2]) as string, port };
}
