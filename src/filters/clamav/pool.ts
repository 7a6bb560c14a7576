/**
 * Several clamd addresses used round-robin (clamav-milter's repeated ClamdSocket). An address that
 * refuses connections is set aside for `retryMs` so later requests do not pay for it; the request
 * that found it dead goes on to the next address. When every address is set aside they are all
 * tried anyway, so a clamd that comes back is found without waiting.
 *
 * With `keepAlive`, connections are clamd sessions (zIDSESSION) kept between requests, so a message
 * does not pay for connecting, nor clamd for accepting. Idle ones are closed after `idleMs`, before
 * clamd's own IdleTimeout (30 s by default) would; one that clamd closes just as it is reused is
 * replaced by a new connection for that request.
 */
import type { ConnectionSpec } from '../../config/connection-spec.js';
import type { Logger } from '../../mail/logger.js';
import { monotonicNow } from '../../mail/deadlines.js';
import { ClamdConnection, ClamdError, describeAddress, type ClamdTimeouts } from './connection.js';
import { timerDelay } from '../../config/timer-limit.js';

export interface PoolOptions {
  readonly timeouts: ClamdTimeouts;
  readonly logger?: Logger;
  /** How long an address that refused a connection is skipped (default 30 s). */
  readonly retryMs?: number;
  readonly now?: () => number;
  /** Keep connections open between requests as clamd sessions (default false). */
  readonly keepAlive?: boolean;
  /** How long a kept connection may stay idle (default 10 s). */
  readonly idleMs?: number;
}

/** Idle connections kept per address: enough for a busy MX; more are closed after their request. */
const MAX_IDLE = 64;

interface Member {
  readonly spec: ConnectionSpec;
  readonly address: string;
  deadUntil: number;
  /** Kept session connections, most recently used last. */
  readonly idle: ClamdConnection[];
}

export interface PoolReply {
  readonly reply: string;
  /** The address that answered. */
  readonly address: string;
}

