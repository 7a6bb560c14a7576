/**
 * smtp-server adds an enhanced status code of its own choosing to every reply, from the reply code alone
 * (550 → 5.1.1), and offers no way to give one with a handler's error. Our replies carry Postfix's codes
 * (554 5.7.1 Relay access denied, 550 5.1.1 User unknown, 552 5.3.4 ...), so an error text that starts with
 * an enhanced code of the reply's class is sent as it is. Installed once, on the library's connection class
 * (smtp-server exports it for this kind of use); its other replies are unchanged.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

const OWN_CODE = /^([245])\.\d{1,3}\.\d{1,3} /;
let installed = false;

type Send = (code: number, data?: string | string[], context?: string | false) => void;

export function keepOwnEnhancedCodes(): void {
  if (installed) return;
  installed = true;
  const proto = SMTPConnection.prototype as unknown as { send: Send };
  const original = proto.send;
  proto.send = function send(this: unknown, code: number, data?: string | string[], context?: string | false): void {
    const first = Array.isArray(data) ? data[0] : data;
    const m = typeof first === 'string' ? OWN_CODE.exec(first) : null;
    if (m && m[1] === String(code)[0]) return original.call(this, code, data, false);
    return original.call(this, code, data, context);
  };
}
