/**
 * Several clamd addresses used round-robin (clamav-milter's repeated ClamdSocket). An address that
 * refuses connections is set aside for `retryMs` so later requests do not pay for it; the request
 * that found it dead goes on to the next address. When every address is set aside they are all
 * tried anyway, so a clamd that comes back is found without waiting.
 */
import type { ConnectionSpec } from '../../config/connection-spec.js';
import type { Logger } from '../../mail/logger.js';
import { clamdRequest, ClamdError, describeAddress, type ClamdTimeouts } from './connection.js';

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

  /** Sends `request` to the next live address; on a connection failure, to the one after. */
  async request(request: readonly Buffer[]): Promise<PoolReply> {
    const start = this.next;
    this.next = (this.next + 1) % this.members.length;
    const ordered = this.members.map((_, i) => this.members[(start + i) % this.members.length]!);
    const now = this.now();
    const live = ordered.filter((m) => m.deadUntil <= now);
    const candidates = live.length > 0 ? live : ordered;
    const failures: Array<{ address: string; reason: string; newlyDead: boolean }> = [];
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
    const addresses = candidates.map((m) => m.address).join(', ');
    throw new ClamdError('connect', addresses, `not reachable (${failures.map((f) => (candidates.length > 1 ? `${f.address}: ${f.reason}` : f.reason)).join('; ')})`);
  }
}
