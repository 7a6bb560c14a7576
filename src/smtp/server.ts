/**
 * The MTA's SMTP listeners on smtp-server (which only listens and parses; policy, queueing and the chain
 * are ours, in session.ts): MX (port 25 in production), submission with STARTTLS and AUTH required (587),
 * and submission over implicit TLS (465). As Postfix with smtpd_tls_auth_only: AUTH is offered only over
 * TLS, except to a loopback client. XCLIENT only from xclient_hosts (smtpd_authorized_xclient_hosts).
 * Limits per client address: connections, messages per minute (both waived for mynetworks, as Postfix's
 * smtpd_client_event_limit_exceptions), failed AUTHs. Four small additions to smtp-server, each in its
 * own file: our enhanced status codes kept (enhanced-codes.ts), HELO/DATA/RSET hooks (command-hooks.ts), a
 * greeting without its 100 ms wait (prompt-greeting.ts), MAIL/RCPT without an address as Postfix answers
 * them (command-syntax.ts); the client's name is forward-confirmed (client-name.ts) and kept a minute
 * (name-cache.ts). And one guard against a Node crash when closing during a TLS handshake
 * (tls-protocol-guard.ts).
 */
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { SmtpConfig, SubmissionConfig } from '../config/schema.js';
import { timerDelay } from '../config/timer-limit.js';
import type { Filter } from '../mail/filter.js';
import type { Logger } from '../mail/logger.js';
import { NetworkList } from '../mail/network-list.js';
import type { Accounts } from '../store/accounts/accounts.js';
import type { Spool } from '../store/spool.js';
import { AuthFailures, ConnectionCounter } from '../mail/client-limits.js';
import { MessageRate } from './client-limits.js';
import { confirmingResolver, type NameLookups } from './client-name.js';
import { NameCache } from './name-cache.js';
import { MemoisedNetworks } from './network-memo.js';
import { installCommandHooks, type CommandHooks } from './command-hooks.js';
import { installCommandSyntax } from './command-syntax.js';
import { keepOwnEnhancedCodes } from './enhanced-codes.js';
import { greetPromptly } from './prompt-greeting.js';
import { guardTlsProtocol } from './tls-protocol-guard.js';
import { clientText } from './log-lines.js';
import { smtpError } from './replies.js';
import { SmtpSession, type ListenerKind } from './session.js';

export interface SmtpServerOptions {
  /** Our name (Postfix's myhostname): banner, Received, the j macro. */
  readonly hostname: string;
  /** [smtp] of mailgate.toml (durations in seconds): the MX listeners and the limits every listener shares. */
  readonly smtp: SmtpConfig;
  /** [submission]: STARTTLS (587) and implicit-TLS (465) listeners, AUTH required. */
  readonly submission?: SubmissionConfig;
  /** Certificate and key (PEM); without them no STARTTLS and no implicit-TLS listener. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Reverse DNS of clients, forward-confirmed (default true); tests on loopback may turn it off. */
  readonly reverseLookup?: boolean;
  /** The DNS lookups for the client's name (default node:dns); tests give fakes. */
  readonly nameLookups?: NameLookups;
  /** Bodies above this go to a temporary file while being received (MessageBody's default otherwise). */
  readonly bodyMemoryLimit?: number;
  /**
   * Clients that may AUTH without TLS (default loopback: "127.0.0.0/8", "::1/128"); to any other client
   * AUTH is offered only after STARTTLS, as Postfix's smtpd_tls_auth_only.
   */
  readonly plaintextAuthNetworks?: readonly string[];
  /** Delay before the next AUTH of an address, per earlier failure (default 1000 ms; capped at 30 s). */
  readonly authFailureDelayMs?: number;
}

export interface SmtpServerDeps {
  readonly chain: Filter;
  readonly accounts: Accounts;
  readonly spool: Spool;
  readonly logger: Logger;
  /** Failed-login counts shared with IMAP and POP3 (the same passwords); default: this server's own. */
  readonly authFailures?: AuthFailures;
}

export interface ListeningAddress {
  readonly kind: ListenerKind;
  readonly address: string;
  readonly port: number;
}

export interface MailServer {
  /** Binds every listener; rejects (nothing left bound) when one cannot be. */
  listen(): Promise<void>;
  /** Where each listener listens, once listen() resolved (port 0 in the options gives a free port). */
  readonly addresses: readonly ListeningAddress[];
  /**
   * Stops accepting; sessions in flight get up to graceSeconds: a message being received may finish, any
   * new command is answered 421 (smtp-server's shutdown), and at the end the rest are cut with 421.
   */
  close(graceSeconds?: number): Promise<void>;
}

