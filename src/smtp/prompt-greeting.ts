/**
 * smtp-server waits a fixed 100 ms after each connection before it greets (to catch clients that talk
 * first). Postfix's smtpd greets at once (pre-greeting checks are postscreen's, a separate service), and a
 * tenth of a second per connection would cap a short-session load (one message per connection, as
 * smtp-source sends) at 10 messages per second per session. This greets at once, with the library's own
 * steps otherwise unchanged (the connection-count check, then connectionReady with its reverse lookup).
 * Installed once on the library's connection class, like enhanced-codes.ts.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

interface Connection {
  _server: { options: { maxClients?: number }; connections: Set<unknown> };
  name: string;
  _setListeners(callback: () => void): void;
  connectionReady(): void;
  send(code: number, data: string, context?: false): void;
}

let installed = false;

export function greetPromptly(): void {
  if (installed) return;
  installed = true;
  const proto = SMTPConnection.prototype as unknown as { init(this: Connection): void };
  proto.init = function init(this: Connection): void {
    this._setListeners(() => {
      const max = this._server.options.maxClients;
      if (max && this._server.connections.size > max) {
        this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
        return;
      }
      setImmediate(() => this.connectionReady());
    });
  };
}
