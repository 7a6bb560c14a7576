/**
 * The milter macros our SMTP server gives the chain, stage by stage, with the names and values Postfix
 * sends (smtpd_milter_macros and friends: j, {daemon_name}, {client_addr}, i, {auth_authen}, ...), so
 * that a filter or a condition reads the same thing behind `mailgate start` as behind Postfix. Kept in the
 * milter layer's MacroStore, which has libmilter's rules (a new MAIL forgets the last message's macros).
 */
import type { Macros } from '../mail/macros.js';
import { Command } from '../milter/constants.js';
import { MacroStore } from '../milter/macro-store.js';

type Pairs = readonly (readonly [string, string])[];

export class SessionMacros {
  private readonly store = new MacroStore();

  get macros(): Macros {
    return this.store;
  }

  connect(m: {
    hostname: string;
    daemonName: string;
    daemonAddress: string;
    clientAddress: string;
    clientName: string;
    clientPort: number;
  }): void {
    const pairs: Pairs = [
      ['j', m.hostname],
      ['{daemon_name}', m.daemonName],
      ['{daemon_addr}', m.daemonAddress],
      ['{client_addr}', m.clientAddress],
      ['{client_name}', m.clientName],
      ['{client_port}', String(m.clientPort)],
      ['{if_addr}', m.daemonAddress],
      ['{if_name}', m.hostname],
      // Postfix: the client's name and address as in its log lines.
      ['_', `${m.clientName} [${m.clientAddress}]`],
      ['v', 'Mailgate'],
    ];
    this.store.set(Command.CONNECT, pairs);
  }

  /** At HELO: the TLS macros, when the session is encrypted (Postfix sends them here). */
  helo(tls: { version: string; cipher: string; bits?: number; certSubject?: string; certIssuer?: string } | undefined): void {
    const pairs: [string, string][] = [];
    if (tls) {
      pairs.push(['{tls_version}', tls.version], ['{cipher}', tls.cipher]);
      if (tls.bits !== undefined) pairs.push(['{cipher_bits}', String(tls.bits)]);
      if (tls.certSubject !== undefined) pairs.push(['{cert_subject}', tls.certSubject]);
      if (tls.certIssuer !== undefined) pairs.push(['{cert_issuer}', tls.certIssuer]);
    }
    this.store.set(Command.HELO, pairs);
  }

  mail(m: { id: string; sender: string; authType?: string; authUser?: string }): void {
    const pairs: [string, string][] = [['i', m.id]];
    if (m.authUser !== undefined) {
      pairs.push(['{auth_type}', m.authType ?? 'PLAIN'], ['{auth_authen}', m.authUser], ['{auth_author}', m.authUser]);
    }
    const at = m.sender.lastIndexOf('@');
    pairs.push(['{mail_addr}', m.sender], ['{mail_mailer}', m.sender === '' ? 'local' : 'smtp']);
    if (at > 0) pairs.push(['{mail_host}', m.sender.slice(at + 1)]);
    this.store.set(Command.MAIL, pairs);
  }

  rcpt(m: { address: string; local: boolean }): void {
    const at = m.address.lastIndexOf('@');
    const pairs: [string, string][] = [
      ['{rcpt_addr}', m.address],
      ['{rcpt_mailer}', m.local ? 'local' : 'smtp'],
    ];
    if (at > 0) pairs.push(['{rcpt_host}', m.address.slice(at + 1)]);
    this.store.set(Command.RCPT, pairs);
  }

  /** DATA, end of headers and end of message carry the queue id. */
  data(id: string): void {
    this.store.set(Command.DATA, [['i', id]]);
    this.store.set(Command.EOH, [['i', id]]);
    this.store.set(Command.BODYEOB, [['i', id]]);
  }
}
