/**
 * One SMTP or LMTP client connection, nodemailer's SMTPConnection behind promises. Three things it needs
 * are not in nodemailer's public surface, and they are kept here, in one place: the extensions the server
 * offered (for SMTPUTF8 and DSN decisions), per-recipient DSN parameters (nodemailer sends the same
 * NOTIFY/ORCPT for every RCPT; RFC 3461 has them per recipient), and each LMTP recipient's own reply.
 * test/delivery/ checks each against a real peer, so a nodemailer upgrade that moves them fails a test
 * rather than mail.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { SMTPConnectionSendInfo } from 'nodemailer/lib/smtp-connection';

/** nodemailer's error shape (errors.d.ts), the fields read here. */
export interface ClientError extends Error {
  code?: string;
  originalCode?: string;
  response?: string;
  responseCode?: number;
  command?: string;
  recipient?: string;
  rejectedErrors?: ClientError[];
  timeoutType?: string;
}

export interface ClientOptions {
  /** Who this is, for diagnostics: "mx.example.org[192.0.2.1]". */
  readonly label: string;
  /** Who this is, for the result's relay: "mx.example.org[192.0.2.1]:25", "lmtp:[127.0.0.1]:24". */
  readonly relay: string;
  /** Address (or name) to connect to; ignored with `socket`. */
  readonly host: string;
  readonly port: number;
  /** An already connected socket (a unix-domain LMTP socket). */
  readonly socket?: Socket;
  readonly lmtp: boolean;
  /** Our name in EHLO/LHLO. */
  readonly ehloName: string;
  /** SMTP AUTH with these credentials when the server offers AUTH (a smarthost's login). */
  readonly auth?: { readonly user: string; readonly pass: string };
  readonly connectTimeoutMs: number;
  /** Waiting for the greeting and for each reply. */
  readonly commandTimeoutMs: number;
  /** Aborted when the transport shuts down: the connection is cut, whatever it is doing. */
  readonly signal?: AbortSignal;
}

export interface ClientEnvelope {
  readonly from: string;
  readonly to: readonly string[];
  readonly size: number;
  readonly envid?: string;
  /** RFC 3461 RET=, sent (with ENVID) only when the server offers DSN. */
  readonly ret?: 'FULL' | 'HDRS';
  /** Per recipient: " NOTIFY=… ORCPT=…" (with its leading space), sent only when the server offers DSN. */
  readonly rcptArgs: ReadonlyMap<string, string>;
}

/** nodemailer's internals read here (see the top of the file). */
interface Internals {
  _supportedExtensions?: unknown;
  _recipientQueue?: unknown;
}

/** SMTPConnection with RCPT parameters per recipient (nodemailer has one set for the whole envelope). */
class Connection extends SMTPConnection {
  rcptArgs: ReadonlyMap<string, string> = new Map();
  /** LMTP: the reply at end of data for each recipient (nodemailer keeps only the failures and the last). */
  lmtpReplies = new Map<string, string>();
  /** Called by nodemailer with each LMTP end-of-data reply. */
  _actionLMTPStream(recipient: string, final: boolean, reply: string, callback: unknown): unknown {
    this.lmtpReplies.set(recipient, reply);
    const base = (SMTPConnection.prototype as unknown as Record<string, unknown>)['_actionLMTPStream'];
    if (typeof base !== 'function') throw new Error('nodemailer changed: SMTPConnection._actionLMTPStream is gone');
    return (base as (...args: unknown[]) => unknown).call(this, recipient, final, reply, callback);
  }
  /** Called by nodemailer for each RCPT TO, right after it queued that recipient. */
  _getDsnRcptToArgs(): string {
    const queue = (this as unknown as Internals)._recipientQueue;
    const current = Array.isArray(queue) ? (queue[queue.length - 1] as unknown) : undefined;
    return typeof current === 'string' ? (this.rcptArgs.get(current) ?? '') : '';
  }
}

export class SmtpClient {
  private dead = false;
  private lastError: ClientError | undefined;
  /** When the connection was opened (for the reuse age limit). */
  readonly openedAt = Date.now();
  /** Messages sent on this connection. */
  uses = 0;

  readonly label: string;
  readonly relay: string;

  private constructor(
    private readonly conn: Connection,
    options: ClientOptions,
  ) {
    this.label = options.label;
    this.relay = options.relay;
    // Errors also reach the pending call's callback; the listener keeps an idle connection's error from
    // becoming an uncaught 'error' event.
    conn.on('error', (err: ClientError) => {
      this.lastError = err;
      this.dead = true;
    });
    conn.on('end', () => {
      this.dead = true;
    });
    const signal = options.signal;
    if (signal !== undefined) {
      const cut = (): void => this.close();
      signal.addEventListener('abort', cut, { once: true });
      conn.once('end', () => signal.removeEventListener('abort', cut));
    }
  }

