/**
 * Hooks smtp-server lacks, so that the chain hears HELO, DATA and RSET when Postfix's milters do and its
 * answer is the reply to that command: `onHelo` runs before HELO/EHLO is answered, `onDataCommand` before
 * DATA is answered with 354 (a refusal there means the client never sends the message), `onReset` before
 * RSET is (the chain hears abort). Installed once on
 * the library's connection class, like enhanced-codes.ts; a server without the hooks in its options
 * behaves as before.
 */
import type { SMTPServerSession } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

export type HookCallback = (err?: (Error & { responseCode?: number }) | null) => void;

export interface CommandHooks {
  /** HELO/EHLO with its one argument (smtp-server still checks its syntax afterwards). */
  onHelo?(name: string, session: SMTPServerSession, callback: HookCallback): void;
  /** DATA with at least one recipient, before the 354. */
  onDataCommand?(session: SMTPServerSession, callback: HookCallback): void;
  /** RSET, before it is answered (it cannot be refused). */
  onReset?(session: SMTPServerSession, callback: () => void): void;
}

interface Connection {
  _server: { options: CommandHooks };
  session: SMTPServerSession;
  send(code: number, data?: string): void;
}

type Handler = (this: Connection, command: Buffer | string, callback: () => void) => void;

let installed = false;

export function installCommandHooks(): void {
  if (installed) return;
  installed = true;
  const proto = SMTPConnection.prototype as unknown as Record<string, Handler>;
  const refused = (conn: Connection, err: Parameters<HookCallback>[0], fallback: number, callback: () => void): boolean => {
    if (!err) return false;
    conn.send(err.responseCode ?? fallback, err.message);
    callback();
    return true;
  };
  for (const name of ['handler_HELO', 'handler_EHLO']) {
    const original = proto[name]!;
    proto[name] = function helo(this: Connection, command, callback) {
      const hook = this._server.options.onHelo;
      const parts = command.toString().trim().split(/\s+/);
      // A name smtp-server will refuse (501) never reaches the hook: control characters, over 300 chars.
      // eslint-disable-next-line no-control-regex
      if (!hook || parts.length !== 2 || parts[1]!.length > 300 || /[\x00-\x1f\x7f]/.test(parts[1]!)) return original.call(this, command, callback);
      hook(parts[1]!, this.session, (err) => {
        if (!refused(this, err, 550, callback)) original.call(this, command, callback);
      });
    };
  }
  const reset = proto['handler_RSET']!;
  proto['handler_RSET'] = function rset(this: Connection, command, callback) {
    const hook = this._server.options.onReset;
    if (!hook) return reset.call(this, command, callback);
    hook(this.session, () => reset.call(this, command, callback));
  };
  const data = proto['handler_DATA']!;
  proto['handler_DATA'] = function dataCommand(this: Connection, command, callback) {
    const hook = this._server.options.onDataCommand;
    if (!hook || !this.session.envelope.rcptTo.length) return data.call(this, command, callback);
    hook(this.session, (err) => {
      if (!refused(this, err, 554, callback)) data.call(this, command, callback);
    });
  };
}