export function createSmtpServer(options: SmtpServerOptions, deps: SmtpServerDeps): MailServer {
  keepOwnEnhancedCodes();
  installCommandHooks();
  installCommandSyntax();
  greetPromptly();
  guardTlsProtocol();
  const o = options.smtp;
  const mynetworks = new MemoisedNetworks(new NetworkList(o.mynetworks));
  const xclientHosts = new MemoisedNetworks(new NetworkList(o.xclientHosts));
  const plaintextAuth = new MemoisedNetworks(new NetworkList(options.plaintextAuthNetworks ?? ['127.0.0.0/8', '::1/128']));
  const connections = new ConnectionCounter();
  // One for every listener: a client's name is the same whichever port it connects to.
  const resolver = confirmingResolver(options.nameLookups, new NameCache());
  const shared = {
    ...deps,
    messageRate: new MessageRate(o.clientMessageRateLimit),
    authFailures: deps.authFailures?.withStep(options.authFailureDelayMs ?? 1000) ?? new AuthFailures(options.authFailureDelayMs ?? 1000),
  };
  const listeners: { kind: ListenerKind; host: string; port: number }[] = [];
  for (const l of o.listen) listeners.push({ kind: 'mx', host: l.host, port: l.port });
  for (const l of options.submission?.listen ?? []) listeners.push({ kind: 'submission', host: l.host, port: l.port });
  for (const l of options.submission?.tlsListen ?? []) {
    if (!options.tls) throw new RangeError(`implicit-TLS submission on ${l.host}:${l.port} needs a certificate and key`);
    listeners.push({ kind: 'submissions', host: l.host, port: l.port });
  }
  const servers: SMTPServer[] = [];

  function make(kind: ListenerKind): SMTPServer {
    const sessions = new Map<string, SmtpSession>();
    const timers = new Map<string, NodeJS.Timeout>();
    const counted = new Map<string, string>();
    const settings = {
      hostname: options.hostname,
      kind,
      mynetworks,
      requireAuth: kind !== 'mx',
      authFailureLimit: o.authFailureLimit,
      ...(options.bodyMemoryLimit !== undefined ? { bodyMemoryLimit: options.bodyMemoryLimit } : {}),
    };
    const of = (s: SMTPServerSession): SmtpSession => sessions.get(s.id)!;
    /** AUTH only over TLS, except from loopback (smtpd_tls_auth_only); XCLIENT only from xclient_hosts. */
    const disabledFor = (s: SMTPServerSession): string[] => {
      const off: string[] = [];
      if (!s.secure && !plaintextAuth.has(s.remoteAddress)) off.push('AUTH');
      if (!xclientHosts.has(s.remoteAddress)) off.push('XCLIENT');
      if (!options.tls) off.push('STARTTLS');
      return off;
    };
    const serverOptions: SMTPServerOptions & CommandHooks = {
      name: options.hostname,
      ...(o.banner ? { banner: o.banner } : {}),
      logger: false,
      secure: kind === 'submissions',
      ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
      hideSTARTTLS: !options.tls,
      authMethods: ['PLAIN', 'LOGIN'],
      // Both are off unless asked for.
      hideENHANCEDSTATUSCODES: false,
      hideDSN: false,
      // AUTH before MAIL is checked by the session (so a listener that hides AUTH before TLS still requires it).
      authOptional: true,
      allowInsecureAuth: true,
      size: o.messageSizeLimit,
      maxRecipients: o.recipientLimit,
      // Postfix's default_process_limit (100 smtpd per service): past it smtp-server answers 421 at once.
      ...(o.connectionLimit > 0 ? { maxClients: o.connectionLimit } : {}),
      socketTimeout: timerDelay(o.idleTimeout * 1000),
      useXClient: o.xclientHosts.length > 0,
      disableReverseLookup: options.reverseLookup === false,
      resolver,
      disabledCommands: [],
      onConnect(session, callback) {
        const address = session.remoteAddress;
        session.disabledCommands = disabledFor(session);
        const s = new SmtpSession(session, settings, shared);
        // Postfix's smtpd_client_event_limit_exceptions = $mynetworks: our own networks are not limited.
        const limited = !s.trusted;
        if (!connections.open(address, limited ? o.clientConnectionLimit : 0)) {
          deps.logger.warn(
            { event: 'connection-limit', client: address, limit: o.clientConnectionLimit },
            `warning: Connection concurrency limit exceeded: ${connections.count(address) + 1} from ${clientText(session.clientHostname, address)} for service ${kind}`,
          );
          return callback(smtpError({ code: 421, enhancedCode: '4.7.0', text: `${options.hostname} Error: too many connections from ${address}` }));
        }
        counted.set(session.id, address);
        sessions.set(session.id, s);
        s.logConnect();
        if (o.sessionTimeout > 0) timers.set(session.id, sessionTimer(server, session, o.sessionTimeout, options.hostname));
        // An XCLIENT host's session is about the client it names: the chain hears connect at its first MAIL.
        if (xclientHosts.has(address)) return callback();
        s.ensureChain().then(
          (refusal) => callback(refusal ? smtpError(refusal) : undefined),
          (err: unknown) => {
            deps.logger.error({ err: (err as Error).message, client: address }, 'chain failed at connect');
            callback(smtpError({ code: 421, enhancedCode: '4.3.0', text: `${options.hostname} Error: internal error` }));
          },
        );
      },
      onSecure(_socket, session, callback) {
        session.disabledCommands = disabledFor(session);
        callback();
      },
      onHelo(name, session, callback) {
        of(session)
          .heloCommand(name)
          .then(
            () => callback(),
            (err: unknown) => callback(failure(err, deps.logger)),
          );
      },
      onDataCommand(session, callback) {
        of(session)
          .dataCommand()
          .then(
            () => callback(),
            (err: unknown) => callback(failure(err, deps.logger)),
          );
      },
      onReset(session, callback) {
        void of(session).resetCommand().finally(callback);
      },
      onAuth(auth, session, callback) {
        of(session)
          .auth(auth)
          .then(
            (r) => callback(null, r),
            (err: unknown) => callback(err as Error),
          );
      },
      onMailFrom(address, session, callback) {
        of(session)
          .mail(address)
          .then(
            () => callback(),
            (err: unknown) => callback(failure(err, deps.logger)),
          );
      },
      onRcptTo(address, session, callback) {
        of(session)
          .rcpt(address)
          .then(
            () => callback(),
            (err: unknown) => callback(failure(err, deps.logger)),
          );
      },
      onData(stream, session, callback) {
        of(session)
          .data(stream, o.messageSizeLimit)
          .then(
            (text) => callback(null, text),
            (err: unknown) => callback(failure(err, deps.logger)),
          );
      },
      onClose(session) {
        const t = timers.get(session.id);
        if (t) clearTimeout(t);
        timers.delete(session.id);
        const address = counted.get(session.id);
        if (address !== undefined) connections.close(address);
        counted.delete(session.id);
        const s = sessions.get(session.id);
        sessions.delete(session.id);
        void s?.close();
      },
    };
    const server = new SMTPServer(serverOptions);
    server.on('error', (err) => deps.logger.warn({ err: err.message, listener: kind }, `smtp ${kind}: ${err.message}`));
    return server;
  }

  const out: ListeningAddress[] = [];
  return {
    addresses: out,
    async listen() {
      try {
        for (const l of listeners) {
          const server = make(l.kind);
          servers.push(server);
          await new Promise<void>((resolve, reject) => {
            const onError = (err: Error): void => reject(err);
            server.server.once('error', onError);
            server.listen(l.port, l.host, () => {
              server.server.off('error', onError);
              resolve();
            });
          });
          const a = server.server.address();
          const port = a && typeof a === 'object' ? a.port : l.port;
          out.push({ kind: l.kind, address: l.host, port });
          deps.logger.info({ event: 'listen', listener: l.kind, address: l.host, port }, `smtp ${l.kind} listening on ${l.host}:${port}`);
        }
      } catch (err) {
        out.length = 0;
        await Promise.all(servers.splice(0).map((s) => closeServer(s, 0)));
        throw err;
      }
    },
    async close(graceSeconds = 10) {
      await Promise.all(servers.splice(0).map((s) => closeServer(s, timerDelay(graceSeconds * 1000))));
    },
  };
}

