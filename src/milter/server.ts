/** MilterServer: serves any Filter to MTAs (Postfix, Sendmail) over a unix or TCP socket. */
import { unlink } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Filter } from '../mail/filter.js';
import { createLogger, type Logger } from '../mail/logger.js';
import { TEMPFAIL, type Reply } from '../mail/reply.js';
import { ServerConnection } from './server-connection.js';
import {
  bindSocketFile,
  prepareSocketPath,
  resolveSocketPermissions,
  type SocketPermissions,
} from './socket-file.js';
import { formatConnectionSpec, parseConnectionSpec, type ConnectionSpec } from './spec.js';
import { timerDelay } from '../config/timer-limit.js';

export interface MilterServerOptions extends SocketPermissions {
  readonly logger?: Logger;
  /** Close a connection after this many seconds without traffic. libmilter's default: 7210. */
  readonly timeout?: number;
  /** Reply when the filter throws (default tempfail, as libmilter does on a failed callback). */
  readonly errorReply?: Reply;
  /** Seconds close() waits for sessions in flight before cutting them (default 30). */
  readonly drainTimeout?: number;
  /**
   * Connections served at once; 0 = unlimited. Beyond it a connection waits (unread) for a free slot,
   * as in milter-manager: the MTA sees a slow milter, not a refused one.
   */
  readonly maxConnections?: number;
}

export class MilterServer {
  private server: Server | undefined;
  private spec: ConnectionSpec | undefined;
  private readonly connections = new Set<ServerConnection>();
  private readonly waiting: Socket[] = [];
  private readonly logger: Logger;
  private nextId = 1;
  private sweep: NodeJS.Timeout | undefined;

  constructor(
    private readonly filter: Filter,
    private readonly options: MilterServerOptions = {},
  ) {
    this.logger = options.logger ?? createLogger();
  }

  /** Number of MTA connections open now. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** The spec actually listened on (with the real port when 0 was asked for). */
  get address(): ConnectionSpec | undefined {
    return this.spec;
  }

  async listen(specText: string | ConnectionSpec): Promise<ConnectionSpec> {
    if (this.server) throw new Error('MilterServer is already listening');
    const spec = typeof specText === 'string' ? parseConnectionSpec(specText) : specText;
    const perms = spec.type === 'unix' ? resolveSocketPermissions(this.options) : undefined;
    if (spec.type === 'unix') await prepareSocketPath(spec.path);
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    const listen = (where: Parameters<Server['listen']>[0]) =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(where, () => {
          server.off('error', reject);
          resolve();
        });
      });
    if (spec.type === 'unix') {
      // Bound elsewhere and renamed into place with its permissions: never listening with the umask's.
      try {
        await bindSocketFile(spec.path, perms!, (temp) => listen(temp));
      } catch (err) {
        if (server.listening) await new Promise((r) => server.close(r));
        throw err;
      }
    } else {
      await listen({ port: spec.port, host: spec.host, ipv6Only: spec.family === 6 });
    }
    server.on('error', (err) => this.logger.error({ err: err.message }, 'milter listener error'));
    this.server = server;
    // One sweep for every connection instead of a per-socket timer re-armed on each read and write.
    const idleMs = (this.options.timeout ?? 7210) * 1000;
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const c of this.connections) c.checkIdle(now);
    }, timerDelay(Math.max(10, Math.min(1000, idleMs / 10)))).unref();
    if (spec.type === 'unix') {
      this.spec = spec;
    } else {
      this.spec = { ...spec, port: (server.address() as AddressInfo).port };
    }
    this.logger.info({ spec: formatConnectionSpec(this.spec) }, 'milter listening');
    return this.spec;
  }

  private accept(socket: Socket): void {
    const max = this.options.maxConnections ?? 0;
    if (max > 0 && this.connections.size >= max) {
      socket.pause();
      socket.once('close', () => {
        const i = this.waiting.indexOf(socket);
        if (i !== -1) this.waiting.splice(i, 1);
      });
      this.waiting.push(socket);
      return;
    }
    this.serve(socket);
  }

  private serve(socket: Socket): void {
    const id = this.nextId++;
    const log = this.logger.child({ conn: id });
    const conn = new ServerConnection(
      socket,
      {
        filter: this.filter,
        logger: this.logger,
        idleTimeoutMs: (this.options.timeout ?? 7210) * 1000,
        errorReply: this.options.errorReply ?? TEMPFAIL,
      },
      log,
    );
    this.connections.add(conn);
    socket.resume();
    void conn.done.then(() => {
      this.connections.delete(conn);
      const next = this.waiting.shift();
      if (next && this.server) this.serve(next);
      else if (next) next.destroy();
    });
  }

  /** Stops listening, lets sessions in flight finish (up to drainTimeout), removes the socket file. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    clearInterval(this.sweep);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.waiting.splice(0)) s.destroy();
    const drain = (this.options.drainTimeout ?? 30) * 1000;
    const deadline = Date.now() + drain;
    while (this.connections.size > 0 && Date.now() < deadline) {
      await Promise.race([
        Promise.all([...this.connections].map((c) => c.done)),
        new Promise((r) => setTimeout(r, 50)),
      ]);
    }
    for (const c of this.connections) c.destroy();
    await Promise.all([...this.connections].map((c) => c.done));
    await closed;
    if (this.spec?.type === 'unix') await unlink(this.spec.path).catch(() => undefined);
  }
}
