/**
 * The POP3 server's listeners, in the shape of smtp/server.ts: plain ones (port 110 style, STLS offered when
 * there is a certificate) and implicit-TLS ones (995, RFC 8314), each connection a Pop3Session over the
 * mailbox store. Limits as [pop3] sets them: connections per listener and per client address (answered with
 * -ERR [SYS/TEMP] and closed), failed logins slowed down per address (AuthFailures, shared code with SMTP)
 * and a per-connection failure limit. Login before TLS only from plaintext_auth_networks (loopback by
 * default), as Dovecot's disable_plaintext_auth with login_trusted_networks.
 */
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, TLSSocket, type SecureContext } from 'node:tls';
import type { Pop3Config } from '../config/schema.js';
import { timerDelay } from '../config/timer-limit.js';
import { AuthFailures, ConnectionCounter } from '../mail/client-limits.js';
import type { Logger } from '../mail/logger.js';
import { NetworkList } from '../mail/network-list.js';
import type { Accounts } from '../store/accounts/accounts.js';
import type { MailboxStore } from '../store/mailbox/mailbox-store.js';
import { Pop3Session, type Pop3SessionSettings } from './session.js';
import { err } from './wire.js';

export interface Pop3ServerDeps {
  readonly accounts: Pick<Accounts, 'authenticate'>;
  readonly store: MailboxStore;
  readonly logger: Logger;
  /** Certificate and key (PEM); without them no STLS and no implicit-TLS listener. */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** Delay before the next login of an address, per earlier failure (default 1000 ms; capped at 30 s). */
  readonly authFailureDelayMs?: number;
  /** Failed-login counts shared with the other login services (IMAP); default: this server's own. */
  readonly authFailures?: AuthFailures;
}

export type Pop3ListenerKind = 'pop3' | 'pop3s';

export interface Pop3Address {
  readonly kind: Pop3ListenerKind;
  readonly address: string;
  readonly port: number;
}

export interface Pop3Server {
  /** Binds every listener; rejects (nothing left bound) when one cannot be. */
  listen(): Promise<void>;
  /** Where each listener listens, once listen() resolved (port 0 in the config gives a free port). */
  addresses(): readonly Pop3Address[];
  /**
   * Stops accepting; a session between commands is told `-ERR [SYS/TEMP] Server shutting down.` and closed,
   * one in a command (a RETR being sent, a QUIT's UPDATE) may finish it within graceMs; then the rest are cut.
   */
  close(graceMs?: number): Promise<void>;
}