export class ClamdPool {
  private readonly members: Member[];
  private readonly byAddress = new Map<string, Member>();
  private next = 0;
  private readonly retryMs: number;
  private readonly now: () => number;
  private readonly keepAlive: boolean;
  private readonly idleMs: number;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    addresses: readonly ConnectionSpec[],
    private readonly options: PoolOptions,
  ) {
    if (addresses.length === 0) throw new Error('no clamd address');
    this.members = addresses.map((spec) => ({ spec, address: describeAddress(spec), deadUntil: 0, idle: [] }));
    for (const m of this.members) this.byAddress.set(m.address, m);
    this.retryMs = options.retryMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.keepAlive = options.keepAlive ?? false;
    this.idleMs = options.idleMs ?? 10_000;
  }

  /**
   * A connection to the next live address for a request made now or later (the message's scan):
   * a kept one, or one opened now. Round-robin moves on as for a request. Give it back with
   * `release` once answered.
   */
  reserve(): ClamdConnection {
    return this.take(this.pick());
  }

  /** How many clamd addresses there are. */
  get size(): number {
    return this.members.length;
  }

  /**
   * A new connection in place of `failed`, which failed or closed before it was written to: to
   * another live address if there is one. An address that refused the connection is set aside as a
   * failed request sets it aside (when every address is, they are all tried anyway).
   */
  replace(failed: ClamdConnection): ClamdConnection {
    failed.close();
    const now = this.now();
    const gone = this.byAddress.get(failed.address);
    const refused = gone !== undefined && failed.failure?.phase === 'connect';
    const newlyDead = refused && gone.deadUntil <= now;
    if (refused) gone.deadUntil = now + this.retryMs;
    const ordered = this.ordered();
    const m = ordered.find((x) => x.address !== failed.address && x.deadUntil <= now) ?? gone ?? ordered[0]!;
    // Said only when another address takes over, as in request(): else the filter's one line says it all.
    if (newlyDead && m !== gone) {
      this.options.logger?.warn({ clamd: gone.address, err: failed.failure!.reason }, `clamd ${gone.address} unreachable (${failed.failure!.reason}), skipped for ${this.retryMs / 1000} s`);
    }
    return this.take(m);
  }

  /** A connection whose request is answered: kept for the next one (keepAlive), or closed. */
  release(conn: ClamdConnection): void {
    const m = this.byAddress.get(conn.address);
    if (this.closed || !conn.session || !conn.usable() || m === undefined || m.idle.length >= MAX_IDLE) {
      conn.close();
      return;
    }
    conn.idleSince = monotonicNow();
    m.idle.push(conn);
    if (this.sweeper === undefined) {
      this.sweeper = setInterval(() => this.sweep(), timerDelay(Math.max(this.idleMs / 2, 10)));
      this.sweeper.unref();
    }
  }

  /** Closes the kept connections; later requests still work, on connections closed after use. */
  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const m of this.members) for (const c of m.idle.splice(0)) c.close();
  }

  /**
   * Sends `request` on `reserved` when it is still usable, else to the next live address; on a
   * connection failure, to the one after. A reserved connection that could not connect (just now:
   * a stream given up to be replayed here) or that clamd took nothing on (`dropped`) costs nothing but
   * a fresh attempt; an address that failed to connect is set aside and not asked again for this request.
   */
  async request(request: readonly Buffer[], reserved?: ClamdConnection): Promise<PoolReply> {
    const failures: Array<{ address: string; reason: string; newlyDead: boolean }> = [];
    const setAside = (address: string, err: ClamdError): void => {
      const m = this.byAddress.get(address);
      if (m === undefined) return;
      failures.push({ address: m.address, reason: err.reason, newlyDead: m.deadUntil <= this.now() });
      m.deadUntil = this.now() + this.retryMs;
    };
    if (reserved?.usable()) {
      try {
        const reply = await reserved.send(request);
        this.release(reserved);
        return { reply, address: reserved.address };
      } catch (err) {
        if (!(err instanceof ClamdError) || !(err.phase === 'connect' || err.dropped)) throw err;
        if (err.phase === 'connect') setAside(reserved.address, err);
      }
    } else {
      reserved?.close();
      if (reserved?.failure?.phase === 'connect') setAside(reserved.address, reserved.failure);
    }
    const ordered = this.ordered();
    const now = this.now();
    const live = ordered.filter((m) => m.deadUntil <= now);
    // An address whose reserved connection just failed is not asked twice for the same message.
    const tried = new Set(failures.map((f) => f.address));
    const candidates = (live.length > 0 ? live : ordered).filter((m) => !tried.has(m.address));
    for (const m of candidates) {
      try {
        const reply = await this.sendTo(m, request);
        if (m.deadUntil !== 0) {
          m.deadUntil = 0;
          this.options.logger?.info({ clamd: m.address }, `clamd ${m.address} reachable again`);
        }
        // Said only when another address took over: when none did, the caller's one line says it all.
        for (const f of failures.filter((x) => x.newlyDead)) {
          this.options.logger?.warn({ clamd: f.address, err: f.reason }, `clamd ${f.address} unreachable (${f.reason}), skipped for ${this.retryMs / 1000} s`);
        }
        return { reply, address: m.address };
      } catch (err) {
        if (!(err instanceof ClamdError) || err.phase !== 'connect') throw err;
        failures.push({ address: m.address, reason: err.reason, newlyDead: m.deadUntil <= now });
        m.deadUntil = this.now() + this.retryMs;
      }
    }
    const addresses = failures.map((f) => f.address).join(', ');
    throw new ClamdError('connect', addresses, `not reachable (${failures.map((f) => (failures.length > 1 ? `${f.address}: ${f.reason}` : f.reason)).join('; ')})`);
  }

  /** One request to `m`, on a kept connection if there is one; a kept one clamd just closed is replaced once. */
  private async sendTo(m: Member, request: readonly Buffer[]): Promise<string> {
    const conn = this.take(m);
    try {
      const reply = await conn.send(request);
      this.release(conn);
      return reply;
    } catch (err) {
      if (!(err instanceof ClamdError) || !err.dropped) throw err;
      const fresh = this.open(m);
      const reply = await fresh.send(request);
      this.release(fresh);
      return reply;
    }
  }

  /** The next address round-robin, skipping those set aside (unless all are). */
  private pick(): Member {
    const now = this.now();
    const ordered = this.ordered();
    return ordered.find((x) => x.deadUntil <= now) ?? ordered[0]!;
  }

  /** All addresses, starting with the next one round-robin (which moves on). */
  private ordered(): Member[] {
    const start = this.next;
    this.next = (this.next + 1) % this.members.length;
    if (this.members.length === 1) return this.members;
    return this.members.map((_, i) => this.members[(start + i) % this.members.length]!);
  }

  private take(m: Member): ClamdConnection {
    for (let c = m.idle.pop(); c !== undefined; c = m.idle.pop()) if (c.usable()) return c;
    return this.open(m);
  }

  private open(m: Member): ClamdConnection {
    return new ClamdConnection(m.spec, this.options.timeouts, this.keepAlive && !this.closed);
  }

  private sweep(): void {
    const oldest = monotonicNow() - this.idleMs;
    let left = 0;
    for (const m of this.members) {
      const keep = m.idle.filter((c) => c.usable() && c.idleSince > oldest);
      for (const c of m.idle) if (!keep.includes(c)) c.close();
      m.idle.splice(0, m.idle.length, ...keep);
      left += keep.length;
    }
    if (left === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}
