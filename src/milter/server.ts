/** MilterServer: serves any Filter to MTAs (Postfix, Sendmail) over a unix or TCP socket. */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Filter } from '../mail/filter.js';
import { createLogger, type Logger } from '../mail/logger.js';
import { TEMPFAIL, type Reply } from '../mail/reply.js';
import { ServerConnection } from './server-connection.js';
import { bindSocketFile, removeBoundSocket, type BoundSocket } from './socket-bind.js';
import { prepareSocketPath, resolveSocketPermissions, type SocketPermissions } from './socket-file.js';
import { WaitingRoom } from './waiting-room.js';
import { formatConnectionSpec, parseConnectionSpec, type ConnectionSpec } from './spec.js';
import { timerDelay } from '../config/timer-limit.js';

export interface MilterServerOptions extends SocketPermissions {
  readonly logger?: Logger;
  /** Close a connection after this many seconds without traffic. libmilter's default: 7210. */
  readonly timeout?: number;
  /**
   * Close a connection whose MTA stopped in the middle of a packet for this many seconds (default 30,
   * Postfix's milter_command_timeout: by then Postfix has given up on it). Capped by `timeout`.
   */
  readonly packetTimeout?: number;
  /** Reply when the filter throws (default tempfail, as libmilter does on a failed callback). */
  readonly errorReply?: Reply;
  /** Seconds close() waits for sessions in flight before cutting them (default 30). */
  readonly drainTimeout?: number;
  /**
   * Connections served at once; 0 = unlimited. Beyond it a connection waits for a free slot, as in
   * milter-manager: the MTA sees a slow milter, not a refused one.
   */
  readonly maxConnections?: number;
  /** Seconds a connection may wait for a slot (default 30, Postfix's milter_command_timeout). */
  readonly waitTimeout?: number;
  /** Connections that may wait at once (default: 4 × maxConnections, at least 100); more are closed. */
  readonly maxWaiting?: number;
}

export class MilterServer {
  private server: Server | undefined;
  private spec: ConnectionSpec | undefined;
  private readonly connections = new Set<ServerConnection>();
  private waiting: WaitingRoom | undefined;
  private bound: BoundSocket | undefined;
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
    const max = this.options.maxConnections ?? 0;
    // Before listening: a connection accepted while the socket is still being set up must wait too.
    if (max > 0) {
      this.waiting = new WaitingRoom({
        timeoutMs: (this.options.waitTimeout ?? 30) * 1000,
        capacity: this.options.maxWaiting ?? Math.max(100, 4 * max),
        logger: this.logger,
      });
    }
    if (spec.type === 'unix') {
      // Bound elsewhere and linked into place with its permissions: never listening with the umask's.
      try {
        this.bound = await bindSocketFile(spec.path, perms!, (temp) => listen(temp));
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
    // The monotonic clock: a wall-clock step would otherwise close every idle connection at once.
    const idleMs = (this.options.timeout ?? 7210) * 1000;
    const shortest = Math.min(idleMs, this.packetTimeoutMs(), this.waiting?.timeoutMs ?? Infinity);
    this.sweep = setInterval(() => {
      const now = performance.now();
      for (const c of this.connections) c.checkIdle(now);
      this.waiting?.sweep(now);
    }, timerDelay(Math.max(10, Math.min(1000, shortest / 10)))).unref();
    if (spec.type === 'unix') {
      this.spec = spec;
    } else {
      this.spec = { ...spec, port: (server.address() as AddressInfo).port };
    }
    this.logger.info({ spec: formatConnectionSpec(this.spec) }, 'milter listening');
    return this.spec;
  }

  private packetTimeoutMs(): number {
    return Math.min(this.options.packetTimeout ?? 30, this.options.timeout ?? 7210) * 1000;
  }

  private accept(socket: Socket): void {
    const max = this.options.maxConnections ?? 0;
    if (this.waiting && max > 0 && this.connections.size >= max) {
      this.waiting.add(socket);
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
        packetTimeoutMs: this.packetTimeoutMs(),
        errorReply: this.options.errorReply ?? TEMPFAIL,
      },
      log,
    );
    this.connections.add(conn);
    socket.resume();
    void conn.done.then(() => {
      this.connections.delete(conn);
      const next = this.waiting?.next();
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
    this.waiting?.closeAll();
    const drain = (this.options.drainTimeout ?? 30) * 1000;
    const deadline = performance.now() + drain;
    while (this.connections.size > 0 && performance.now() < deadline) {
      await Promise.race([
        Promise.all([...this.connections].map((c) => c.done)),
        new Promise((r) => setTimeout(r, 50)),
      ]);
    }
    for (const c of this.connections) c.destroy();
    await Promise.all([...this.connections].map((c) => c.done));
    await closed;
    // Only the socket this server put there: the path may hold a newer server's by now.
    if (this.bound) await removeBoundSocket(this.bound);
    this.bound = undefined;
  }
}