/** A command's failure as smtp-server sends it: ours as they are, anything else (a bug) as 451 4.3.0. */
function failure(err: unknown, logger: Logger): Error {
  if (err instanceof Error && typeof (err as { responseCode?: unknown }).responseCode === 'number') return err;
  logger.error({ err: (err as Error)?.message ?? String(err) }, 'smtp session error');
  return smtpError({ code: 451, enhancedCode: '4.3.0', text: 'Error: internal error' });
}

function closeServer(server: SMTPServer, drainMs: number): Promise<void> {
  (server.options as { closeTimeout?: number }).closeTimeout = Math.max(drainMs, 1);
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The total-session limit: the connection is ended with 421, unless a reply is being worked on (then a bit later). */
function sessionTimer(server: SMTPServer, session: SMTPServerSession, seconds: number, hostname: string): NodeJS.Timeout {
  const fire = (): void => {
    for (const conn of (server as unknown as { connections: Set<{ session: SMTPServerSession; _handlerPending?: boolean; send(code: number, text: string): void }> }).connections) {
      if (conn.session !== session) continue;
      if (conn._handlerPending) {
        setTimeout(fire, 1000).unref();
        return;
      }
      conn.send(421, `4.4.2 ${hostname} Error: session time limit exceeded`);
    }
  };
  const t = setTimeout(fire, timerDelay(seconds * 1000));
  t.unref();
  return t;
}
