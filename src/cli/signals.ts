/**
 * The signals of a long-running command (`mailgate manager`, `mailgate start`), as systemd sends them:
 * SIGHUP reloads, SIGTERM (or Ctrl-C's SIGINT) stops cleanly. A second SIGTERM/SIGINT while stopping
 * exits at once: whoever sends it twice does not want to wait for the drain.
 */
import { ConfigError } from '../config/errors.js';
import type { Logger } from '../mail/logger.js';

export interface SignalHandlers {
  readonly logger: Logger;
  readonly reload: () => void;
  /** Stops everything; resolves when done. Called once. */
  readonly stop: (signal: string) => Promise<void>;
}

/**
 * Installs the handlers and returns at once; the promise it gives resolves when stop() has finished
 * (the SIGHUP handler is removed by then).
 */
export function handleSignals(handlers: SignalHandlers): Promise<void> {
  const { logger, reload } = handlers;
  return new Promise<void>((resolve) => {
    let stopping = false;
    const onStop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second stop signal: exiting without waiting for the drain');
        process.exit(1);
      }
      stopping = true;
      void handlers
        .stop(signal)
        .catch((err: unknown) => logger.error({ err: (err as Error).message }, 'error while stopping'))
        .then(() => {
          process.off('SIGHUP', reload);
          process.off('SIGTERM', onStop);
          process.off('SIGINT', onStop);
          resolve();
        });
    };
    process.on('SIGHUP', reload);
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
  });
}

/**
 * SIGHUP's handler for `reloadOnce`: reloads run one after another (a chain's modules load asynchronously,
 * so a second SIGHUP must wait for the first), and a reload that fails is logged with file:line and the
 * running configuration kept: a broken file never takes a running server down.
 */
export function serialReload(logger: Logger, reloadOnce: () => Promise<void>): () => void {
  let reloading = Promise.resolve();
  const once = async (): Promise<void> => {
    try {
      await reloadOnce();
    } catch (err) {
      logger.error({ err: err instanceof ConfigError ? err.toString() : (err as Error).message }, 'reload failed; keeping the running configuration');
    }
  };
  return () => {
    reloading = reloading.then(once);
  };
}
