/**
 * The IMAP listeners: plain ones (143 in production; STARTTLS when a certificate is there) and implicit-TLS
 * ones (993, RFC 8314), each connection a Connection under an ImapSession. Limits as Dovecot keeps them:
 * connections per listener (process_limit-like), per client address (mail_max_userip-like at the door) and
 * per user and address (mail_max_userip_connections, checked at login). close(graceMs) stops accepting,
 * sends `* BYE Server shutting down.` to every session between commands (the others after their command),
 * and cuts whatever is left when the grace is over.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { parseListenAddress } from '../config/listen-address.js';
import type { ImapConfig, ListenAddress } from '../config/schema.js';
import type { Logger } from '../mail/logger.js';
import type { Accounts } from '../store/accounts/accounts.js';
import type { MailboxStore } from '../store/mailbox/mailbox-store.js';
import { COMMANDS } from './commands/index.js';
import { Connection } from './connection.js';
import { ConnectionCounter, type AuthFailures } from '../mail/client-limits.js';
import { LoginGuard } from './login-guard.js';
import { ImapSession, type SessionDeps, type SessionSettings } from './session.js';

/**
 * [imap] of mailgate.toml (config/schema.ts's ImapConfig; durations in seconds), where a listener may also be
 * written "127.0.0.1:2143", and the per-failure login delay (default 2,000 ms, Dovecot's auth_failure_delay;
 * tests lower it).
 */
export type ImapServerConfig = Omit<ImapConfig, 'listen' | 'tlsListen'> & {
  readonly listen: readonly (string | ListenAddress)[];
  readonly tlsListen: readonly (string | ListenAddress)[];
  readonly authFailureDelayMs?: number;
};

export interface ImapServerDeps {
  readonly accounts: Pick<Accounts, 'authenticate'>;
  readonly store: MailboxStore;
  readonly logger: Logger;
  /** Certificate and key (PEM); without them no STARTTLS and no implicit-TLS listener. */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** Failed-login counts shared with the other login services (POP3); default: this server's own. */
  readonly authFailures?: AuthFailures;
}

export interface ImapListeningAddress {
  readonly kind: 'imap' | 'imaps';
  readonly address: string;
  readonly port: number;
}

export interface ImapServer {
  /** Binds every listener; rejects (nothing left bound) when one cannot be. */
  listen(): Promise<void>;
  /** Where each listener listens once listen() resolved (port 0 in the config gives a free port). */
  addresses(): readonly ImapListeningAddress[];
  /** Stops accepting, BYE to every session, and cuts the rest after graceMs. */
  close(graceMs?: number): Promise<void>;
}

function address(spec: string | ListenAddress): ListenAddress {
  if (typeof spec !== 'string') return spec;
  const parsed = parseListenAddress(spec);
  if ('problem' in parsed) throw new RangeError(`imap listen address ${JSON.stringify(spec)} ${parsed.problem}`);
  return parsed;
}

