/**
 * Node (20 and 24) crashes with SIGSEGV when getProtocol() is called on a TLSSocket whose underlying TCP
 * socket was destroyed first: the TLS handle is still there, its SSL object is not. smtp-server does exactly
 * that when it closes while an implicit-TLS (465) client is being accepted: close() destroys the accepted
 * socket, the TLS wrap made for it a moment later reports its failed handshake with getProtocol(). So a
 * SIGTERM at the wrong moment killed `mailgate start` instead of a clean exit 0. A destroyed socket has no
 * protocol to report: null, as Node itself answers once the handle is gone. Installed once, like the
 * other additions to smtp-server (prompt-greeting.ts, enhanced-codes.ts).
 */
import { TLSSocket } from 'node:tls';

let installed = false;

export function guardTlsProtocol(): void {
  if (installed) return;
  installed = true;
  const original = TLSSocket.prototype.getProtocol;
  TLSSocket.prototype.getProtocol = function getProtocol(this: TLSSocket): string | null {
    if (this.destroyed) return null;
    return original.call(this);
  };
}
