/**
 * Several clamd addresses used round-robin (clamav-milter's repeated ClamdSocket). An address that
 * refuses connections is set aside for `retryMs` so later requests do not pay for it; the request
 * that found it dead goes on to the next address. When every address is set aside they are all
 * tried anyway, so a clamd that comes back is found without waiting.
 */
import type { ConnectionSpec } from '../../config/connection-spec.js';
import type { Logger } from '../../mail/logger.js';
import { ClamdConnection, clamdRequest, ClamdError, describeAddress, type ClamdTimeouts } from './connection.js';

export interface PoolOptions {
  readonly timeouts: ClamdTimeouts;
  readonly logger?: Logger;
  /** How long an address that refused a connection is skipped (default 30 s). */
  readonly retryMs?: number;
  readonly now?: () => number;
}

interface Member {
  readonly spec: ConnectionSpec;
  readonly address: string;
  deadUntil: number;
}

export interface PoolReply {
  readonly reply: string;
  /** The address that answered. */
  readonly address: string;
}

export class ClamdPool {
  private readonly members: Member[];
  private next = 0;
  private readonly retryMs: number;
  private readonly now: () => number;

  constructor(
    addresses: readonly ConnectionSpec[],
    private readonly options: PoolOptions,
  ) {
    if (addresses.length === 0) throw new Error('no clamd address');
    this.members = addresses.map((spec) => ({ spec, address: describeAddress(spec), deadUntil: 0 }));
    this.retryMs = options.retryMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * A connection to the next live address, opened now for a request made later (the message's scan).
   * Round-robin moves on as for a request.
   */
  reserve(): ClamdConnection {
    const start = this.next;
    this.next = (this.next + 1) % this.members.length;
    const now = this.now();
    const ordered = this.members.map((_, i) => this.members[(start + i) % this.members.length]!);
    const m = ordered.find((x) => x.deadUntil <= now) ?? ordered[0]!;
    return new ClamdConnection(m.spec, this.options.timeouts);
  }

  /**
   * Sends `request` on `reserved` when it is still usable, else to the next live address; on a
   * connection failure, to the one after. A reserved connection that failed to connect, or that clamd
   * closed while idle, costs nothing but a fresh attempt: no byte of the request was taken.
   */
  async request(request: readonly Buffer[], reserved?: ClamdConnection): Promise<PoolReply> {
    const failures: Array<{ address: string; reason: string; newlyDead: boolean }> = [];
    if (reserved?.usable()) {
      try {
        return { reply: await reserved.send(request), address: reserved.address };
      } catch (err) {
        if (!(err instanceof ClamdError) || err.phase !== 'connect') throw err;
        const m = this.members.find((x) => x.address === reserved.address);
        if (m !== undefined) {
          failures.push({ address: m.address, reason: err.reason, newlyDead: m.deadUntil <= this.now() });
          m.deadUntil = this.now() + this.retryMs;
        }
      }
    } else {
      reserved?.close();
    }
    const start = this.next;
    this.next = (this.next + 1) % this.members.length;
    const ordered = this.members.map((_, i) => this.members[(start + i) % this.members.length]!);
    const now = this.now();
    const live = ordered.filter((m) => m.deadUntil <= now);
    // An address whose reserved connection just failed is not asked twice for the same message.
    const tried = new Set(failures.map((f) => f.address));
    const candidates = (live.length > 0 ? live : ordered).filter((m) => !tried.has(m.address));
    for (const m of candidates) {
      try {
        const reply = await clamdRequest(m.spec, request, this.options.timeouts);
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
}
