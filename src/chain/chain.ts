/**
 * The milter manager as a Filter: children (remote milters through MilterClient, or in-process
 * filters) combined by milter-manager's rules. Being a Filter itself, the same chain runs behind
 * Postfix (MilterServer) and behind Mailgate's own SMTP server.
 */
import type { FallbackStatus } from '../config/schema.js';
import { FULL_OFFER } from '../mail/capabilities.js';
import type { Filter } from '../mail/filter.js';
import { silentLogger, type Logger } from '../mail/logger.js';
import { ChainSession } from './chain-session.js';
import type { Condition } from './condition.js';
import { timerDelay } from '../config/timer-limit.js';

export interface ChildDefinition {
  readonly name: string;
  readonly filter: Filter;
  /** What this child contributes when it fails (milter-manager's fallback_status). */
  readonly fallbackStatus: FallbackStatus;
  /** Its rejects count as accept and its changes are only logged. */
  readonly evaluationMode: boolean;
  readonly conditions: readonly Condition[];
}

export interface ChainOptions {
  /** The answer when no child is alive (manager.fallback_status). */
  readonly fallbackStatus: FallbackStatus;
  readonly logger?: Logger;
  /** Bodies larger than this go to a temporary file (default 5 MiB, as milter-manager). */
  readonly bodyMemoryLimit?: number;
  /** Seconds between background connection attempts to a child that is down (default 2). */
  readonly reprobeSeconds?: number;
}

interface Health {
  down: boolean;
  reason?: string;
}

export class Chain implements Filter {
  readonly name = 'chain';
  readonly logger: Logger;
  private active = 0;
  private readonly health = new Map<string, Health>();
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;
  private disposed = false;
  private closed: Promise<void> | undefined;

  constructor(
    readonly children: readonly ChildDefinition[],
    readonly options: ChainOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
    for (const c of children) this.health.set(c.name, { down: false });
  }

  /** No child, and no child means the manager's fallback, accept: every session accepts at connect. */
  get passThrough(): boolean {
    return this.children.length === 0 && this.options.fallbackStatus === 'accept';
  }

  /** SMTP sessions in progress now (what the stress conditions look at). */
  get concurrentSessions(): number {
    return this.active;
  }

  open(): ChainSession {
    this.active++;
    return new ChainSession(this, () => {
      this.active--;
      if (this.disposed && this.active === 0) void this.closeChildren();
    });
  }

  isDown(child: string): boolean {
    return this.health.get(child)?.down === true;
  }

  /**
   * A child that cannot be reached is skipped (its fallback applies at once) until a background
   * probe reaches it again: unlike milter-manager, a dead child does not cost every session 5 s.
   */
  markDown(child: string, reason: string): void {
    const h = this.health.get(child);
    if (!h || h.down) return;
    h.down = true;
    h.reason = reason;
    this.logger.warn({ child, reason }, `child ${child} is down; using its fallback until it answers again`);
    if (!this.probeTimer) {
      this.probeTimer = setInterval(() => void this.probe(), timerDelay((this.options.reprobeSeconds ?? 2) * 1000));
      this.probeTimer.unref();
    }
  }

  private async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      for (const child of this.children) {
        const h = this.health.get(child.name)!;
        if (!h.down) continue;
        const session = await child.filter.open();
        try {
          await session.negotiate(FULL_OFFER);
          h.down = false;
          this.logger.info({ child: child.name }, `child ${child.name} answers again`);
        } catch {
          // still down
        } finally {
          await Promise.resolve(session.close?.()).catch(() => undefined);
        }
      }
    } finally {
      this.probing = false;
    }
    if ([...this.health.values()].every((h) => !h.down)) this.stopProbing();
  }

  private stopProbing(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  /**
   * Stops background work (probes). Sessions in flight are not affected: the children's resources
   * (a built-in filter's database, say) are released once the last of them has ended.
   */
  dispose(): Promise<void> {
    this.stopProbing();
    this.disposed = true;
    return this.active === 0 ? this.closeChildren() : Promise.resolve();
  }

  /** Closes every child filter once; a failure is logged, never thrown. */
  private closeChildren(): Promise<void> {
    this.closed ??= Promise.all(
      this.children.map(async (c) => {
        try {
          await c.filter.close?.();
        } catch (err) {
          this.logger.warn({ child: c.name, err: (err as Error).message }, `child ${c.name} did not close cleanly`);
        }
      }),
    ).then(() => undefined);
    return this.closed;
  }
}