  /** Connects, reads the greeting, EHLO (or LHLO), STARTTLS when offered (any certificate, as Postfix's `may`). */
  static open(options: ClientOptions): Promise<SmtpClient> {
    if (options.signal?.aborted === true) {
      options.socket?.destroy();
      return Promise.reject(Object.assign(new Error('mail system is shutting down'), { code: 'ECONNECTION' }));
    }
    const conn = new Connection({
      host: options.host,
      port: options.port,
      ...(options.socket === undefined ? {} : { connection: options.socket }),
      lmtp: options.lmtp,
      name: options.ehloName,
      opportunisticTLS: true,
      tls: { rejectUnauthorized: false },
      connectionTimeout: options.connectTimeoutMs,
      greetingTimeout: options.commandTimeoutMs,
      // The inactivity timer runs beside the greeting's: a little later, so the greeting's names the wait.
      socketTimeout: options.commandTimeoutMs + 1000,
      socketCloseTimeout: 1000,
      logger: false,
    });
    const client = new SmtpClient(conn, options);
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: ClientError): void => {
        if (settled) return;
        settled = true;
        conn.close();
        reject(err);
      };
      conn.once('error', fail);
      conn.once('end', () => fail(client.lastError ?? Object.assign(new Error('Connection closed unexpectedly'), { code: 'ECONNECTION' })));
      const ready = (): void => {
        if (settled) return;
        settled = true;
        conn.off('error', fail);
        resolve(client);
      };
      conn.connect((err?: ClientError | null) => {
        if (err) return fail(err);
        // Postfix (smtp_sasl_auth_enable): log in when the server offers AUTH, send as is when it does not.
        if (options.auth === undefined || !conn.allowsAuth) return ready();
        conn.login({ user: options.auth.user, pass: options.auth.pass }, (loginErr) => {
          if (loginErr) fail(Object.assign(loginErr as ClientError, { command: 'AUTH' }));
          else ready();
        });
      });
    });
  }

  /** The EHLO keywords the server offered, upper-case ("SIZE", "DSN", "SMTPUTF8", ...). */
  get extensions(): ReadonlySet<string> {
    const list = (this.conn as unknown as Internals)._supportedExtensions;
    return new Set(Array.isArray(list) ? list.map((x) => String(x).toUpperCase()) : []);
  }

  get alive(): boolean {
    return !this.dead && !(this.conn as unknown as { destroyed?: boolean }).destroyed;
  }

  get secure(): boolean {
    return this.conn.secure;
  }

  /**
   * One transaction; rejects with a ClientError when it does not end in a 2xx for at least one recipient.
   * `lmtpReplies`: with LMTP, each recipient's own reply at end of data.
   */
  send(envelope: ClientEnvelope, message: Readable): Promise<SMTPConnectionSendInfo & { lmtpReplies: ReadonlyMap<string, string> }> {
    this.uses++;
    this.conn.rcptArgs = envelope.rcptArgs;
    const lmtpReplies = new Map<string, string>();
    this.conn.lmtpReplies = lmtpReplies;
    return new Promise((resolve, reject) => {
      // A connection cut under a transaction (at shutdown) may never call back: its end settles the send.
      // (A turn later, so that a reply or an error that came with the close is the one reported.)
      const ended = (): void => {
        setImmediate(() => reject(this.lastError ?? Object.assign(new Error('Connection closed'), { code: 'ECONNECTION' })));
      };
      this.conn.once('end', ended);
      this.conn.send(
        {
          from: envelope.from,
          to: [...envelope.to],
          size: envelope.size,
          use8BitMime: true,
          ...(envelope.envid === undefined && envelope.ret === undefined
            ? {}
            : { dsn: { ...(envelope.envid === undefined ? {} : { envid: envelope.envid }), ...(envelope.ret === undefined ? {} : { ret: envelope.ret }) } }),
        },
        message,
        (err, info) => {
          this.conn.off('end', ended);
          if (err) reject(err as ClientError);
          else if (info === undefined) reject(Object.assign(new Error('no result'), { code: 'EPROTOCOL' }));
          else resolve(Object.assign(info, { lmtpReplies }));
        },
      );
    });
  }

  /** RSET after a transaction cut short, before the connection goes back to the pool; false when it is no longer usable. */
  reset(): Promise<boolean> {
    if (!this.alive) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.conn.reset((err) => resolve(!err));
    });
  }

  /** QUIT and close. */
  quit(): void {
    this.dead = true;
    try {
      this.conn.quit();
    } catch {
      this.conn.close();
    }
  }

  close(): void {
    this.dead = true;
    this.conn.close();
  }
}
