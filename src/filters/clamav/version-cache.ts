/**
 * clamd's engine version for X-Virus-Scanned, asked once (zVERSION) and refreshed in the background
 * every `maxAgeMs`, so a scan waits for it only the first time. A failure leaves the header without
 * a version rather than failing the message.
 */
import type { Logger } from '../../mail/logger.js';
import type { ClamdVersion } from './protocol.js';

export class VersionCache {
  private value: string | undefined;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<string | undefined> | undefined;

  constructor(
    private readonly fetch: () => Promise<ClamdVersion>,
    private readonly now: () => number,
    private readonly logger: Logger,
    private readonly maxAgeMs = 3_600_000,
    /** After a failure, how long to write no version before asking again. */
    private readonly retryMs = 60_000,
  ) {}

  /** The cached version without waiting (refreshing it in the background when old); undefined when none yet. */
  cached(): string | undefined {
    if (this.value !== undefined && this.now() - this.fetchedAt > this.maxAgeMs) void this.refresh();
    return this.value;
  }

  /** The version to write now: cached (refreshing it in the background when old), or fetched. */
  async get(): Promise<string | undefined> {
    const stale = this.now() - this.fetchedAt > (this.value === undefined ? this.retryMs : this.maxAgeMs);
    if (this.value !== undefined) {
      if (stale) void this.refresh();
      return this.value;
    }
    return stale ? this.refresh() : this.pending ?? undefined;
  }

  private refresh(): Promise<string | undefined> {
    this.pending ??= this.fetch().then(
      (v) => {
        this.value = v.engine;
        this.fetchedAt = this.now();
        this.pending = undefined;
        return this.value;
      },
      (err: unknown) => {
        // Not fetched again for a while: a clamd that scans but cannot say its version must not cost a request per message.
        this.fetchedAt = this.now();
        this.pending = undefined;
        this.logger.debug({ err: (err as Error).message }, 'clamd VERSION failed; X-Virus-Scanned without a version');
        return this.value;
      },
    );
    return this.pending;
  }
}
