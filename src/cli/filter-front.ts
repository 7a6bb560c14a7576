/**
 * What `mailgate manager` and `mailgate start` share: the configuration loaded and checked for serving,
 * the chain built from [[milter]] behind a ReloadableChain, and the milter listener that lets an MTA
 * (Postfix) use that same chain. SIGHUP swaps the chain: new sessions use the new children, sessions in
 * flight finish on the old ones. One copy, so that the two commands filter mail the same way.
 */
import { chainFromConfig, loadConfiguredFilters } from '../chain/from-config.js';
import { ReloadableChain } from '../chain/reloadable.js';
import { checkDataDirectories } from '../config/data-dir-check.js';
import type { MailgateConfig } from '../config/schema.js';
import type { LoadedConfig } from '../config/origin.js';
import { checkManagerSocket } from '../config/overrides.js';
import type { Logger } from '../mail/logger.js';
import { MilterServer } from '../milter/server.js';
import { withDetectedChildren } from './detected-children.js';
import { PostfixStress } from './postfix-stress.js';

/**
 * A loaded configuration made ready to serve: its socket and data directories checked (a path that cannot
 * be created fails here, with file:line, before anything starts; at a reload, before the new chain opens
 * its stores, so the running configuration is kept), the detected milters added when `detect = true`.
 */
export function readyToServe(loaded: LoadedConfig): LoadedConfig {
  const problem = checkManagerSocket(loaded) ?? checkDataDirectories(loaded);
  if (problem) throw problem;
  return withDetectedChildren(loaded);
}

export class FilterFront {
  private constructor(
    /** The chain every session opens: the SMTP server's and the milter listener's alike. */
    readonly chain: ReloadableChain,
    /** The milter listener; undefined when `mailgate start`'s file has no [manager] section. */
    readonly server: MilterServer | undefined,
    private readonly stress: PostfixStress,
    private readonly env: { stressThreshold: () => number },
    private readonly logger: Logger,
  ) {}

  /** Builds the chain from `loaded` and, unless `listen` is false, listens on [manager] connection_spec. */
  static async start(loaded: LoadedConfig, logger: Logger, listen = true): Promise<FilterFront> {
    // As milter-manager does behind Postfix: stressed at 3/4 of smtpd's process limit, unless [stress]
    // says otherwise. Learnt in the background (postconf may take seconds) and read at each connect.
    const stress = new PostfixStress(logger);
    const env = { stressThreshold: () => stress.threshold };
    // Only the built-in filters named are loaded (each costs megabytes); loaded first, so that building is synchronous.
    await loadConfiguredFilters(loaded.config);
    const chain = new ReloadableChain(chainFromConfig(loaded.config, logger, env));
    const m = loaded.config.manager;
    if (!listen) return new FilterFront(chain, undefined, stress, env, logger);
    const server = new MilterServer(chain, {
      logger,
      mode: m.unixSocketMode,
      maxConnections: m.maxConnections,
      timeout: m.mtaTimeout,
      ...(m.unixSocketGroup !== undefined ? { group: m.unixSocketGroup } : {}),
    });
    const front = new FilterFront(chain, server, stress, env, logger);
    front.learnStress(loaded.config);
    try {
      await server.listen(m.connectionSpec);
    } catch (err) {
      await chain.chain.dispose();
      await stress.stop();
      throw err;
    }
    return front;
  }

  /** The children's names, in order. */
  get children(): string[] {
    return this.chain.chain.children.map((c) => c.name);
  }

  /** New sessions use a chain built from `next`; rejects (the running chain stays) when it cannot be built. */
  async reload(next: LoadedConfig, running: MailgateConfig): Promise<void> {
    await loadConfiguredFilters(next.config);
    if (next.config.manager.connectionSpec !== running.manager.connectionSpec) {
      this.logger.warn('connection_spec changed: it takes effect at the next restart');
    }
    this.learnStress(next.config);
    this.chain.replace(chainFromConfig(next.config, this.logger, this.env));
  }

  /**
   * Stops listening and lets the MTA sessions in flight finish (the server's drain timeout); the chain stays
   * for whoever still uses it (`mailgate start`'s SMTP sessions draining at the same time). close() ends it.
   */
  async stopListening(): Promise<void> {
    await this.server?.close();
  }

  /** Stops listening, lets the MTA sessions in flight finish (the server's drain timeout), ends the chain. */
  async close(): Promise<void> {
    await this.server?.close();
    await this.chain.chain.dispose();
    await this.stress.stop();
  }

  private learnStress(config: MailgateConfig): void {
    if (config.stress.threshold === undefined) this.stress.refresh();
  }
}
