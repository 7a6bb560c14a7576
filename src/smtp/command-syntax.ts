/**
 * MAIL and RCPT without an address at all ("MAIL FROM:", "MAIL", "RCPT TO:", "RCPT FROM:<x>") are a
 * command syntax error, answered as Postfix's smtpd does: 501 5.5.4 Syntax: MAIL FROM:<address>
 * (RFC 3463: invalid command arguments). smtp-server would call them a bad address (5.1.7 / 5.1.3),
 * which stays the answer to an address that is there but malformed. Only where the command is in
 * order (MAIL outside a transaction, RCPT inside one); otherwise smtp-server's answer stands. Installed
 * once on the library's connection class, like enhanced-codes.ts.
 */
import type { SMTPServerSession } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

interface Connection {
  session: SMTPServerSession;
  send(code: number, data?: string): void;
  /** smtp-server's 'connect' event, which its MAIL handler emits first. */
  emitConnection?(): void;
}

type Handler = (this: Connection, command: Buffer | string, callback: () => void) => void;

/** The command has its keyword ("FROM:"/"TO:") followed by something. */
const HAS_PATH = { MAIL: /^MAIL\s+FROM:\s*\S/i, RCPT: /^RCPT\s+TO:\s*\S/i } as const;

let installed = false;

export function installCommandSyntax(): void {
  if (installed) return;
  installed = true;
  const proto = SMTPConnection.prototype as unknown as Record<string, Handler>;
  for (const verb of ['MAIL', 'RCPT'] as const) {
    const original = proto[`handler_${verb}`]!;
    proto[`handler_${verb}`] = function syntax(this: Connection, command, callback) {
      const inTransaction = Boolean(this.session.envelope?.mailFrom);
      const inOrder = verb === 'MAIL' ? !inTransaction : inTransaction;
      if (!inOrder || HAS_PATH[verb].test(command.toString().trim())) return original.call(this, command, callback);
      this.emitConnection?.();
      // The text starts with our enhanced code, which enhanced-codes.ts keeps.
      this.send(501, `5.5.4 Syntax: ${verb === 'MAIL' ? 'MAIL FROM' : 'RCPT TO'}:<address>`);
      callback();
    };
  }
}