export function createImapServer(config: ImapServerConfig, deps: ImapServerDeps): ImapServer {
  const listeners: { kind: 'imap' | 'imaps'; at: ListenAddress }[] = [
    ...config.listen.map((l) => ({ kind: 'imap' as const, at: address(l) })),
    ...config.tlsListen.map((l) => ({ kind: 'imaps' as const, at: address(l) })),
  ];
  if (!deps.tls && listeners.some((l) => l.kind === 'imaps')) throw new RangeError('implicit-TLS IMAP listeners need a certificate and key');
  const secureContext = deps.tls ? tls.createSecureContext({ key: deps.tls.key, cert: deps.tls.cert }) : undefined;
  const guard = new LoginGuard({
    plaintextAuthNetworks: config.plaintextAuthNetworks,
    authFailureLimit: config.authFailureLimit,
    ...(config.authFailureDelayMs !== undefined ? { failureDelayMs: config.authFailureDelayMs } : {}),
    ...(deps.authFailures !== undefined ? { failures: deps.authFailures } : {}),
  });
  const perClient = new ConnectionCounter();
  const perUser = new ConnectionCounter();
  const userKey = (user: string, client: string): string => `${user}\0${client}`;
  const sessionDeps: SessionDeps = {
    accounts: deps.accounts,
    store: deps.store,
    logger: deps.logger,
    guard,
    commands: COMMANDS,
    userSlots: {
      enter: (user, client) => perUser.open(userKey(user, client), config.userConnectionLimit),
      leave: (user, client) => perUser.close(userKey(user, client)),
    },
  };
  const baseSettings: Omit<SessionSettings, 'startTls'> = {
    greeting: config.greeting,
    loginTimeoutMs: config.loginTimeout * 1000,
    idleTimeoutMs: config.idleTimeout * 1000,
    idleKeepaliveMs: config.idleKeepalive * 1000,
    appendLimit: config.appendLimit,
  };
  const startTls = secureContext
    ? (socket: Duplex): Duplex => {
        const secure = new tls.TLSSocket(socket as net.Socket, { isServer: true, secureContext });
        return secure;
      }
    : undefined;
  const sessions = new Set<ImapSession>();
  const servers: net.Server[] = [];
  const bound: ImapListeningAddress[] = [];
  let closing = false;

  function accept(kind: 'imap' | 'imaps', socket: net.Socket, counter: { n: number }): void {
    const client = (socket.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
    socket.on('error', () => undefined);
    const refuse = (text: string): void => {
      deps.logger.warn({ event: 'imap-connection-limit', client, listener: kind }, `imap: ${text} (${client})`);
      socket.end(`* BYE ${text}\r\n`);
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    if (closing) return refuse('Server shutting down.');
    if (config.connectionLimit > 0 && counter.n >= config.connectionLimit) return refuse('Too many connections.');
    if (!perClient.open(client, config.clientConnectionLimit)) return refuse('Too many connections from your address.');
    counter.n++;
    socket.setNoDelay(true);
    const conn = new Connection(socket, { maxLineLength: config.maxLineLength, maxLiteralSize: config.appendLimit });
    const settings: SessionSettings = kind === 'imap' && startTls ? { ...baseSettings, startTls } : baseSettings;
    const session = new ImapSession(conn, { address: client, tls: kind === 'imaps' }, settings, sessionDeps);
    sessions.add(session);
    void session.run().finally(() => {
      sessions.delete(session);
      perClient.close(client);
      counter.n--;
    });
  }

  async function bind(kind: 'imap' | 'imaps', at: ListenAddress): Promise<void> {
    const counter = { n: 0 };
    const server: net.Server =
      kind === 'imaps'
        ? tls.createServer({ key: deps.tls!.key, cert: deps.tls!.cert }, (socket) => accept(kind, socket, counter))
        : net.createServer((socket) => accept(kind, socket, counter));
    // A client that fails its TLS handshake is simply gone; one debug line.
    server.on('tlsClientError', (err: Error) => deps.logger.debug({ err: err.message }, `imaps: TLS handshake failed: ${err.message}`));
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at.port, at.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => deps.logger.warn({ err: err.message, listener: kind }, `imap ${kind}: ${err.message}`));
    const a = server.address();
    const port = a !== null && typeof a === 'object' ? a.port : at.port;
    bound.push({ kind, address: at.host, port });
    deps.logger.info({ event: 'listen', listener: kind, address: at.host, port }, `imap ${kind} listening on ${at.host}:${port}`);
  }

  return {
    addresses: () => bound,
    async listen() {
      try {
        for (const l of listeners) await bind(l.kind, l.at);
      } catch (err) {
        bound.length = 0;
        await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
        throw err;
      }
    },
    async close(graceMs = 10_000) {
      closing = true;
      const stopped = Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      const running = [...sessions];
      for (const s of running) s.shutdown();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), Math.max(graceMs, 1));
      });
      const all = Promise.all(running.map((s) => s.run()));
      if ((await Promise.race([all, grace])) === 'timeout') for (const s of sessions) s.destroy();
      clearTimeout(timer);
      await all;
      await stopped;
    },
  };
}