export function createPop3Server(config: Pop3Config, deps: Pop3ServerDeps): Pop3Server {
  const listeners: { kind: Pop3ListenerKind; host: string; port: number }[] = [];
  for (const l of config.listen) listeners.push({ kind: 'pop3', host: l.host, port: l.port });
  for (const l of config.tlsListen) {
    if (!deps.tls) throw new RangeError(`implicit-TLS POP3 on ${l.host}:${l.port} needs a certificate and key`);
    listeners.push({ kind: 'pop3s', host: l.host, port: l.port });
  }
  const secureContext: SecureContext | undefined = deps.tls ? createSecureContext({ key: deps.tls.key, cert: deps.tls.cert }) : undefined;
  const plaintext = new NetworkList(config.plaintextAuthNetworks);
  const connections = new ConnectionCounter();
  const settings: Pop3SessionSettings = {
    config,
    plaintextAllowed: (address) => plaintext.has(address),
    authFailures: deps.authFailures?.withStep(deps.authFailureDelayMs ?? 1000) ?? new AuthFailures(deps.authFailureDelayMs ?? 1000),
    implementation: 'Mailgate',
    ...(secureContext ? { startTls: (socket: Socket) => startTls(socket, secureContext, config.idleTimeout) } : {}),
  };
  const sessions = new Set<Pop3Session>();
  const servers: Server[] = [];
  const out: Pop3Address[] = [];

  function accept(kind: Pop3ListenerKind, socket: Socket, perListener: Set<Pop3Session>): void {
    socket.on('error', () => undefined);
    // An IPv4 client on a dual-stack listener comes as ::ffff:a.b.c.d: the IPv4 address, as IMAP and SMTP see it.
    const address = (socket.remoteAddress ?? 'unknown').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
    const refuse = (text: string, event: string): void => {
      deps.logger.warn({ event, client: address, listener: kind }, `pop3 ${kind}: ${text} (${address})`);
      socket.end(err(text, 'SYS/TEMP'));
      socket.setTimeout(10_000, () => socket.destroy());
    };
    if (config.connectionLimit > 0 && perListener.size >= config.connectionLimit) return refuse('Too many connections, try again later.', 'connection-limit');
    if (!connections.open(address, config.clientConnectionLimit)) return refuse(`Too many connections from ${address}.`, 'client-connection-limit');
    const session = new Pop3Session(socket, kind === 'pop3s', settings, deps);
    sessions.add(session);
    perListener.add(session);
    void session.done.then(() => {
      sessions.delete(session);
      perListener.delete(session);
      connections.close(address);
    });
    session.start();
  }

  function make(kind: Pop3ListenerKind): Server {
    const perListener = new Set<Pop3Session>();
    if (kind === 'pop3') return createTcpServer((socket) => accept(kind, socket, perListener));
    const server = createTlsServer({ key: deps.tls!.key, cert: deps.tls!.cert }, (socket) => accept(kind, socket, perListener));
    server.on('tlsClientError', (e, socket) => {
      deps.logger.debug({ event: 'tls-error', err: e.message, client: socket.remoteAddress }, `pop3s: TLS handshake failed: ${e.message}`);
    });
    return server;
  }

  return {
    addresses: () => out,
    async listen() {
      try {
        for (const l of listeners) {
          const server = make(l.kind);
          server.on('error', (e) => deps.logger.warn({ err: e.message, listener: l.kind }, `pop3 ${l.kind}: ${e.message}`));
          servers.push(server);
          await new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            server.listen(l.port, l.host, () => {
              server.off('error', reject);
              resolve();
            });
          });
          const a = server.address();
          const port = a && typeof a === 'object' ? a.port : l.port;
          out.push({ kind: l.kind, address: l.host, port });
          deps.logger.info({ event: 'listen', listener: l.kind, address: l.host, port }, `pop3 ${l.kind} listening on ${l.host}:${port}`);
        }
      } catch (e) {
        out.length = 0;
        await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
        throw e;
      }
    },
    async close(graceMs = 10_000) {
      const closing = servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve)));
      out.length = 0;
      const all = [...sessions];
      for (const s of all) s.shutdown();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, timerDelay(Math.max(graceMs, 1)))));
      await Promise.race([Promise.all(all.map((s) => s.done)), grace]);
      clearTimeout(timer);
      for (const s of all) s.destroy();
      await Promise.all(all.map((s) => s.done));
      await Promise.all(closing);
    },
  };
}

/** STLS: the plain socket becomes a server-side TLS socket; rejects when the handshake fails or stalls. */
function startTls(socket: Socket, secureContext: SecureContext, idleSeconds: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const tls = new TLSSocket(socket, { isServer: true, secureContext });
    const timer = setTimeout(() => tls.destroy(new Error('TLS handshake timed out')), timerDelay(idleSeconds * 1000));
    const fail = (e: Error): void => {
      clearTimeout(timer);
      reject(e);
    };
    // The plain socket destroyed under it (server shutdown) closes it without an error.
    const closed = (): void => fail(new Error('connection closed during the TLS handshake'));
    tls.once('secure', () => {
      clearTimeout(timer);
      tls.off('error', fail);
      tls.off('close', closed);
      socket.off('close', closed);
      resolve(tls);
    });
    tls.once('error', fail);
    tls.once('close', closed);
    socket.once('close', closed);
  });
}
